package redis_test

import (
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/secondme-bridge/secondme-bridge/internal/testutil"
	"github.com/secondme-bridge/secondme-bridge/store"
	"github.com/secondme-bridge/secondme-bridge/store/redis"
	"github.com/secondme-bridge/secondme-bridge/store/storetest"
)

// TestUnreachableAtOpen: Open succeeds without a server, Ping and methods
// fail with errors, and the store works once the server is up; and again
// when the server restarts under its open connections. The server is a
// private redis-server, not started at first.
func TestUnreachableAtOpen(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	srv := storetest.NewRedisServer(t, storetest.RedisServerOptions{})
	s, err := redis.Open(ctx, srv.URL()+"?dial_timeout=200ms&max_retries=1", storetest.NewSealer(t),
		redis.Options{KeyPrefix: "p:", Logger: testutil.Logger(t, slog.LevelDebug), StartupPingTimeout: 300 * time.Millisecond})
	if err != nil {
		t.Fatalf("Open with the server down: %v", err)
	}
	t.Cleanup(func() { _ = s.Close() })
	down := func(when string) {
		t.Helper()
		if err := s.Ping(ctx); err == nil {
			t.Fatalf("Ping with the server down (%s) = nil", when)
		}
		if _, err := s.Claim(ctx, "ev-"+when, time.Minute); err == nil || errors.Is(err, store.ErrClosed) {
			t.Fatalf("Claim with the server down (%s) = %v, want a connection error", when, err)
		}
	}
	up := func(when string) {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for s.Ping(ctx) != nil {
			if time.Now().After(deadline) {
				t.Fatalf("Ping still failing 10s after the server came up (%s)", when)
			}
			time.Sleep(50 * time.Millisecond)
		}
		if ok, err := s.Claim(ctx, "ev-"+when, time.Minute); err != nil || !ok {
			t.Fatalf("Claim after recovery (%s) = %v, %v; want true", when, ok, err)
		}
		if ok, err := s.Claim(ctx, "ev-"+when, time.Minute); err != nil || ok {
			t.Fatalf("second Claim after recovery (%s) = %v, %v; want false", when, ok, err)
		}
	}
	down("never started")
	srv.Start(t)
	up("started")
	srv.Stop(t)
	down("stopped")
	srv.Start(t)
	up("restarted")
}

func TestOpenErrors(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	tests := map[string]struct {
		url    string
		sealer *store.Sealer
		opts   redis.Options
		want   string
	}{
		"bad url":      {url: "http://x", sealer: storetest.NewSealer(t), want: "parse redis url"},
		"nil sealer":   {url: "redis://127.0.0.1:1", want: "nil sealer"},
		"open tag":     {url: "redis://127.0.0.1:1", sealer: storetest.NewSealer(t), opts: redis.Options{KeyPrefix: "app{x:"}, want: "hash tag"},
		"empty tag":    {url: "redis://127.0.0.1:1", sealer: storetest.NewSealer(t), opts: redis.Options{KeyPrefix: "app{}:"}, want: "hash tag"},
		"password url": {url: "redis://:hunter2@h/x", sealer: storetest.NewSealer(t), want: "invalid database number"},
	}
	for name, tt := range tests {
		_, err := redis.Open(ctx, tt.url, tt.sealer, tt.opts)
		if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.HasPrefix(err.Error(), "open redis store: ") {
			t.Errorf("%s: Open error = %v, want %q", name, err, tt.want)
		}
		if err != nil && strings.Contains(err.Error(), "hunter2") {
			t.Errorf("%s: error leaks the password", name)
		}
	}
	s, err := redis.Open(ctx, "redis://127.0.0.1:1", storetest.NewSealer(t), redis.Options{KeyPrefix: "{bridge}:", StartupPingTimeout: time.Millisecond})
	if err != nil {
		t.Fatalf("prefix with a complete hash tag: %v", err)
	}
	_ = s.Close()
}
