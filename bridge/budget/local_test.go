package budget

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/secondme-bridge/secondme-bridge/platforms"
)

// A store that decides in this process (store.LocalBudgets: the memory
// store, bolt with its budgets in memory) costs no round trip, so its
// calls are not held back to share one: the scheduler's passes run as
// calls come and intermediate updates' reservations go at once. These
// tests run the scheduler's guarantees on such a store, and show what it
// gains against a remote one.

func newLocalStore(t *testing.T) *countStore {
	st := newCountStore(t)
	st.local = true
	return st
}

// Priority order holds on a local store: calls waiting for a budget's
// next token are granted final, first text, typing, whatever order they
// came in.
func TestLocalSchedulerGrantsByPriority(t *testing.T) {
	t.Parallel()
	grantsByPriority(t, newLocalStore(t))
}

// The limit holds on a local store: 200 calls sharing a busy budget, each
// asked for as it comes, are all granted, never more in a window than the
// bucket allows.
func TestLocalSchedulerGrantsWithinTheLimit(t *testing.T) {
	t.Parallel()
	grantsWithinTheLimit(t, newLocalStore(t))
}

// A call that comes within dispatchEvery of the scheduler's last pass is
// asked for at once on a local store; a remote one holds it for the next
// pass, to share its round trip. The scheduler is kept running by a call
// waiting for a token a thousand seconds away; each call comes 1 ms after
// the last was granted, within dispatchEvery of the pass that granted it.
func TestLocalSchedulerAsksAtOnce(t *testing.T) {
	t.Parallel()
	took := func(st *countStore) time.Duration {
		p := New(Deps{Store: st})
		if p.sched.local != st.local {
			t.Fatalf("scheduler local = %v, want %v", p.sched.local, st.local)
		}
		return loneCallsWait(t, p, 15, time.Millisecond)
	}
	local, remote := took(newLocalStore(t)), took(newCountStore(t))
	// Held for the next pass, a call waits up to dispatchEvery (about
	// 4 ms here); asked at once, microseconds. The bounds leave room for
	// a loaded machine's hiccups.
	if local >= dispatchEvery/5 {
		t.Errorf("on a local store calls took %v at the median, want under %v", local, dispatchEvery/5)
	}
	if remote < dispatchEvery/5 {
		t.Errorf("on a remote store calls took %v at the median, want the wait for a pass (the test no longer tells the two apart)", remote)
	}
}

// An intermediate update's reservation goes to a local store at once; a
// remote one gathers it with others for gatherWindow.
func TestLocalInterimReservedAtOnce(t *testing.T) {
	t.Parallel()
	took := func(st *countStore) time.Duration {
		p := New(Deps{Store: st})
		var took []time.Duration
		for i := range 15 {
			own := platforms.Budget{Key: fmt.Sprintf("test:chan:%d", i), Rate: 1, Burst: 5}
			start := time.Now()
			h, reason, _ := p.ReserveInterim(t.Context(), []platforms.Budget{own}, start, false)
			if h == nil {
				t.Fatalf("reservation %d refused: %s", i, reason)
			}
			took = append(took, time.Since(start))
		}
		if rt := st.reserves.Load(); rt != 15 {
			t.Errorf("%d round trips for 15 reservations one after another, want 15", rt)
		}
		slices.Sort(took)
		return took[len(took)/2]
	}
	local, remote := took(newLocalStore(t)), took(newCountStore(t))
	if local >= gatherWindow/2 {
		t.Errorf("on a local store reservations took %v at the median, want under %v", local, gatherWindow/2)
	}
	if remote < gatherWindow {
		t.Errorf("on a remote store reservations took %v at the median, want the gather window (%v)", remote, gatherWindow)
	}
	p := New(Deps{Store: newLocalStore(t)})
	if w := p.gather.wait(); w != 0 {
		t.Errorf("a local store's reservations wait %v for their batch, want 0", w)
	}
}
