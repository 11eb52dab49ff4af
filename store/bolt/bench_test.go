package bolt_test

import (
	"strconv"
	"testing"
	"time"

	"github.com/secondme-bridge/secondme-bridge/store"
	"github.com/secondme-bridge/secondme-bridge/store/bolt"
	"github.com/secondme-bridge/secondme-bridge/store/storetest"
)

func benchStore(b *testing.B) *bolt.Store {
	b.Helper()
	return storetest.Open(b, storetest.Bolt).(*bolt.Store)
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

// BenchmarkCancelRequested measures the stop poll of a streaming reply
// (one read transaction).
func BenchmarkCancelRequested(b *testing.B) {
	s, ctx := benchStore(b), b.Context()
	for b.Loop() {
		if on, err := s.Cancels().Requested(ctx, "bench-running"); err != nil || on {
			b.Fatal(on, err)
		}
	}
}
