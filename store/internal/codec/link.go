package codec

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/secondme-bridge/secondme-bridge/store"
)

// linkRecord is a store.Link at rest. AccessToken and RefreshToken hold
// sealed bytes (base64 in JSON); an empty token is stored as absent.
type linkRecord struct {
	Key             store.UserKey `json:"key"`
	SecondMeUserID  string        `json:"secondme_user_id"`
	AppScopedUserID string        `json:"app_scoped_user_id,omitempty"`
	Name            string        `json:"name,omitempty"`
	AvatarURL       string        `json:"avatar_url,omitempty"`
	AccessToken     []byte        `json:"access_token_sealed,omitempty"`
	RefreshToken    []byte        `json:"refresh_token_sealed,omitempty"`
	TokenType       string        `json:"token_type,omitempty"`
	Expiry          time.Time     `json:"expiry"`
	Scopes          []string      `json:"scopes"`
	Broken          bool          `json:"broken,omitempty"`
	CreatedAt       time.Time     `json:"created_at"`
	UpdatedAt       time.Time     `json:"updated_at"`
}

// tokenAAD binds a sealed token to its user and to its field, so a token
// can be moved neither to another user nor from refresh to access.
func tokenAAD(k store.UserKey, field string) []byte {
	return []byte("secondme-bridge/link-token/v1\x00" + User(k) + "\x00" + field)
}

// EncodeLink encodes l for storage under l.Key, sealing its tokens.
func EncodeLink(s *store.Sealer, l store.Link) ([]byte, error) {
	if s == nil {
		return nil, errors.New("encode link: nil sealer")
	}
	rec := linkRecord{
		Key: l.Key, SecondMeUserID: l.SecondMeUserID, AppScopedUserID: l.AppScopedUserID,
		Name: l.Name, AvatarURL: l.AvatarURL, TokenType: l.Token.TokenType,
		Expiry: l.Token.Expiry, Scopes: l.Token.Scopes, Broken: l.Broken,
		CreatedAt: l.CreatedAt, UpdatedAt: l.UpdatedAt,
	}
	var err error
	if rec.AccessToken, err = sealToken(s, l.Key, "access", l.Token.AccessToken); err != nil {
		return nil, fmt.Errorf("encode link: %w", err)
	}
	if rec.RefreshToken, err = sealToken(s, l.Key, "refresh", l.Token.RefreshToken); err != nil {
		return nil, fmt.Errorf("encode link: %w", err)
	}
	data, err := json.Marshal(rec)
	if err != nil {
		return nil, fmt.Errorf("encode link: %w", err)
	}
	return data, nil
}

// DecodeLink decodes a link stored under key into *l (zeroed on an
// error). The tokens open only if they were sealed for key; otherwise the
// error wraps store.ErrUnseal. It writes through l rather than return a
// Link so that no frame between a turn's start and the JSON decoder holds
// a copy of one (a conversation's worker decodes its user's link: see
// store.Turns.Begin).
func DecodeLink(l *store.Link, s *store.Sealer, key store.UserKey, data []byte) error {
	*l = store.Link{}
	if s == nil {
		return errors.New("decode link: nil sealer")
	}
	var rec linkRecord
	if err := json.Unmarshal(data, &rec); err != nil {
		return fmt.Errorf("decode link: %w", err)
	}
	access, err := openToken(s, key, "access", rec.AccessToken)
	if err != nil {
		return fmt.Errorf("decode link: %w", err)
	}
	refresh, err := openToken(s, key, "refresh", rec.RefreshToken)
	if err != nil {
		return fmt.Errorf("decode link: %w", err)
	}
	*l = store.Link{
		Key: key, SecondMeUserID: rec.SecondMeUserID, AppScopedUserID: rec.AppScopedUserID,
		Name: rec.Name, AvatarURL: rec.AvatarURL,
		Token: store.Token{
			AccessToken: access, RefreshToken: refresh, TokenType: rec.TokenType,
			Expiry: rec.Expiry, Scopes: rec.Scopes,
		},
		Broken: rec.Broken, CreatedAt: rec.CreatedAt, UpdatedAt: rec.UpdatedAt,
	}
	return nil
}

func sealToken(s *store.Sealer, k store.UserKey, field, tok string) ([]byte, error) {
	if tok == "" {
		return nil, nil
	}
	return s.Seal([]byte(tok), tokenAAD(k, field))
}

func openToken(s *store.Sealer, k store.UserKey, field string, sealed []byte) (string, error) {
	if len(sealed) == 0 {
		return "", nil
	}
	plain, err := s.Open(sealed, tokenAAD(k, field))
	if err != nil {
		return "", fmt.Errorf("%s token: %w", field, err)
	}
	return string(plain), nil
}
