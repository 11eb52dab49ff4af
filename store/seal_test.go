package store_test

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"github.com/secondme-bridge/secondme-bridge/store"
)

func testKey(b byte) []byte { return bytes.Repeat([]byte{b}, store.KeySize) }

func TestNewSealerKeyLength(t *testing.T) {
	t.Parallel()
	for _, n := range []int{0, 16, 31, 33, 64} {
		if _, err := store.NewSealer(make([]byte, n)); err == nil {
			t.Errorf("NewSealer(%d bytes) = nil error, want error", n)
		} else if !strings.Contains(err.Error(), fmt.Sprintf("%d bytes", n)) {
			t.Errorf("NewSealer(%d bytes) error %q does not name the length", n, err)
		}
	}
	if _, err := store.NewSealer(testKey(1)); err != nil {
		t.Fatalf("NewSealer(32 bytes): %v", err)
	}
}

func TestParseKey(t *testing.T) {
	t.Parallel()
	key := []byte("0123456789abcdef0123456789abcd\xfb\xff") // has '+/' vs '-_' in base64
	tests := []struct {
		name    string
		in      string
		wantErr string
	}{
		{name: "std", in: base64.StdEncoding.EncodeToString(key)},
		{name: "raw std", in: base64.RawStdEncoding.EncodeToString(key)},
		{name: "url", in: base64.URLEncoding.EncodeToString(key)},
		{name: "raw url", in: base64.RawURLEncoding.EncodeToString(key)},
		{name: "spaces", in: "  " + base64.StdEncoding.EncodeToString(key) + "\n"},
		{name: "empty", in: " ", wantErr: "empty"},
		{name: "short", in: base64.StdEncoding.EncodeToString(key[:16]), wantErr: "decoded to 16 bytes, want 32"},
		{name: "long", in: base64.StdEncoding.EncodeToString(append(key, 1)), wantErr: "decoded to 33 bytes, want 32"},
		{name: "not base64", in: "not a key!", wantErr: "not base64"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := store.ParseKey(tt.in)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("ParseKey(%q) error = %v, want containing %q", tt.in, err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseKey(%q): %v", tt.in, err)
			}
			if !bytes.Equal(got, key) {
				t.Fatalf("ParseKey(%q) = %x, want %x", tt.in, got, key)
			}
		})
	}
}

func TestSealOpen(t *testing.T) {
	t.Parallel()
	s, err := store.NewSealer(testKey(7))
	if err != nil {
		t.Fatal(err)
	}
	other, err := store.NewSealer(testKey(8))
	if err != nil {
		t.Fatal(err)
	}
	plain := []byte("access-token-value")
	aad := []byte("discord::42")
	c1, err := s.Seal(plain, aad)
	if err != nil {
		t.Fatal(err)
	}
	c2, err := s.Seal(plain, aad)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Equal(c1, c2) {
		t.Error("two seals of the same value are equal; the nonce is not random")
	}
	if bytes.Contains(c1, plain) {
		t.Error("sealed value contains the plaintext")
	}
	if c1[0] != 1 {
		t.Errorf("version byte = %d, want 1", c1[0])
	}
	got, err := s.Open(c1, aad)
	if err != nil || !bytes.Equal(got, plain) {
		t.Fatalf("Open = %q, %v; want %q", got, err, plain)
	}

	tampered := bytes.Clone(c1)
	tampered[len(tampered)-1] ^= 1
	badVersion := bytes.Clone(c1)
	badVersion[0] = 9
	failures := map[string]func() ([]byte, error){
		"other aad":   func() ([]byte, error) { return s.Open(c1, []byte("discord::43")) },
		"other key":   func() ([]byte, error) { return other.Open(c1, aad) },
		"tampered":    func() ([]byte, error) { return s.Open(tampered, aad) },
		"truncated":   func() ([]byte, error) { return s.Open(c1[:10], aad) },
		"bad version": func() ([]byte, error) { return s.Open(badVersion, aad) },
		"empty":       func() ([]byte, error) { return s.Open(nil, aad) },
	}
	for name, open := range failures {
		if _, err := open(); !errors.Is(err, store.ErrUnseal) {
			t.Errorf("%s: Open error = %v, want ErrUnseal", name, err)
		}
	}
}

func TestSealerDoesNotPrintKey(t *testing.T) {
	t.Parallel()
	key := testKey('k')
	s, err := store.NewSealer(key)
	if err != nil {
		t.Fatal(err)
	}
	const want = "aes-256-gcm"
	var logged bytes.Buffer
	slog.New(slog.NewTextHandler(&logged, nil)).Info("sealer", "s", s)
	for verb, got := range map[string]string{
		"Sprint": fmt.Sprint(s), "%v": fmt.Sprintf("%v", s), "%+v": fmt.Sprintf("%+v", s),
		"%s": fmt.Sprintf("%s", s), "LogValue": s.LogValue().String(),
	} {
		if got != want {
			t.Errorf("%s of a sealer = %q, want %q", verb, got, want)
		}
	}
	if !strings.Contains(logged.String(), " s="+want+"\n") {
		t.Errorf("logged sealer = %q, want s=%s", logged.String(), want)
	}
	// The key in every form it could leak in, searched for in every output,
	// including %#v, which bypasses String.
	leaks := []string{
		string(key[:8]), base64.StdEncoding.EncodeToString(key)[:12], hex.EncodeToString(key[:8]),
		strings.Trim(fmt.Sprint(key[:8]), "[]"),
	}
	for _, out := range []string{fmt.Sprintf("%#v", s), fmt.Sprintf("%x", s), fmt.Sprintf("%d", s), logged.String()} {
		for _, leak := range leaks {
			if strings.Contains(out, leak) {
				t.Errorf("formatted sealer %q contains key material %q", out, leak)
			}
		}
	}
}
