package partition

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/secondme-bridge/secondme-bridge/store"
	"github.com/secondme-bridge/secondme-bridge/store/storetest"
)

func openStore(t *testing.T) store.Store {
	t.Helper()
	return storetest.Open(t, storetest.Bolt)
}

// member is one running Hold, recording what set was called with.
type member struct {
	mu     sync.Mutex
	held   []int
	calls  int
	cancel context.CancelFunc
	done   chan struct{}
	err    error
}

func (m *member) get() ([]int, int) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return slices.Clone(m.held), m.calls
}

// start runs a claimer for owner on st.
func start(t *testing.T, st store.Store, owner string, count int, ttl time.Duration, onSet func(owner string, held []int)) *member {
	t.Helper()
	c, err := New(Config{Locks: st.Locks(), Name: "test", Owner: owner, TTL: ttl})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	m := &member{cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(m.done)
		m.err = c.Hold(ctx, count, func(h []int) {
			if onSet != nil {
				onSet(owner, h)
			}
			m.mu.Lock()
			m.held, m.calls = slices.Clone(h), m.calls+1
			m.mu.Unlock()
		})
	}()
	t.Cleanup(func() { m.stop(t) })
	return m
}

func (m *member) stop(t *testing.T) {
	t.Helper()
	m.cancel()
	select {
	case <-m.done:
		if m.err != nil {
			t.Errorf("Hold = %v", m.err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Hold did not return")
	}
}

func waitUntil(t *testing.T, within time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %v", what, within)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// exclusive records, across members, which owner holds each partition per
// set calls, and reports a partition listed by two owners at once.
type exclusive struct {
	mu      sync.Mutex
	by      map[string][]int
	clashes []string
}

func (x *exclusive) set(owner string, held []int) {
	x.mu.Lock()
	defer x.mu.Unlock()
	if x.by == nil {
		x.by = map[string][]int{}
	}
	for o, h := range x.by {
		if o == owner {
			continue
		}
		for _, i := range held {
			if slices.Contains(h, i) {
				x.clashes = append(x.clashes, owner+" and "+o)
			}
		}
	}
	x.by[owner] = slices.Clone(held)
}

// TestSpreadTakeoverRelease: three members share seven partitions evenly
// (blocks of 2 or 3, disjoint, all covered); a member that stops gives its
// partitions up at once and the others take them; a member whose leases
// are left to expire (its Hold never returns them: its store is gone) is
// taken over within the TTL and a round; never are two members set with
// the same partition.
func TestSpreadTakeoverRelease(t *testing.T) {
	t.Parallel()
	st := openStore(t)
	const count = 7
	ttl := time.Second
	x := &exclusive{}
	ms := []*member{}
	for _, o := range []string{"a", "b", "c"} {
		ms = append(ms, start(t, st, o, count, ttl, x.set))
	}
	covered := func(ms []*member, per []int) bool {
		var all []int
		for _, m := range ms {
			h, _ := m.get()
			if per != nil && !slices.Contains(per, len(h)) {
				return false
			}
			all = append(all, h...)
		}
		slices.Sort(all)
		return slices.Equal(all, []int{0, 1, 2, 3, 4, 5, 6})
	}
	waitUntil(t, 10*time.Second, "seven partitions spread over three members", func() bool { return covered(ms, []int{2, 3}) })

	// Graceful stop of a: b and c take its partitions.
	ms[0].stop(t)
	if h, _ := ms[0].get(); len(h) != 0 {
		t.Errorf("a still set with %v after Hold returned", h)
	}
	waitUntil(t, 10*time.Second, "b and c cover everything", func() bool { return covered(ms[1:], []int{3, 4}) })

	x.mu.Lock()
	defer x.mu.Unlock()
	if len(x.clashes) > 0 {
		t.Errorf("partitions held by two members at once: %q", x.clashes)
	}
}

// TestExpiredLeasesTakenOver: a member that stops renewing (its leases are
// left in the store, as when a process is killed) loses its partitions to
// the other within the TTL and two rounds.
func TestExpiredLeasesTakenOver(t *testing.T) {
	t.Parallel()
	st := openStore(t)
	ttl := time.Second
	// A dead member's leases: taken directly, never renewed.
	for _, k := range []string{"test:member:0", "test:0", "test:1", "test:2", "test:3"} {
		if _, err := st.Locks().Acquire(t.Context(), k, "dead", ttl); err != nil {
			t.Fatal(err)
		}
	}
	began := time.Now()
	m := start(t, st, "live", 4, ttl, nil)
	waitUntil(t, 10*time.Second, "live takes all four", func() bool {
		h, _ := m.get()
		return slices.Equal(h, []int{0, 1, 2, 3})
	})
	t.Logf("takeover took %v (TTL %v)", time.Since(began), ttl)
}

func TestShare(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ count, members int }{{4, 2}, {7, 3}, {5, 5}, {3, 1}, {16, 3}} {
		var all []int
		for r := range tc.members {
			s := share(tc.count, tc.members, r)
			if n := len(s); n < tc.count/tc.members || n > tc.count/tc.members+1 {
				t.Errorf("share(%d, %d, %d) = %v: uneven", tc.count, tc.members, r, s)
			}
			all = append(all, s...)
		}
		for i := range tc.count {
			if all[i] != i {
				t.Fatalf("shares of %d over %d = %v, want 0..%d once each", tc.count, tc.members, all, tc.count-1)
			}
		}
	}
}

func TestHoldRefusesBadCount(t *testing.T) {
	t.Parallel()
	c, err := New(Config{Locks: openStore(t).Locks(), Name: "n", Owner: "o", TTL: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Hold(t.Context(), 0, func([]int) {}); err == nil {
		t.Error("Hold with count 0 succeeded")
	}
	if _, err := New(Config{Locks: openStore(t).Locks(), Name: "n", Owner: "o", TTL: time.Millisecond}); err == nil {
		t.Error("New with a 1 ms TTL succeeded")
	}
}

// TestHoldOnFailingStore: with a store that fails every call, Hold claims
// nothing (set is never called with a partition), logs, keeps trying and
// returns when its context ends.
func TestHoldOnFailingStore(t *testing.T) {
	t.Parallel()
	st := openStore(t)
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var sets [][]int
	m := start(t, st, "a", 3, time.Second, func(_ string, h []int) {
		mu.Lock()
		sets = append(sets, h)
		mu.Unlock()
	})
	// Two rounds at least.
	time.Sleep(600 * time.Millisecond)
	m.stop(t)
	mu.Lock()
	defer mu.Unlock()
	for _, h := range sets {
		if len(h) > 0 {
			t.Errorf("set(%v) on a failing store", h)
		}
	}
}
