package redis_test

import (
	"testing"
	"time"

	"github.com/secondme-bridge/secondme-bridge/store"
	"github.com/secondme-bridge/secondme-bridge/store/redis"
	"github.com/secondme-bridge/secondme-bridge/store/storetest"
)

func benchStore(b *testing.B) *redis.Store {
	b.Helper()
	return storetest.Open(b, storetest.Redis).(*redis.Store)
}

// BenchmarkTake measures one Lua token-bucket round trip. Keys expire
// when the bucket is full again (1s).
func BenchmarkTake(b *testing.B) {
	s, ctx := benchStore(b), b.Context()
	l := store.Limit{Rate: 1e9, Burst: 1 << 30}
	for b.Loop() {
		if _, _, err := s.Take(ctx, "bench", l, 1); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkReserve measures a reservation from two buckets at once (a
// Discord update: the channel's and the bot's), one script.
func BenchmarkReserve(b *testing.B) {
	s, ctx := benchStore(b), b.Context()
	l := store.Limit{Rate: 1e9, Burst: 1 << 30}
	buckets := []store.Bucket{{Key: "bench:channel", Limit: l}, {Key: "bench:bot", Limit: l}}
	for b.Loop() {
		g, err := s.Reserve(ctx, buckets, 100*time.Millisecond)
		if err != nil || !g.OK {
			b.Fatal(g, err)
		}
	}
}

// BenchmarkAcquireRelease measures a lock hand-over (two scripts).
func BenchmarkAcquireRelease(b *testing.B) {
	s, ctx := benchStore(b), b.Context()
	for b.Loop() {
		l, err := s.Acquire(ctx, "bench", "o", time.Second)
		if err != nil {
			b.Fatal(err)
		}
		if err := s.Release(ctx, l); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkCancelRequested measures the poll a streaming replica makes at
// most every 250 ms per live reply (one EXISTS), against a
// BenchmarkTake-sized Lua round trip for scale.
func BenchmarkCancelRequested(b *testing.B) {
	s, ctx := benchStore(b), b.Context()
	if _, err := s.Cancels().Request(ctx, "bench-stopped", time.Minute); err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if on, err := s.Cancels().Requested(ctx, "bench-running"); err != nil || on {
			b.Fatal(on, err)
		}
	}
}
