package redis_test

import (
	"log/slog"
	"testing"
	"time"

	"github.com/secondme-bridge/secondme-bridge/internal/testutil"
	"github.com/secondme-bridge/secondme-bridge/store/redis"
	"github.com/secondme-bridge/secondme-bridge/store/storetest"
)

// A watch survives a server restart: go-redis reconnects and
// resubscribes, and the watch reports the restart with "" (announcements
// made while it was down are lost: the engine then checks its replies with
// Requested); announcements after it arrive again. The server is a private
// redis-server, stopped and started again on its port.
func TestCancelWatchResubscribes(t *testing.T) {
	t.Parallel()
	srv := storetest.StartRedisServer(t, storetest.RedisServerOptions{})
	s, err := redis.Open(t.Context(), srv.URL(), storetest.NewSealer(t), redis.Options{KeyPrefix: "p:", Logger: testutil.Logger(t, slog.LevelDebug)})
	must(t, err)
	t.Cleanup(func() { _ = s.Close() })
	ctx := t.Context()
	w, err := s.Cancels().Watch(ctx)
	must(t, err)
	next := func() string {
		t.Helper()
		select {
		case id, ok := <-w:
			if !ok {
				t.Fatal("the watch closed")
			}
			return id
		case <-time.After(15 * time.Second):
			t.Fatal("nothing on the watch")
		}
		return ""
	}
	if id := next(); id != "" {
		t.Fatalf("first = %q, want the start marker", id)
	}
	srv.Stop(t) // every connection dropped
	time.Sleep(200 * time.Millisecond)
	srv.Start(t)
	if id := next(); id != "" {
		t.Fatalf("after the restart got %q, want the restart marker", id)
	}
	_, err = s.Cancels().Request(ctx, "after-restart", time.Minute)
	must(t, err)
	if id := next(); id != "after-restart" {
		t.Fatalf("got %q, want after-restart", id)
	}
}
