package storetest

import (
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/secondme-bridge/secondme-bridge/store"
)

// reserveEach runs Budgets.ReserveEach and checks the shape of its answer.
func reserveEach(t *testing.T, s store.Store, reqs ...store.Reservation) []store.Grant {
	t.Helper()
	gs, err := s.Budgets().ReserveEach(t.Context(), reqs)
	mustOK(t, err, "reserve each")
	if len(gs) != len(reqs) {
		t.Fatalf("ReserveEach of %d requests returned %d grants", len(reqs), len(gs))
	}
	for i, g := range gs {
		if !g.Clock.Equal(gs[0].Clock) {
			t.Fatalf("request %d was decided at the store's clock %v, request 0 at %v; want one reading per call", i, g.Clock, gs[0].Clock)
		}
		if g.OK && (g.Wait != 0 || len(g.Short) != 0) {
			t.Fatalf("granted request %d returned wait %v, short %v; want neither", i, g.Wait, g.Short)
		}
		if !g.OK && (g.Wait <= 0 || len(g.Short) == 0) {
			t.Fatalf("refused request %d returned wait %v, short %v; want both", i, g.Wait, g.Short)
		}
	}
	return gs
}

func req(after time.Duration, buckets ...store.Bucket) store.Reservation {
	return store.Reservation{Buckets: buckets, After: after}
}

// ReserveEach decides the requests as Reserve would one after another:
// a later request sees the tokens an earlier one took, a refused request
// takes nothing, and each request is all or none on its own buckets.
func testReserveEachOrder(t *testing.T, s store.Store) {
	slow := store.Limit{Rate: 0.001, Burst: 1} // one token per 1,000 s
	a := store.Bucket{Key: "each:a", Limit: slow}
	b := store.Bucket{Key: "each:b", Limit: slow}
	c := store.Bucket{Key: "each:c", Limit: slow}
	gs := reserveEach(t, s,
		req(0, a),    // granted: a full
		req(0, b, a), // refused: a taken by the first; b untouched
		req(0, b),    // granted: the refusal took nothing
		req(0, c, b), // refused on b only (index 1), c untouched
		req(0, c),    // granted
		req(0),       // no buckets: granted
	)
	want := []bool{true, false, true, false, true, true}
	for i, g := range gs {
		if g.OK != want[i] {
			t.Fatalf("request %d: ok %v, want %v (grants %+v)", i, g.OK, want[i], gs)
		}
	}
	if !slices.Equal(gs[1].Short, []int{1}) || !slices.Equal(gs[3].Short, []int{1}) {
		t.Fatalf("short buckets %v and %v, want [1] and [1]", gs[1].Short, gs[3].Short)
	}
	if w := gs[1].Wait; w < 999*time.Second || w > 1000*time.Second {
		t.Fatalf("wait %v, want about 1,000 s", w)
	}
	// Every bucket is empty now, as three Reserve calls would leave them.
	for _, bk := range []store.Bucket{a, b, c} {
		if g := reserve(t, s, 0, bk); g.OK {
			t.Fatalf("bucket %s granted a second token", bk.Key)
		}
	}
}

// Requests on separate buckets are independent; a bucket with a burst
// grants up to it across requests, and a request due later waits less.
func testReserveEachIndependent(t *testing.T, s store.Store) {
	lim := store.Limit{Rate: 1, Burst: 3}
	x := store.Bucket{Key: "each:x", Limit: lim}
	y := store.Bucket{Key: "each:y", Limit: store.Limit{Rate: 0.001, Burst: 1}}
	reqs := []store.Reservation{req(0, y), req(0, y)}
	for range 4 {
		reqs = append(reqs, req(0, x))
	}
	gs := reserveEach(t, s, reqs...)
	got := make([]bool, len(gs))
	for i, g := range gs {
		got[i] = g.OK
	}
	if want := []bool{true, false, true, true, true, false}; !slices.Equal(got, want) {
		t.Fatalf("grants %v, want %v", got, want)
	}
	if w := gs[5].Wait; w <= 0 || w > time.Second {
		t.Fatalf("fourth token of a 1/s bucket: wait %v, want within one interval", w)
	}
	// Due a second later the fourth token fits (within the wait above).
	start := time.Now()
	gs = reserveEach(t, s, req(time.Second, x))
	skipIfSlow(t, start, 500*time.Millisecond, "reserve a second ahead")
	if !gs[0].OK {
		t.Fatalf("a token due one interval later refused (wait %v)", gs[0].Wait)
	}
}

// An empty list is granted without a round trip; an invalid request is an
// error and nothing is taken, whichever request is at fault.
func testReserveEachInvalid(t *testing.T, s store.Store) {
	gs, err := s.Budgets().ReserveEach(t.Context(), nil)
	if err != nil || len(gs) != 0 {
		t.Fatalf("ReserveEach(nil) = %v, %v; want no grants, no error", gs, err)
	}
	gs = reserveEach(t, s, req(0), req(time.Second))
	if !gs[0].OK || !gs[1].OK {
		t.Fatalf("requests without buckets: %+v, want granted", gs)
	}
	one := store.Limit{Rate: 0.001, Burst: 1}
	ok := store.Bucket{Key: "each:valid", Limit: one}
	bad := [][]store.Reservation{
		{req(0, ok), req(0, store.Bucket{Key: "", Limit: one})},
		{req(0, ok), req(0, store.Bucket{Key: "d", Limit: one}, store.Bucket{Key: "d", Limit: one})},
		{req(0, ok), req(-time.Second, store.Bucket{Key: "e", Limit: one})},
		{req(0, ok), req(0, store.Bucket{Key: "f", Limit: store.Limit{Rate: 0, Burst: 1}})},
		{req(0, ok), req(0, store.Bucket{Key: "g", Limit: store.Limit{Rate: 1, Burst: 0}})},
		{req(0, ok), req(0, store.Bucket{Key: "h", Limit: store.Limit{Rate: 1, Burst: 2}, Grace: 2 * time.Second})},
		{req(0, store.Bucket{Key: "i", Limit: one, Grace: -time.Millisecond}), req(0, ok)},
		{req(0, ok), req(11*365*24*time.Hour, store.Bucket{Key: "j", Limit: one})},
	}
	for i, reqs := range bad {
		if gs, err := s.Budgets().ReserveEach(t.Context(), reqs); err == nil {
			t.Fatalf("invalid list %d accepted: %+v", i, gs)
		}
	}
	// Nothing was taken from the valid bucket of the lists refused.
	if g := reserve(t, s, 0, ok); !g.OK {
		t.Fatalf("an invalid ReserveEach took a token of a valid request (wait %v)", g.Wait)
	}
}

// Concurrent ReserveEach calls on one bucket never grant more than it
// holds: a burst of 5 at 0.001/s grants exactly 5 of 40 requests.
func testReserveEachConcurrent(t *testing.T, s store.Store) {
	bk := store.Bucket{Key: "each:shared", Limit: store.Limit{Rate: 0.001, Burst: 5}}
	var granted atomic.Int64
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			reqs := make([]store.Reservation, 5)
			for i := range reqs {
				reqs[i] = req(0, bk)
			}
			gs, err := s.Budgets().ReserveEach(t.Context(), reqs)
			if err != nil {
				t.Errorf("reserve each: %v", err)
				return
			}
			for _, g := range gs {
				if g.OK {
					granted.Add(1)
				}
			}
		})
	}
	wg.Wait()
	if n := granted.Load(); n != 5 {
		t.Fatalf("%d of 40 requests granted from a bucket of 5", n)
	}
}

// A store that reports its clock (Grant.Clock) reports the reading its
// requests were decided at: between the call's sending and its answer, on
// one host (every test store runs on this machine's clock, within a
// second for clocks read by another process), and never going back from
// one call to the next.
func testReserveEachClock(t *testing.T, s store.Store) {
	b := store.Bucket{Key: "clock", Limit: store.Limit{Rate: 1000, Burst: 1000}}
	var last time.Time
	for i := range 5 {
		before := time.Now()
		gs := reserveEach(t, s, req(0, b), req(time.Millisecond, b))
		after := time.Now()
		c := gs[0].Clock
		if c.IsZero() {
			if i > 0 && !last.IsZero() {
				t.Fatalf("call %d reported no clock after an earlier one did", i)
			}
			continue
		}
		if c.Before(before.Add(-time.Second)) || c.After(after.Add(time.Second)) {
			t.Fatalf("call %d decided at the store's clock %v, outside [%v, %v] by more than a second", i, c, before, after)
		}
		if c.Before(last) {
			t.Fatalf("call %d decided at the store's clock %v, before the previous call's %v", i, c, last)
		}
		last = c
	}
}
