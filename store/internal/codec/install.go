package codec

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/secondme-bridge/secondme-bridge/store"
)

// installRecord is a store.Install at rest; the tokens hold sealed bytes.
type installRecord struct {
	BotUserID    string    `json:"bot_user_id,omitempty"`
	AccessToken  []byte    `json:"access_token_sealed,omitempty"`
	RefreshToken []byte    `json:"refresh_token_sealed,omitempty"`
	TokenType    string    `json:"token_type,omitempty"`
	Expiry       time.Time `json:"expiry"`
	Scopes       []string  `json:"scopes"`
	InstalledBy  string    `json:"installed_by,omitempty"`
	CreatedAt    time.Time `json:"created_at"`
	UpdatedAt    time.Time `json:"updated_at"`
}

// InstallKey is the storage key of an install ("slack/T1", parts encoded).
func InstallKey(platform, workspace string) string { return Part(platform) + "/" + Part(workspace) }

// installAAD binds a sealed install token to its workspace and field.
func installAAD(platform, workspace, field string) []byte {
	return []byte("secondme-bridge/install-token/v1\x00" + InstallKey(platform, workspace) + "\x00" + field)
}

// CheckInstall reports a missing platform or workspace.
func CheckInstall(platform, workspace string) error {
	if platform == "" || workspace == "" {
		return errors.New("install needs a platform and a workspace")
	}
	return nil
}

// EncodeInstall encodes in, sealing its tokens.
func EncodeInstall(s *store.Sealer, in store.Install) ([]byte, error) {
	if s == nil {
		return nil, errors.New("encode install: nil sealer")
	}
	if err := CheckInstall(in.Platform, in.Workspace); err != nil {
		return nil, fmt.Errorf("encode install: %w", err)
	}
	rec := installRecord{
		BotUserID: in.BotUserID, TokenType: in.Token.TokenType, Expiry: in.Token.Expiry, Scopes: in.Token.Scopes,
		InstalledBy: in.InstalledBy, CreatedAt: in.CreatedAt, UpdatedAt: in.UpdatedAt,
	}
	seal := func(field, tok string) ([]byte, error) {
		if tok == "" {
			return nil, nil
		}
		return s.Seal([]byte(tok), installAAD(in.Platform, in.Workspace, field))
	}
	var err error
	if rec.AccessToken, err = seal("access", in.Token.AccessToken); err != nil {
		return nil, fmt.Errorf("encode install: %w", err)
	}
	if rec.RefreshToken, err = seal("refresh", in.Token.RefreshToken); err != nil {
		return nil, fmt.Errorf("encode install: %w", err)
	}
	data, err := json.Marshal(rec)
	if err != nil {
		return nil, fmt.Errorf("encode install: %w", err)
	}
	return data, nil
}

// DecodeInstall decodes the install of platform/workspace; tokens sealed
// for another workspace do not open (the error wraps store.ErrUnseal).
func DecodeInstall(s *store.Sealer, platform, workspace string, data []byte) (store.Install, error) {
	if s == nil {
		return store.Install{}, errors.New("decode install: nil sealer")
	}
	var rec installRecord
	if err := json.Unmarshal(data, &rec); err != nil {
		return store.Install{}, fmt.Errorf("decode install: %w", err)
	}
	open := func(field string, sealed []byte) (string, error) {
		if len(sealed) == 0 {
			return "", nil
		}
		plain, err := s.Open(sealed, installAAD(platform, workspace, field))
		if err != nil {
			return "", fmt.Errorf("decode install: %s token: %w", field, err)
		}
		return string(plain), nil
	}
	access, err := open("access", rec.AccessToken)
	if err != nil {
		return store.Install{}, err
	}
	refresh, err := open("refresh", rec.RefreshToken)
	if err != nil {
		return store.Install{}, err
	}
	return store.Install{
		Platform: platform, Workspace: workspace, BotUserID: rec.BotUserID,
		Token: store.Token{
			AccessToken: access, RefreshToken: refresh, TokenType: rec.TokenType,
			Expiry: rec.Expiry, Scopes: rec.Scopes,
		},
		InstalledBy: rec.InstalledBy, CreatedAt: rec.CreatedAt, UpdatedAt: rec.UpdatedAt,
	}, nil
}
