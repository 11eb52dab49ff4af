package store

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
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
// A Sealer is safe for concurrent use. It never prints its keys: String
// and LogValue return the algorithm name only.
//
// Key rotation: a Sealer has one current key, which seals, and any number
// of previous keys (store.previous_encryption_keys), which only open. A
// value opened with a previous key is sealed under the current key the
// next time its record is written (every write seals anew), or at once by
// `secondme-bridge rekey`. The keyed hashes of one-time ids (HashID) are
// likewise made with the current key and looked up under every key.
type Sealer struct {
	aead cipher.AEAD   // the current key
	prev []cipher.AEAD // previous keys, tried in order after the current one
	// hashKeys are the id-hash keys derived from the current key (first)
	// and from each previous key.
	hashKeys [][]byte
}

// NewSealer returns a Sealer whose current key is key and which also opens
// values sealed under any of previous. Every key must be exactly KeySize
// (32) bytes; a previous key equal to the current one is ignored. The keys
// are not retained beyond the ciphers' key schedules and the derived id-hash
// keys.
func NewSealer(key []byte, previous ...[]byte) (*Sealer, error) {
	aead, err := newAEAD(key)
	if err != nil {
		return nil, fmt.Errorf("new sealer: %w", err)
	}
	s := &Sealer{aead: aead, hashKeys: [][]byte{hashKey(key)}}
	for i, k := range previous {
		if hmac.Equal(k, key) {
			continue
		}
		a, err := newAEAD(k)
		if err != nil {
			return nil, fmt.Errorf("new sealer: previous key %d: %w", i+1, err)
		}
		s.prev = append(s.prev, a)
		s.hashKeys = append(s.hashKeys, hashKey(k))
	}
	return s, nil
}

func newAEAD(key []byte) (cipher.AEAD, error) {
	if len(key) != KeySize {
		return nil, fmt.Errorf("key is %d bytes, want %d", len(key), KeySize)
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(block)
}

// hashKey derives the key of HashID from an encryption key, so that the
// encryption key itself is never used for two purposes.
func hashKey(key []byte) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte("secondme-bridge/id-hash/v1"))
	return m.Sum(nil)
}

// HashID returns the keyed hash (HMAC-SHA256 under a key derived from the
// current encryption key, unpadded base64url) under which a secret id (a
// one-time link id, an OAuth state) is stored: the store never holds the
// id itself, so a copy of the store cannot be used to finish someone's
// link, and without the key the hash cannot be recomputed from a guess.
func (s *Sealer) HashID(id string) string { return hashWith(s.hashKeys[0], id) }

// HashIDs returns HashID(id) under the current key first, then under each
// previous key: where to look for an id stored before a key change.
func (s *Sealer) HashIDs(id string) []string {
	out := make([]string, len(s.hashKeys))
	for i, k := range s.hashKeys {
		out[i] = hashWith(k, id)
	}
	return out
}

func hashWith(key []byte, id string) string {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(id))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
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

// Open decrypts a value made by Seal with the same aad, under the current
// key or any previous one. Every failure (no key opens it, wrong aad,
// truncation, tampering, unknown version) wraps ErrUnseal.
func (s *Sealer) Open(ciphertext, aad []byte) ([]byte, error) {
	plain, _, err := s.OpenKey(ciphertext, aad)
	return plain, err
}

// OpenKey is Open that also reports whether the value was sealed under the
// current key (false: a previous key opened it, and the value should be
// sealed again).
func (s *Sealer) OpenKey(ciphertext, aad []byte) (plain []byte, current bool, err error) {
	if s == nil || s.aead == nil {
		return nil, false, errors.New("open sealed value: nil sealer")
	}
	if len(ciphertext) < 1+nonceSize+s.aead.Overhead() {
		return nil, false, fmt.Errorf("open sealed value: %d bytes is too short: %w", len(ciphertext), ErrUnseal)
	}
	if v := ciphertext[0]; v != sealVersion {
		return nil, false, fmt.Errorf("open sealed value: unknown format version %d: %w", v, ErrUnseal)
	}
	nonce := ciphertext[1 : 1+nonceSize]
	if plain, err := s.aead.Open(nil, nonce, ciphertext[1+nonceSize:], aad); err == nil {
		return plain, true, nil
	}
	for _, a := range s.prev {
		if plain, err := a.Open(nil, nonce, ciphertext[1+nonceSize:], aad); err == nil {
			return plain, false, nil
		}
	}
	return nil, false, fmt.Errorf("open sealed value: %w", ErrUnseal)
}

// String returns the algorithm name, never the key.
func (s *Sealer) String() string { return "aes-256-gcm" }

// LogValue implements slog.LogValuer without revealing the key.
func (s *Sealer) LogValue() slog.Value { return slog.StringValue(s.String()) }
