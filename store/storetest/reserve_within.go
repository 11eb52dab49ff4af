package storetest

import (
	"slices"
	"testing"
	"time"

	"github.com/secondme-bridge/secondme-bridge/store"
)

func within(after, within time.Duration, buckets ...store.Bucket) store.Reservation {
	return store.Reservation{Buckets: buckets, After: after, Within: within}
}

// reserveTimed is reserveEach, also returning how long it took: a backend
// deciding the requests one round trip each (Redis Cluster without a hash
// tag) reads its clock once per request, so a later request's At may be
// that much earlier than one clock read for all would give.
func reserveTimed(t *testing.T, s store.Store, reqs ...store.Reservation) ([]store.Grant, time.Duration) {
	t.Helper()
	start := time.Now()
	gs := reserveEach(t, s, reqs...)
	return gs, time.Since(start)
}

// near reports whether at is want, or up to slack earlier (see reserveTimed).
func near(at, want, slack time.Duration) bool { return at <= want && at >= want-slack }

// Requests with a Within led by one bucket are placed at its successive
// moments, 1/Rate apart, in one round trip, as long as they fit in their
// Within; the first that does not is refused on that bucket (Short [0]),
// with At its Within's end and Wait the rest.
func testReserveEachWithinSeries(t *testing.T, s store.Store) {
	shared := store.Bucket{Key: "within:shared", Limit: store.Limit{Rate: 10, Burst: 1}} // 100 ms apart
	reqs := make([]store.Reservation, 5)
	for i := range reqs {
		reqs[i] = within(0, 350*time.Millisecond, shared)
	}
	gs, slack := reserveTimed(t, s, reqs...)
	for i, want := range []time.Duration{0, 100 * time.Millisecond, 200 * time.Millisecond, 300 * time.Millisecond} {
		if !gs[i].OK || !near(gs[i].At, want, slack) {
			t.Fatalf("request %d: %+v, want granted at %v (grants %+v)", i, gs[i], want, gs)
		}
	}
	g := gs[4]
	if g.OK || !slices.Equal(g.Short, []int{0}) || g.At != 350*time.Millisecond {
		t.Fatalf("request beyond its within: %+v, want refused on bucket 0 at 350ms", g)
	}
	if g.Wait < 49*time.Millisecond-slack || g.Wait > 51*time.Millisecond {
		t.Fatalf("request beyond its within: wait %v, want 50ms", g.Wait)
	}
	// The next request with room is placed after the four taken (the
	// store's clock moved on a little meanwhile).
	start := time.Now()
	gs = reserveEach(t, s, within(0, time.Second, shared))
	skipIfSlow(t, start, 300*time.Millisecond, "reserve within")
	if !gs[0].OK || gs[0].At < 300*time.Millisecond || gs[0].At > 400*time.Millisecond {
		t.Fatalf("fifth token: %+v, want granted 300-400 ms ahead", gs[0])
	}
}

// A request whose other bucket lacks a token at the first bucket's moment
// takes nothing: the next request takes that moment. Within 0 decides as
// Reserve does (At is After).
func testReserveEachWithinOwnShort(t *testing.T, s store.Store) {
	shared := store.Bucket{Key: "within:lead", Limit: store.Limit{Rate: 10, Burst: 1}}
	own := store.Bucket{Key: "within:own", Limit: store.Limit{Rate: 0.001, Burst: 1}}
	other := store.Bucket{Key: "within:other", Limit: store.Limit{Rate: 0.001, Burst: 1}}
	gs, slack := reserveTimed(t, s,
		within(0, 0, own),                     // takes own's only token, due now
		within(0, time.Second, shared, own),   // refused on own (index 1) at 0
		within(0, time.Second, shared, other), // takes the moment the refusal left: 0
		within(0, time.Second, shared, own),   // refused on own at 100 ms
		within(time.Second, 0, shared),        // due at 1 s exactly
	)
	if !gs[0].OK || gs[0].At != 0 {
		t.Fatalf("own's token: %+v", gs[0])
	}
	if gs[1].OK || !slices.Equal(gs[1].Short, []int{1}) || gs[1].At != 0 || gs[1].Wait < 999*time.Second {
		t.Fatalf("request short on its own bucket: %+v, want refused on 1 at 0, wait about 1,000 s", gs[1])
	}
	if !gs[2].OK || gs[2].At != 0 {
		t.Fatalf("the moment a refusal left: %+v, want granted at 0", gs[2])
	}
	if gs[3].OK || !slices.Equal(gs[3].Short, []int{1}) || !near(gs[3].At, 100*time.Millisecond, slack) {
		t.Fatalf("second request short on its own bucket: %+v, want refused on 1 at 100ms", gs[3])
	}
	if !gs[4].OK || gs[4].At != time.Second {
		t.Fatalf("within 0: %+v, want granted at its after", gs[4])
	}
	if g := reserve(t, s, 0, other); g.OK {
		t.Fatal("other's token was not taken")
	}
}

// Moments out of order: a request due later placed first pushes the
// bucket's moments after it, so a later request with a Within lands
// behind it, never between; one that cannot is refused.
func testReserveEachWithinOutOfOrder(t *testing.T, s store.Store) {
	bk := store.Bucket{Key: "within:order", Limit: store.Limit{Rate: 10, Burst: 1}}
	gs, slack := reserveTimed(t, s,
		within(time.Second, 0, bk),
		within(0, 2*time.Second, bk),
		within(0, 500*time.Millisecond, bk),
		within(1500*time.Millisecond, 0, bk),
	)
	if !gs[0].OK || gs[0].At != time.Second {
		t.Fatalf("request due at 1 s: %+v", gs[0])
	}
	if !gs[1].OK || !near(gs[1].At, 1100*time.Millisecond, slack) {
		t.Fatalf("request placed behind it: %+v, want granted at 1.1 s", gs[1])
	}
	if gs[2].OK || !slices.Equal(gs[2].Short, []int{0}) || gs[2].At != 500*time.Millisecond {
		t.Fatalf("request whose within ends before: %+v, want refused on 0 at 500ms", gs[2])
	}
	if !gs[3].OK || gs[3].At != 1500*time.Millisecond {
		t.Fatalf("request due at 1.5 s: %+v", gs[3])
	}
}

// Whatever the requests, the moments granted never put more tokens into a
// window than the limit allows, even when each token is spent up to its
// grace late: at most Burst + Rate×T in any T + grace.
func testReserveEachWithinExact(t *testing.T, s store.Store) {
	lim := store.Limit{Rate: 20, Burst: 3}
	bk := store.Bucket{Key: "within:exact", Limit: lim, Grace: 10 * time.Millisecond}
	side := store.Bucket{Key: "within:side", Limit: store.Limit{Rate: 5, Burst: 2}}
	var reqs []store.Reservation
	for i := range 60 {
		switch i % 4 {
		case 0:
			reqs = append(reqs, within(0, 3*time.Second, bk))
		case 1:
			reqs = append(reqs, within(time.Duration(i)*7*time.Millisecond, 2*time.Second, bk, side))
		case 2:
			reqs = append(reqs, within(time.Duration(60-i)*11*time.Millisecond, 0, bk))
		default:
			reqs = append(reqs, within(0, time.Second, bk))
		}
	}
	gs, slack := reserveTimed(t, s, reqs...)
	var at []time.Duration
	for _, g := range gs {
		if g.OK {
			at = append(at, g.At)
		}
	}
	slices.Sort(at)
	if len(at) < 20 {
		t.Fatalf("only %d of 60 requests granted: %v", len(at), at)
	}
	// A grant's moment is only known to lie between the call's sending
	// plus At and its answer plus At (store.Grant.At; see reserveTimed):
	// moments reported up to slack early can crowd a window that the
	// moments themselves do not, so the window checked is shorter by that.
	// One round trip (one "now") makes slack the call's own duration;
	// request by request (Cluster without a hash tag) each At counts from
	// its request's own now, which the slack covers too.
	window := time.Second + bk.Grace - slack
	for i := range at {
		n := 0
		for j := i; j < len(at) && at[j]-at[i] <= window; j++ {
			n++
		}
		if n > lim.Burst+int(lim.Rate) {
			t.Fatalf("%d tokens due within %v from %v, limit %d (moments %v)", n, window, at[i], lim.Burst+int(lim.Rate), at)
		}
	}
}

// Hostile Within: negative, or taking After+Within over ten years, is an
// error (nothing taken); a duplicate key is an error whatever the Within;
// a request without buckets is granted at its After.
func testReserveEachWithinInvalid(t *testing.T, s store.Store) {
	one := store.Limit{Rate: 0.001, Burst: 1}
	ok := store.Bucket{Key: "within:valid", Limit: one}
	year := 365 * 24 * time.Hour
	bad := [][]store.Reservation{
		{within(0, time.Second, ok), within(0, -time.Microsecond, store.Bucket{Key: "n", Limit: one})},
		{within(0, time.Second, ok), within(0, 11*year, store.Bucket{Key: "h", Limit: one})},
		{within(0, time.Second, ok), within(6*year, 5*year, store.Bucket{Key: "s", Limit: one})},
		{within(0, time.Second, ok), within(0, time.Duration(1<<63-1), store.Bucket{Key: "m", Limit: one})},
		{within(0, time.Second, ok), within(0, time.Second, store.Bucket{Key: "d", Limit: one}, store.Bucket{Key: "d", Limit: one})},
		{within(0, time.Second, ok), within(-time.Second, 2*time.Second, store.Bucket{Key: "a", Limit: one})},
	}
	for i, reqs := range bad {
		if gs, err := s.Budgets().ReserveEach(t.Context(), reqs); err == nil {
			t.Fatalf("invalid list %d accepted: %+v", i, gs)
		}
	}
	if g := reserve(t, s, 0, ok); !g.OK {
		t.Fatalf("an invalid ReserveEach took a token of a valid request (wait %v)", g.Wait)
	}
	gs := reserveEach(t, s, within(time.Second, time.Hour))
	if !gs[0].OK || gs[0].At != time.Second {
		t.Fatalf("request without buckets: %+v, want granted at its after", gs[0])
	}
	// A Within of a fraction of a microsecond is none.
	gs = reserveEach(t, s, within(0, 999*time.Nanosecond, ok))
	if gs[0].OK || gs[0].At != 0 {
		t.Fatalf("sub-microsecond within on an empty bucket: %+v, want refused at 0", gs[0])
	}
}
