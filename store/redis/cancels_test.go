package redis_test

import (
	"testing"
	"time"
)

// A watch survives a dropped connection: go-redis reconnects and
// resubscribes, and the watch reports the restart with "" (announcements
// made while it was down are lost: the engine then checks its replies with
// Requested, which still finds a recorded request); announcements after
// it arrive again.
func TestCancelWatchResubscribes(t *testing.T) {
	t.Parallel()
	s, m := openMini(t)
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
	m.Close() // every connection dropped; the data is kept
	time.Sleep(200 * time.Millisecond)
	must(t, m.Restart())
	if id := next(); id != "" {
		t.Fatalf("after the restart got %q, want the restart marker", id)
	}
	_, err = s.Cancels().Request(ctx, "after-restart", time.Minute)
	must(t, err)
	if id := next(); id != "after-restart" {
		t.Fatalf("got %q, want after-restart", id)
	}
}
