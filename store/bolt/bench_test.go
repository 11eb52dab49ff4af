package bolt_test

import (
	"strconv"
	"sync/atomic"
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

// BenchmarkClaimParallel claims from 16 goroutines at once: what a busy
// bridge does as events arrive (concurrent claims share one fsync when
// they are batched).
func BenchmarkClaimParallel(b *testing.B) {
	s, ctx := benchStore(b), b.Context()
	var n atomic.Int64
	b.SetParallelism(8) // × GOMAXPROCS goroutines
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := s.Claim(ctx, strconv.FormatInt(n.Add(1), 10), time.Minute); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

// BenchmarkReserveParallel reserves a channel's and the bot's budget from
// many goroutines at once, as streaming updates do.
func BenchmarkReserveParallel(b *testing.B) {
	s, ctx := benchStore(b), b.Context()
	var n atomic.Int64
	bot := store.Bucket{Key: "bot", Limit: store.Limit{Rate: 1e9, Burst: 1 << 30}}
	b.SetParallelism(8)
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			ch := store.Bucket{Key: "chan:" + strconv.FormatInt(n.Add(1)%64, 10), Limit: store.Limit{Rate: 1e9, Burst: 1 << 30}}
			if _, err := s.Budgets().Reserve(ctx, []store.Bucket{ch, bot}, 0); err != nil {
				b.Error(err)
				return
			}
		}
	})
}
