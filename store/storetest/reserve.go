package storetest

import (
	"slices"
	"testing"
	"time"

	"github.com/secondme-bridge/secondme-bridge/store"
)

func reserve(t *testing.T, s store.Store, after time.Duration, buckets ...store.Bucket) store.Grant {
	t.Helper()
	g, err := s.Budgets().Reserve(t.Context(), buckets, after)
	mustOK(t, err, "reserve")
	if g.OK && (g.Wait != 0 || len(g.Short) != 0) {
		t.Fatalf("granted Reserve returned wait %v, short %v; want neither", g.Wait, g.Short)
	}
	if !g.OK && (g.Wait <= 0 || len(g.Short) == 0) {
		t.Fatalf("refused Reserve returned wait %v, short %v; want both", g.Wait, g.Short)
	}
	return g
}

// A bucket grants Burst - Rate×Grace tokens at once: with Rate 2, Burst 3
// and a grace of 25 ms, two now and the third 25 ms later.
//
// The waits are judged against the time since the first call (an upper
// bound of the time since its due moment t0, the origin of every wait
// here), so a slow machine loosens the bounds instead of failing them.
func testReserveBurst(t *testing.T, s store.Store) {
	const grace = 25 * time.Millisecond
	b := store.Bucket{Key: "chan:1", Limit: store.Limit{Rate: 2, Burst: 3}, Grace: grace}
	start := time.Now()
	for i := range 2 {
		if g := reserve(t, s, 0, b); !g.OK {
			t.Fatalf("reservation %d of a full bucket refused (wait %v)", i+1, g.Wait)
		}
	}
	g := reserve(t, s, 0, b)
	if g.OK {
		skipIfSlow(t, start, grace, "refuse the token kept in hand")
		t.Fatal("the token kept in hand for the spend grace was granted at once")
	}
	if g.Wait > grace || !slices.Equal(g.Short, []int{0}) {
		t.Fatalf("refusal: wait %v (want ≤ %v), short %v (want [0])", g.Wait, grace, g.Short)
	}
	time.Sleep(g.Wait + 5*time.Millisecond)
	if g := reserve(t, s, 0, b); !g.OK {
		t.Fatalf("reserve after waiting the returned wait refused (wait %v)", g.Wait)
	}
	// Three tokens from t0: the next fits at t0 + 4 intervals - (Burst
	// intervals - grace) = t0 + 525 ms, so a call at t waits 525 ms - (t -
	// t0), at most 495 ms (t is at least 30 ms after t0, past the sleep).
	g = reserve(t, s, 0, b)
	elapsed := time.Since(start)
	skipIfSlow(t, start, 500*time.Millisecond, "judge the wait of an empty bucket")
	if g.OK {
		t.Fatal("an empty bucket granted a token")
	}
	if lo, hi := 525*time.Millisecond-elapsed, 500*time.Millisecond; g.Wait < lo || g.Wait > hi {
		t.Fatalf("empty bucket: wait %v, want between %v and %v (about one interval, 500ms, less the %v since the first token)",
			g.Wait, lo, hi, elapsed.Round(time.Millisecond))
	}
}

// Reserve is all or none: a short bucket leaves the others untouched.
func testReserveAllOrNone(t *testing.T, s store.Store) {
	slow := store.Limit{Rate: 0.001, Burst: 1} // one token per 1,000 s, grace 0
	a := store.Bucket{Key: "a", Limit: slow}
	b := store.Bucket{Key: "b", Limit: slow}
	c := store.Bucket{Key: "c", Limit: slow}
	if g := reserve(t, s, 0, a); !g.OK {
		t.Fatal("first token of a full bucket refused")
	}
	g := reserve(t, s, 0, b, a, c)
	if g.OK || !slices.Equal(g.Short, []int{1}) {
		t.Fatalf("reserve [b a c] with a empty: ok %v short %v, want refused with short [1]", g.OK, g.Short)
	}
	if g.Wait < 999*time.Second || g.Wait > 1000*time.Second {
		t.Fatalf("wait %v, want about 1,000 s", g.Wait)
	}
	if g := reserve(t, s, 0, b, c); !g.OK {
		t.Fatal("b and c lost their token to a refused reservation")
	}
	g = reserve(t, s, 0, c, a, b)
	if g.OK || !slices.Equal(g.Short, []int{0, 1, 2}) {
		t.Fatalf("reserve [c a b], all empty: ok %v short %v, want short [0 1 2]", g.OK, g.Short)
	}
}

// A token reserved ahead counts from its due moment: later reservations
// queue behind it, and it never frees the bucket before then. The waits
// are judged against the time since the first call (t1, the store's now
// then, is the origin of every wait here), so a slow machine loosens the
// bounds instead of failing them.
func testReserveAhead(t *testing.T, s store.Store) {
	const interval = time.Second
	b := store.Bucket{Key: "ahead", Limit: store.Limit{Rate: 1, Burst: 1}} // one token a second, grace 0
	start := time.Now()
	if g := reserve(t, s, time.Second, b); !g.OK {
		t.Fatal("reserve 1 s ahead from a full bucket refused")
	}
	// Due at t1+1s too, the second token fits one interval later.
	g := reserve(t, s, time.Second, b)
	elapsed := time.Since(start)
	skipIfSlow(t, start, interval, "wait behind a reservation")
	if g.OK {
		t.Fatal("a second token due at the same moment was granted")
	}
	if lo, hi := interval-elapsed, interval+time.Millisecond; g.Wait < lo || g.Wait > hi {
		t.Fatalf("wait %v, want between %v and %v (one interval after the due moment, less the %v since the first call)",
			g.Wait, lo, hi, elapsed.Round(time.Millisecond))
	}
	// An immediate token fits only an interval after the one due at t1+1s.
	g = reserve(t, s, 0, b)
	elapsed = time.Since(start)
	skipIfSlow(t, start, interval, "wait behind a reservation ahead")
	if lo, hi := time.Second+interval-elapsed, time.Second+interval+time.Millisecond; g.OK || g.Wait < lo || g.Wait > hi {
		t.Fatalf("an immediate token while one is reserved 1 s ahead: ok %v wait %v, want refused for %v to %v", g.OK, g.Wait, lo, hi)
	}
	if g := reserve(t, s, time.Second+interval, b); !g.OK {
		t.Fatalf("the next slot after the reservation refused (wait %v)", g.Wait)
	}
}

// Reservation buckets and Take buckets are separate, and bad arguments are
// errors that take nothing.
func testReserveSeparateAndInvalid(t *testing.T, s store.Store) {
	ctx := t.Context()
	l := store.Limit{Rate: 0.001, Burst: 1}
	if ok, _ := take(t, s, "shared", l, 1); !ok {
		t.Fatal("take from a full bucket refused")
	}
	if g := reserve(t, s, 0, store.Bucket{Key: "shared", Limit: l}); !g.OK {
		t.Fatal("Reserve shares its state with Take")
	}
	if g := reserve(t, s, 0); !g.OK {
		t.Fatal("Reserve of no buckets refused")
	}
	good := store.Bucket{Key: "good", Limit: l}
	bad := []struct {
		name    string
		buckets []store.Bucket
		after   time.Duration
	}{
		{"negative after", []store.Bucket{good}, -time.Millisecond},
		{"key twice", []store.Bucket{good, good}, 0},
		{"empty key", []store.Bucket{good, {Limit: l}}, 0},
		{"zero rate", []store.Bucket{good, {Key: "x", Limit: store.Limit{Burst: 1}}}, 0},
		{"zero burst", []store.Bucket{good, {Key: "x", Limit: store.Limit{Rate: 1}}}, 0},
		// A bucket whose state would outlive what the backends can hold
		// (bolt forgot it and granted again; Redis failed halfway).
		{"after over ten years", []store.Bucket{good}, 11 * 365 * 24 * time.Hour},
		{"burst/rate over ten years", []store.Bucket{good, {Key: "x", Limit: store.Limit{Rate: 1e-11, Burst: 1}}}, 0},
		{"negative grace", []store.Bucket{good, {Key: "x", Limit: store.Limit{Rate: 1, Burst: 2}, Grace: -time.Millisecond}}, 0},
		{"grace over (burst-1)/rate", []store.Bucket{good, {Key: "x", Limit: store.Limit{Rate: 1, Burst: 2}, Grace: 1001 * time.Millisecond}}, 0},
	}
	for _, tt := range bad {
		if _, err := s.Budgets().Reserve(ctx, tt.buckets, tt.after); err == nil {
			t.Errorf("Reserve with %s: no error", tt.name)
		}
	}
	if g := reserve(t, s, 0, good); !g.OK {
		t.Fatal("an invalid Reserve took a token")
	}
}

// 100 goroutines race for one token of a and b, in both orders, while 100
// others race for c: exactly one of each group wins, and a, b and c are
// empty afterwards.
func testReserveExact(t *testing.T, s store.Store) {
	ctx := t.Context()
	slow := store.Limit{Rate: 0.001, Burst: 1}
	a := store.Bucket{Key: "a", Limit: slow}
	b := store.Bucket{Key: "b", Limit: slow}
	c := store.Bucket{Key: "c", Limit: slow}
	var pair, lone int
	done := make(chan struct{})
	go func() {
		defer close(done)
		lone = race(t, 100, func(int) (bool, error) {
			g, err := s.Budgets().Reserve(ctx, []store.Bucket{c}, 0)
			return g.OK, err
		})
	}()
	pair = race(t, 100, func(i int) (bool, error) {
		buckets := []store.Bucket{a, b}
		if i%2 == 1 {
			buckets = []store.Bucket{b, a}
		}
		g, err := s.Budgets().Reserve(ctx, buckets, 0)
		return g.OK, err
	})
	<-done
	exactly(t, "100 concurrent Reserve of a and b", pair, 1)
	exactly(t, "100 concurrent Reserve of c", lone, 1)
	for _, bu := range []store.Bucket{a, b, c} {
		if g := reserve(t, s, 0, bu); g.OK {
			t.Errorf("bucket %s still had a token", bu.Key)
		}
	}
}
