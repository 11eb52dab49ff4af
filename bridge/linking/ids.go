package linking

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
)

// Key prefixes in store.States.
const (
	linkPrefix  = "link:"
	statePrefix = "state:"
)

// idBytes random bytes make one link id or OAuth state (256 bits).
const idBytes = 32

// idLen is the length of an id: idBytes in unpadded base64url.
var idLen = base64.RawURLEncoding.EncodedLen(idBytes)

// randomID returns idBytes from crypto/rand as unpadded base64url.
func randomID() (string, error) {
	b := make([]byte, idBytes)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("read random id: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// validID reports whether s could have come from randomID. Anything else is
// rejected before it reaches the store.
func validID(s string) bool {
	if len(s) != idLen {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'A' && c <= 'Z', c >= 'a' && c <= 'z', c >= '0' && c <= '9', c == '-', c == '_':
		default:
			return false
		}
	}
	return true
}

// shortHash is what logs carry instead of a secret: the first 8 hex digits of
// its SHA-256, enough to correlate log lines, useless to an attacker.
func shortHash(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:4])
}
