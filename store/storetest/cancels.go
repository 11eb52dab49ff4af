package storetest

import (
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

// RunCancelReplicaTest checks that a stop requested through one handle on
// b's data is seen through another (two replicas sharing Redis), and that
// a poller at the engine's pace (every 250 ms at most) sees it within a
// second. Bolt takes one handle at a time, so it has no second replica.
func RunCancelReplicaTest(t *testing.T, b *Backend) {
	t.Helper()
	ctx := t.Context()
	streaming, clicked := b.Open(t).Cancels(), b.Open(t).Cancels()
	seen := make(chan time.Time, 1)
	go func() {
		tick := time.NewTicker(250 * time.Millisecond)
		defer tick.Stop()
		for {
			on, err := streaming.Requested(ctx, "replica-reply")
			if err != nil {
				t.Error(err)
				close(seen)
				return
			}
			if on {
				seen <- time.Now()
				return
			}
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
		}
	}()
	time.Sleep(100 * time.Millisecond) // the poller is between two polls
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
	case at, ok := <-seen:
		if !ok {
			t.FailNow()
		}
		if lag := at.Sub(asked); lag > time.Second {
			t.Errorf("the streaming replica saw the stop after %v, want within 1s", lag)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the streaming replica never saw the stop")
	}
}
