package storetest

import (
	"math"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/secondme-bridge/secondme-bridge/store"
)

// leaseGrace is the grace the lease tests ask a bucket to keep in hand
// (store.Bucket.Grace). The token kept in hand becomes grantable once the
// grace has passed, so the tests judge exact counts only when they ran
// within inTime of their start; a grace far longer than the engine's
// 25 ms keeps that from depending on a loaded machine's scheduling.
const (
	leaseGrace = 400 * time.Millisecond
	inTime     = leaseGrace - 50*time.Millisecond
)

func lease(t *testing.T, s store.Store, key string, l store.Limit, want int) store.Leased {
	t.Helper()
	got, err := s.Budgets().Lease(t.Context(), store.Bucket{Key: key, Limit: l, Grace: leaseGrace}, want)
	mustOK(t, err, "lease "+key)
	if got.Granted < 0 || got.Granted > want {
		t.Fatalf("lease of %d granted %d", want, got.Granted)
	}
	if got.Granted == want && got.Wait != 0 {
		t.Fatalf("a full lease returned wait %v, want 0", got.Wait)
	}
	if got.Granted < want && got.Wait <= 0 {
		t.Fatalf("a short lease (%d of %d) returned wait %v, want > 0", got.Granted, want, got.Wait)
	}
	return got
}

// A lease grants what Reserve would grant one after another: a bucket of
// Burst 10 at Rate 1 keeps ⌈Rate×grace⌉ = 1 token in hand, so a full
// bucket leases 9, then nothing, and the wait is about the grace.
func testLeaseBatch(t *testing.T, s store.Store) {
	l := store.Limit{Rate: 1, Burst: 10}
	start := time.Now()
	if got := lease(t, s, "global", l, 4); got.Granted != 4 {
		t.Fatalf("lease 4 of a full bucket granted %d", got.Granted)
	}
	got := lease(t, s, "global", l, 10)
	skipIfSlow(t, start, inTime, "judge a lease before the token in hand is free")
	if got.Granted != 5 {
		t.Fatalf("lease 10 after 4 of a bucket granting 9 granted %d, want 5", got.Granted)
	}
	if got.Wait > leaseGrace {
		t.Fatalf("wait after the burst = %v, want ≤ the grace %v", got.Wait, leaseGrace)
	}
	got = lease(t, s, "global", l, 1)
	if got.Granted != 0 {
		skipIfSlow(t, start, leaseGrace, "refuse the token kept in hand")
		t.Fatalf("an empty bucket leased %d", got.Granted)
	}
	// Reserve shares the bucket: it is empty for Reserve too.
	if g := reserve(t, s, 0, store.Bucket{Key: "global", Limit: l, Grace: leaseGrace}); g.OK {
		skipIfSlow(t, start, leaseGrace, "refuse a reservation of an empty bucket")
		t.Fatal("Reserve granted from a bucket emptied by leases")
	}
	// Another key is another bucket.
	if got := lease(t, s, "other", l, 9); got.Granted != 9 {
		t.Fatalf("another key's bucket leased %d of 9", got.Granted)
	}
}

// Returned tokens are leased again at once; returning more than is out
// never makes a bucket more than full.
func testLeaseReturn(t *testing.T, s store.Store) {
	l := store.Limit{Rate: 1, Burst: 10}
	start := time.Now()
	if got := lease(t, s, "r", l, 9); got.Granted != 9 {
		t.Fatalf("lease 9 of a full bucket granted %d", got.Granted)
	}
	mustOK(t, s.Budgets().Return(t.Context(), store.Bucket{Key: "r", Limit: l, Grace: leaseGrace}, 6), "return 6")
	got := lease(t, s, "r", l, 9)
	skipIfSlow(t, start, inTime, "judge the returned tokens")
	if got.Granted != 6 {
		t.Fatalf("lease 9 after returning 6 granted %d, want 6", got.Granted)
	}
	mustOK(t, s.Budgets().Return(t.Context(), store.Bucket{Key: "r", Limit: l, Grace: leaseGrace}, 9), "return all")
	mustOK(t, s.Budgets().Return(t.Context(), store.Bucket{Key: "r", Limit: l, Grace: leaseGrace}, 9), "return more than is out")
	mustOK(t, s.Budgets().Return(t.Context(), store.Bucket{Key: "never", Limit: l, Grace: leaseGrace}, 3), "return to a full bucket")
	if got := lease(t, s, "r", l, 10); got.Granted != 9 {
		t.Fatalf("a bucket given back more than it lent leased %d, want its 9", got.Granted)
	}
}

// Leases racing on one bucket never grant more than it holds, on every
// backend (one process here; Redis makes each lease one script).
func testLeaseConcurrent(t *testing.T, s store.Store) {
	l := store.Limit{Rate: 0.001, Burst: 100} // no refill during the test
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		total int
		errs  []error
	)
	for range 16 {
		wg.Go(func() {
			for range 4 {
				got, err := s.Budgets().Lease(t.Context(), store.Bucket{Key: "race", Limit: l, Grace: leaseGrace}, 3)
				mu.Lock()
				total += got.Granted
				if err != nil {
					errs = append(errs, err)
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	for _, err := range errs {
		mustOK(t, err, "concurrent lease")
	}
	// The token kept in hand for the grace is granted SpendGrace after
	// the bucket was emptied (to a racer or to the lease below): in all,
	// exactly the burst, never more (no refill for 1000 s).
	if total < l.Burst-1 || total > l.Burst {
		t.Fatalf("16×4 leases of 3 granted %d in total, want %d or %d", total, l.Burst-1, l.Burst)
	}
	time.Sleep(leaseGrace + 5*time.Millisecond)
	total += lease(t, s, "race", l, 3).Granted
	if total != l.Burst {
		t.Fatalf("the race and a lease after the grace granted %d in total, want exactly the burst %d", total, l.Burst)
	}
}

// Hostile arguments are refused with an error that says what is wrong,
// and take nothing.
func testLeaseInvalid(t *testing.T, s store.Store) {
	ctx := t.Context()
	good := store.Limit{Rate: 2, Burst: 5}
	cases := []struct {
		name, key string
		l         store.Limit
		n         int
		want      string
	}{
		{"zero", "k", good, 0, "count"},
		{"negative", "k", good, -3, "count"},
		{"over burst", "k", good, 6, "count"},
		{"huge", "k", store.Limit{Rate: 1, Burst: math.MaxInt}, math.MaxInt, "burst"},
		{"empty key", "", good, 1, "empty key"},
		{"zero rate", "k", store.Limit{Rate: 0, Burst: 5}, 1, "rate"},
		{"NaN rate", "k", store.Limit{Rate: math.NaN(), Burst: 5}, 1, "rate"},
		{"zero burst", "k", store.Limit{Rate: 1, Burst: 0}, 1, "burst"},
	}
	for _, g := range []time.Duration{-time.Millisecond, 3 * time.Second} { // (Burst-1)/Rate is 2 s
		b := store.Bucket{Key: "k", Limit: good, Grace: g}
		if _, err := s.Budgets().Lease(ctx, b, 1); err == nil || !strings.Contains(err.Error(), "grace") {
			t.Errorf("Lease with grace %v: err = %v, want one mentioning the grace", g, err)
		}
		if err := s.Budgets().Return(ctx, b, 1); err == nil || !strings.Contains(err.Error(), "grace") {
			t.Errorf("Return with grace %v: err = %v, want one mentioning the grace", g, err)
		}
	}
	for _, c := range cases {
		_, err := s.Budgets().Lease(ctx, store.Bucket{Key: c.key, Limit: c.l, Grace: leaseGrace}, c.n)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("Lease %s: err = %v, want one mentioning %q", c.name, err, c.want)
		}
		err = s.Budgets().Return(ctx, store.Bucket{Key: c.key, Limit: c.l, Grace: leaseGrace}, c.n)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("Return %s: err = %v, want one mentioning %q", c.name, err, c.want)
		}
	}
	if got := lease(t, s, "k", good, 4); got.Granted != 4 {
		t.Fatalf("after refused calls the bucket leased %d of 4", got.Granted)
	}
}
