package storetest

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/secondme-bridge/secondme-bridge/store"
)

// testCancels: the first request wins, repeats are refused until expiry,
// unknown ids are simply not requested, ids are kept apart.
func testCancels(t *testing.T, s store.Store) {
	ctx, c := t.Context(), s.Cancels()
	request := func(id string, ttl time.Duration) bool {
		t.Helper()
		got, err := c.Request(ctx, id, ttl)
		mustOK(t, err, "request "+id)
		return got
	}
	requested := func(id string) bool {
		t.Helper()
		got, err := c.Requested(ctx, id)
		mustOK(t, err, "requested "+id)
		return got
	}
	if requested("a1b2c3") {
		t.Fatal("Requested of an id never requested = true, want false")
	}
	if !request("a1b2c3", time.Minute) {
		t.Fatal("first Request = false, want true")
	}
	if request("a1b2c3", time.Minute) {
		t.Fatal("duplicated Request = true, want false (handled once)")
	}
	if !requested("a1b2c3") {
		t.Fatal("Requested after Request = false, want true")
	}
	// Ids are compared exactly: a prefix, a case change or a neighbour
	// is another reply.
	for _, other := range []string{"a1b2c", "A1B2C3", "a1b2c3.", "a1b2c4"} {
		if requested(other) {
			t.Fatalf("Requested(%q) = true after a request of a1b2c3", other)
		}
	}
	// The longest allowed id works.
	long := strings.Repeat("x", store.MaxCancelIDLen)
	if !request(long, time.Minute) || !requested(long) {
		t.Fatal("a request of the longest allowed id was not recorded")
	}
}

// testCancelsExpiry: a request lapses after its ttl and may be made again.
func testCancelsExpiry(t *testing.T, s store.Store) {
	ctx, c := t.Context(), s.Cancels()
	start := time.Now()
	got, err := c.Request(ctx, "short", 250*time.Millisecond)
	mustOK(t, err, "request short")
	if !got {
		t.Fatal("first Request = false")
	}
	if on, err := c.Requested(ctx, "short"); err != nil || !on {
		skipIfSlow(t, start, 250*time.Millisecond, "requested within the ttl")
		t.Fatalf("Requested within the ttl = %v, %v; want true", on, err)
	}
	time.Sleep(350 * time.Millisecond)
	on, err := c.Requested(ctx, "short")
	mustOK(t, err, "requested after expiry")
	if on {
		t.Fatal("Requested after the ttl = true, want false")
	}
	got, err = c.Request(ctx, "short", time.Minute)
	mustOK(t, err, "request again")
	if !got {
		t.Fatal("Request after expiry = false, want true (a new request)")
	}
}

// testCancelsHostile: ids from a forged button payload and bad ttls are
// refused with an error, and record nothing.
func testCancelsHostile(t *testing.T, s store.Store) {
	ctx, c := t.Context(), s.Cancels()
	bad := []string{
		"", " ", "a b", "a:b", "{tag}", "a/b", "a\nb", "a\x00b", "ü", "%41",
		"*", "cancel:*", strings.Repeat("x", store.MaxCancelIDLen+1), strings.Repeat("y", 1<<16),
	}
	for _, id := range bad {
		_, err := c.Request(ctx, id, time.Minute)
		mustErr(t, err, "Request of hostile id "+strings.ToValidUTF8(id[:min(len(id), 20)], "?"))
		_, err = c.Requested(ctx, id)
		mustErr(t, err, "Requested of hostile id "+strings.ToValidUTF8(id[:min(len(id), 20)], "?"))
	}
	for _, ttl := range []time.Duration{0, -time.Second} {
		_, err := c.Request(ctx, "ok", ttl)
		mustErr(t, err, "Request with ttl "+ttl.String())
	}
	on, err := c.Requested(ctx, "ok")
	mustOK(t, err, "requested ok")
	if on {
		t.Fatal("a refused Request recorded a stop")
	}
}

// testCancelsConcurrent: of many concurrent requests of one id (a double
// click, a retried delivery, two replicas), exactly one is first.
func testCancelsConcurrent(t *testing.T, s store.Store) {
	ctx, c := t.Context(), s.Cancels()
	const n = 16
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		first int
	)
	for range n {
		wg.Go(func() {
			got, err := c.Request(ctx, "race", time.Minute)
			if err != nil {
				t.Error(err)
				return
			}
			if got {
				mu.Lock()
				first++
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if first != 1 {
		t.Fatalf("%d of %d concurrent requests were first, want exactly 1", first, n)
	}
}

// testCancelsWatch: a watch starts with "", then sees every first request
// (not the repeats, not refused ids) in order, and closes when its context
// ends; two watches see the same requests.
func testCancelsWatch(t *testing.T, s store.Store) {
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	c := s.Cancels()
	w1, err := c.Watch(ctx)
	mustOK(t, err, "watch")
	w2, err := c.Watch(ctx)
	mustOK(t, err, "second watch")
	next := func(w <-chan string) string {
		t.Helper()
		select {
		case id, ok := <-w:
			if !ok {
				t.Fatal("watch closed early")
			}
			return id
		case <-time.After(5 * time.Second):
			t.Fatal("nothing on the watch")
		}
		return ""
	}
	for _, w := range []<-chan string{w1, w2} {
		if got := next(w); got != "" {
			t.Fatalf("a watch started with %q, want the start marker", got)
		}
	}
	for _, id := range []string{"w1", "w1", "w2"} {
		_, err := c.Request(ctx, id, time.Minute)
		mustOK(t, err, "request "+id)
	}
	_, _ = c.Request(ctx, "bad id", time.Minute)
	for _, w := range []<-chan string{w1, w2} {
		// Announcements carry no order across a Redis Cluster's nodes.
		if a, b := next(w), next(w); !(a == "w1" && b == "w2" || a == "w2" && b == "w1") {
			t.Fatalf("watch saw %q, %q; want w1 and w2 once each (a repeat is not announced)", a, b)
		}
	}
	cancel()
	deadline := time.After(5 * time.Second)
	for {
		select {
		case _, ok := <-w1:
			if !ok {
				return
			}
		case <-deadline:
			t.Fatal("the watch was not closed when its context ended")
		}
	}
}

// RunCancelReplicaTest checks that a stop requested through one handle on
// b's data is seen through another (two replicas sharing Redis) by a watch,
// within a second, and that a repeat on the streaming replica is refused.
// Bolt takes one handle at a time, so it has no second replica.
func RunCancelReplicaTest(t *testing.T, b *Backend) {
	t.Helper()
	ctx := t.Context()
	streaming, clicked := b.Open(t).Cancels(), b.Open(t).Cancels()
	w, err := streaming.Watch(ctx)
	mustOK(t, err, "watch on the streaming replica")
	if id := <-w; id != "" {
		t.Fatalf("the watch started with %q", id)
	}
	asked := time.Now()
	first, err := clicked.Request(ctx, "replica-reply", time.Minute)
	mustOK(t, err, "request on the other replica")
	if !first {
		t.Fatal("first request on the other replica = false")
	}
	if again, err := streaming.Request(ctx, "replica-reply", time.Minute); err != nil || again {
		t.Fatalf("repeat request on the streaming replica = %v, %v; want false (handled once across replicas)", again, err)
	}
	select {
	case id := <-w:
		if id != "replica-reply" {
			t.Fatalf("the streaming replica saw %q, want replica-reply", id)
		}
		if lag := time.Since(asked); lag > time.Second {
			t.Errorf("the streaming replica saw the stop after %v, want within 1s", lag)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the streaming replica never saw the stop")
	}
	if on, err := streaming.Requested(ctx, "replica-reply"); err != nil || !on {
		t.Fatalf("Requested on the streaming replica = %v, %v", on, err)
	}
}
