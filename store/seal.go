package store

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"strings"
)

// KeySize is the length of an encryption key: AES-256 takes 32 bytes.
const KeySize = 32

// sealVersion is the first byte of every sealed value. A later format (new
// cipher, key rotation with a key id) gets a new version byte.
const sealVersion byte = 1

// nonceSize is the AES-GCM standard nonce length.
const nonceSize = 12

// ErrUnseal is returned (wrapped) when a sealed value cannot be decrypted:
// it was sealed under another key (store.encryption_key changed), bound to
// other additional data (copied between users), truncated or tampered with.
var ErrUnseal = errors.New("store: cannot decrypt sealed value (wrong encryption key or tampered data)")

// Sealer encrypts values at rest with AES-256-GCM. A sealed value is
//
//	version (1 byte, 0x01) || nonce (12 random bytes) || ciphertext+tag
//
// The additional data (aad) is authenticated but not stored: backends pass
// the owner's key, so a ciphertext copied to another user fails to open.
// A Sealer is safe for concurrent use. It never prints its key: String and
// LogValue return the algorithm name only.
type Sealer struct {
	aead cipher.AEAD
}

// NewSealer returns a Sealer for key, which must be exactly KeySize (32)
// bytes. The key is not retained beyond the cipher's own key schedule.
func NewSealer(key []byte) (*Sealer, error) {
	if len(key) != KeySize {
		return nil, fmt.Errorf("new sealer: key is %d bytes, want %d", len(key), KeySize)
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("new sealer: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("new sealer: %w", err)
	}
	return &Sealer{aead: aead}, nil
}

// ParseKey decodes an encryption key given as base64 (standard or URL
// alphabet, padded or not; surrounding spaces are ignored) and checks that
// it is KeySize bytes. Errors never contain the key. Generate a key with
// `openssl rand -base64 32`.
func ParseKey(b64 string) ([]byte, error) {
	s := strings.TrimSpace(b64)
	if s == "" {
		return nil, errors.New("parse encryption key: empty (want base64 of 32 bytes)")
	}
	encs := []*base64.Encoding{
		base64.StdEncoding, base64.RawStdEncoding,
		base64.URLEncoding, base64.RawURLEncoding,
	}
	var firstErr error
	for _, enc := range encs {
		key, err := enc.DecodeString(s)
		if err != nil {
			if firstErr == nil {
				firstErr = err
			}
			continue
		}
		if len(key) != KeySize {
			return nil, fmt.Errorf("parse encryption key: decoded to %d bytes, want %d", len(key), KeySize)
		}
		return key, nil
	}
	return nil, fmt.Errorf("parse encryption key: not base64 (want base64 of 32 bytes): %w", firstErr)
}

// Seal encrypts plaintext bound to aad and returns a new sealed value.
func (s *Sealer) Seal(plaintext, aad []byte) ([]byte, error) {
	if s == nil || s.aead == nil {
		return nil, errors.New("seal value: nil sealer")
	}
	out := make([]byte, 1+nonceSize, 1+nonceSize+len(plaintext)+s.aead.Overhead())
	out[0] = sealVersion
	if _, err := rand.Read(out[1 : 1+nonceSize]); err != nil {
		return nil, fmt.Errorf("seal value: read nonce: %w", err)
	}
	return s.aead.Seal(out, out[1:1+nonceSize], plaintext, aad), nil
}

// Open decrypts a value made by Seal with the same aad. Every failure
// (wrong key, wrong aad, truncation, tampering, unknown version) wraps
// ErrUnseal.
func (s *Sealer) Open(ciphertext, aad []byte) ([]byte, error) {
	if s == nil || s.aead == nil {
		return nil, errors.New("open sealed value: nil sealer")
	}
	if len(ciphertext) < 1+nonceSize+s.aead.Overhead() {
		return nil, fmt.Errorf("open sealed value: %d bytes is too short: %w", len(ciphertext), ErrUnseal)
	}
	if v := ciphertext[0]; v != sealVersion {
		return nil, fmt.Errorf("open sealed value: unknown format version %d: %w", v, ErrUnseal)
	}
	nonce := ciphertext[1 : 1+nonceSize]
	plain, err := s.aead.Open(nil, nonce, ciphertext[1+nonceSize:], aad)
	if err != nil {
		return nil, fmt.Errorf("open sealed value: %w", ErrUnseal)
	}
	return plain, nil
}

// String returns the algorithm name, never the key.
func (s *Sealer) String() string { return "aes-256-gcm" }

// LogValue implements slog.LogValuer without revealing the key.
func (s *Sealer) LogValue() slog.Value { return slog.StringValue(s.String()) }
