package slack

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
)

// responseURLLifetime is how long Slack accepts posts to a response_url.
const responseURLLifetime = 30 * time.Minute

// ErrInvalidHandle is returned when an interaction handle or message
// reference was not made by this adapter (or by one with another bot token),
// or has expired.
var ErrInvalidHandle = errors.New("slack: invalid or expired interaction handle")

// interaction is what the adapter needs to answer a slash command or
// shortcut. It travels sealed (Event.Interaction, MessageRef.Extra), because
// ResponseURL is a capability: anyone holding it can post to the channel for
// 30 minutes.
type interaction struct {
	ResponseURL  string `json:"u,omitempty"`
	Team         string `json:"w,omitempty"`
	Channel      string `json:"c,omitempty"`
	User         string `json:"p,omitempty"`
	Thread       string `json:"t,omitempty"`
	ResponseType string `json:"y,omitempty"` // for response_url messages: ephemeral | in_channel
	Expires      int64  `json:"e"`           // unix seconds
}

// sealer encrypts handles with AES-GCM under a key derived from the bot
// token, so that any replica with the same token can open them and nobody
// without it can read or forge them.
type sealer struct{ aead cipher.AEAD }

const sealPrefix = "h1."

func newSealer(botToken string) (*sealer, error) {
	mac := hmac.New(sha256.New, []byte(botToken))
	mac.Write([]byte("secondme-bridge/slack/interaction-handle/v1"))
	block, err := aes.NewCipher(mac.Sum(nil))
	if err != nil {
		return nil, fmt.Errorf("init handle cipher: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("init handle cipher: %w", err)
	}
	return &sealer{aead: aead}, nil
}

func (s *sealer) seal(in interaction) (string, error) {
	plain, err := json.Marshal(in)
	if err != nil {
		return "", fmt.Errorf("seal interaction: %w", err)
	}
	nonce := make([]byte, s.aead.NonceSize(), s.aead.NonceSize()+len(plain)+s.aead.Overhead())
	if _, err := rand.Read(nonce); err != nil {
		return "", fmt.Errorf("seal interaction: %w", err)
	}
	return sealPrefix + base64.RawURLEncoding.EncodeToString(s.aead.Seal(nonce, nonce, plain, nil)), nil
}

func (s *sealer) open(h string, now time.Time) (interaction, error) {
	raw, ok := strings.CutPrefix(h, sealPrefix)
	if !ok {
		return interaction{}, ErrInvalidHandle
	}
	data, err := base64.RawURLEncoding.DecodeString(raw)
	if err != nil || len(data) < s.aead.NonceSize() {
		return interaction{}, ErrInvalidHandle
	}
	plain, err := s.aead.Open(nil, data[:s.aead.NonceSize()], data[s.aead.NonceSize():], nil)
	if err != nil {
		return interaction{}, ErrInvalidHandle
	}
	var in interaction
	if json.Unmarshal(plain, &in) != nil || now.Unix() > in.Expires {
		return interaction{}, ErrInvalidHandle
	}
	return in, nil
}

// budgetID is a short, stable, non-secret name for a sealed handle.
func budgetID(h string) string {
	sum := sha256.Sum256([]byte(h))
	return base64.RawURLEncoding.EncodeToString(sum[:9])
}
