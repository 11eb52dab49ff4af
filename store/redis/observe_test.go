package redis_test

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/secondme-bridge/secondme-bridge/internal/testutil"
	"github.com/secondme-bridge/secondme-bridge/store"
	"github.com/secondme-bridge/secondme-bridge/store/redis"
	"github.com/secondme-bridge/secondme-bridge/store/storetest"
)

// observed records what an Observer was told.
type observed struct {
	mu  sync.Mutex
	ops []string // "op" or "op!" for a failure
}

func (o *observed) observe(op string, took time.Duration, err error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if took < 0 {
		op += "?negative"
	}
	if err != nil {
		op += "!"
	}
	o.ops = append(o.ops, op)
}

func (o *observed) snapshot() []string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return append([]string(nil), o.ops...)
}

// TestObserveRoundTrips: every command reaches the Observer by name; a
// missing key is no failure; a server that is gone is one.
func TestObserveRoundTrips(t *testing.T) {
	t.Parallel()
	var o observed
	b := storetest.NewBackend(t, storetest.Redis, storetest.Options{})
	s, err := redis.Open(t.Context(), b.URL, b.Sealer, redis.Options{KeyPrefix: b.Prefix, Logger: testutil.Logger(t, slog.LevelDebug), Observe: o.observe})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if _, err := s.Links().GetLink(ctx, store.UserKey{Platform: "discord", User: "u-missing"}); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("GetLink of a missing user = %v", err)
	}
	ops := o.snapshot()
	if len(ops) < 2 || ops[0] != "ping" { // Open pings
		t.Fatalf("observed %v, want the start-up ping then the lookup", ops)
	}
	for _, op := range ops {
		if strings.HasSuffix(op, "!") || strings.Contains(op, "?") {
			t.Errorf("observed %v: a missing key counted as a failure", ops)
		}
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	// A server that goes away: the next round trip is reported failed.
	// The server is a private redis-server, stopped under the store.
	var gone observed
	srv := storetest.StartRedisServer(t, storetest.RedisServerOptions{})
	ms, err := redis.Open(t.Context(), srv.URL(), b.Sealer, redis.Options{KeyPrefix: "p:", Observe: gone.observe})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ms.Close() })
	if err := ms.Ping(ctx); err != nil {
		t.Fatalf("Ping of the running server: %v", err)
	}
	if got := gone.snapshot(); len(got) != 2 || got[0] != "ping" || got[1] != "ping" {
		t.Fatalf("observed %v while the server runs, want the start-up ping and ours, neither failed", got)
	}
	srv.Stop(t)
	n := len(gone.snapshot())
	if err := ms.Ping(ctx); err == nil {
		t.Fatal("Ping of a server that is gone succeeded")
	}
	got := gone.snapshot()
	if len(got) <= n {
		t.Fatalf("the failed round trip was not reported: %v", got)
	}
	for _, op := range got[n:] {
		if op != "ping!" {
			t.Errorf("observed %v after the server stopped, want only failed pings (ping!)", got[n:])
			break
		}
	}
}

// TestObserveFailure: a missing key and a script the node has not cached
// yet (NOSCRIPT: go-redis then sends the script) are no failures; other
// errors are.
func TestObserveFailure(t *testing.T) {
	t.Parallel()
	for err, want := range map[error]bool{
		goredis.Nil: false,
		errors.New("NOSCRIPT No matching script. Please use EVAL."):     false,
		errors.New("ERR wrong number of arguments"):                     true,
		errors.New("dial tcp 127.0.0.1:1: connect: connection refused"): true,
	} {
		if got := redis.Failure(err) != nil; got != want {
			t.Errorf("Failure(%v) reported: %v, want %v", err, got, want)
		}
	}
	if redis.Failure(nil) != nil {
		t.Error("Failure(nil) != nil")
	}
}
