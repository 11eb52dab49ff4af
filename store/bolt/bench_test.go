package bolt_test

import (
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/secondme-bridge/secondme-bridge/store"
	"github.com/secondme-bridge/secondme-bridge/store/bolt"
)

func benchStore(b *testing.B) *bolt.Store {
	b.Helper()
	sealer, err := store.NewSealer(make([]byte, store.KeySize))
	if err != nil {
		b.Fatal(err)
	}
	s, err := bolt.Open(filepath.Join(b.TempDir(), "bench.db"), sealer, bolt.Options{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = s.Close() })
	return s
}

// BenchmarkClaim measures one durable write transaction (fsync included).
func BenchmarkClaim(b *testing.B) {
	s, ctx := benchStore(b), b.Context()
	i := 0
	for b.Loop() {
		i++
		if _, err := s.Claim(ctx, strconv.Itoa(i), time.Minute); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkGetLink measures a read with two token decryptions.
func BenchmarkGetLink(b *testing.B) {
	s, ctx := benchStore(b), b.Context()
	k := store.UserKey{Platform: "discord", User: "1"}
	if err := s.PutLink(ctx, store.Link{Key: k, Token: store.Token{AccessToken: "a", RefreshToken: "r"}}); err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, err := s.GetLink(ctx, k); err != nil {
			b.Fatal(err)
		}
	}
}
