package slack

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/secondme-bridge/secondme-bridge/internal/keyq"
)

// At its bound the adapter refuses a delivery (503, not acknowledged)
// instead of dropping acknowledged work, and takes Slack's retry once
// there is room.
func TestHTTPQueueFullIsLeftToRetry(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	fake := newFake(t)
	rec := &recorder{block: make(chan struct{})}
	a, _, logs := startHTTPTuned(t, fake, rec, func(a *Adapter) { a.queue = keyq.New(1) })

	first, err := fake.DM(ctx, "U1", "", "first")
	if err != nil || first.Acks[0].HTTPStatus != http.StatusOK {
		t.Fatalf("first DM: ack %d, %v; want 200", first.Acks[0].HTTPStatus, err)
	}
	second, err := fake.DM(ctx, "U2", "", "second")
	if err != nil || second.Acks[0].HTTPStatus != http.StatusServiceUnavailable {
		t.Fatalf("DM beyond the bound: ack %d, %v; want 503 (left to a Slack retry)", second.Acks[0].HTTPStatus, err)
	}
	if !strings.Contains(logs.String(), "slack delivery not accepted") {
		t.Error("no log line for the refused delivery")
	}

	close(rec.block)
	rec.wait(t, 1)
	deadline := time.Now().Add(10 * time.Second)
	for a.queue.Len() > 0 {
		if time.Now().After(deadline) {
			t.Fatal("the queue never emptied")
		}
		time.Sleep(5 * time.Millisecond)
	}
	retry, err := fake.Redeliver(ctx, second, 0, 1)
	if err != nil || retry.HTTPStatus != http.StatusOK {
		t.Fatalf("retry with room: ack %d, %v; want 200", retry.HTTPStatus, err)
	}
	evs := rec.wait(t, 2)
	if evs[0].Text != "first" || evs[1].Text != "second" {
		t.Errorf("handled %q then %q, want first then second", evs[0].Text, evs[1].Text)
	}
}
