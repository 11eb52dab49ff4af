package redis_test

import (
	"math"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/secondme-bridge/secondme-bridge/store"
	"github.com/secondme-bridge/secondme-bridge/store/storetest"
)

// clockSlack covers the rounding of the bucket script (whole µs waits,
// whole ms TTLs) and any drift between the server's TIME and the test's
// clock over a second or two.
const clockSlack = 2 * time.Millisecond

// bucketModel is the arithmetic of the Lua token bucket (luaTake), stated
// in the test's time. The bucket was created full, and emptied, by a Take
// the server ran at an instant T0 the test knows only to lie within
// [t0lo, t0hi] (before the call, after it returned). Until it is full
// again, a Take at server instant T finds
//
//	tokens(T) = min(burst, burst + (T-T0)·rate − taken)
//
// where taken counts every token granted since T0 (including T0's burst):
// a grant writes its tokens and ts, a denial writes nothing, and the sum
// is the same. A call bracketed by [before, after] ran at some T with
// T−T0 in [before−t0hi, after−t0lo], which bounds what it may return.
type bucketModel struct {
	l          store.Limit
	t0lo, t0hi time.Time
	taken      int
	// grantCall is how long the last granted call took: the script sets
	// the key's expiry from the server's millisecond clock, which may
	// differ from the TIME it read by as long as the script ran.
	grantCall time.Duration
}

// tokens returns the bounds of the tokens a call bracketed by
// [before, after] found.
func (m *bucketModel) tokens(before, after time.Time) (lo, hi float64) {
	at := func(d time.Duration) float64 {
		return math.Min(float64(m.l.Burst), float64(m.l.Burst)+d.Seconds()*m.l.Rate-float64(m.taken))
	}
	return at(before.Sub(m.t0hi) - clockSlack), at(after.Sub(m.t0lo) + clockSlack)
}

// check checks a Take of n bracketed by [before, after] that returned
// ok and wait against the model, and counts a grant.
func (m *bucketModel) check(t *testing.T, what string, n int, before, after time.Time, ok bool, wait time.Duration) {
	t.Helper()
	lo, hi := m.tokens(before, after)
	need := float64(n)
	switch {
	case ok && wait != 0:
		t.Errorf("%s: granted with wait %v, want 0", what, wait)
	case ok && hi < need:
		t.Errorf("%s: granted %d with at most %.4f tokens in the bucket", what, n, hi)
	case !ok && lo >= need:
		t.Errorf("%s: denied %d with at least %.4f tokens in the bucket", what, n, lo)
	case !ok:
		// wait = (n − tokens)/rate, rounded up to a µs.
		minWait := time.Duration((need - hi) / m.l.Rate * float64(time.Second))
		maxWait := time.Duration((need-lo)/m.l.Rate*float64(time.Second)) + time.Microsecond
		if wait <= 0 || wait < minWait || wait > maxWait {
			t.Errorf("%s: denied %d with wait %v, want in [%v, %v] (%.4f to %.4f tokens at %v/s)",
				what, n, wait, minWait, maxWait, lo, hi, m.l.Rate)
		}
	}
	if ok {
		m.taken += n
		m.grantCall = after.Sub(before)
	}
}

// full is when the bucket is full again (T0 + taken/rate, in the
// test's time: [lo, hi]), which is when its key expires.
func (m *bucketModel) full() (lo, hi time.Time) {
	d := time.Duration(float64(m.taken) / m.l.Rate * float64(time.Second))
	return m.t0lo.Add(d), m.t0hi.Add(d)
}

// checkExpiry reads the bucket key's PTTL and checks it against when the
// model says the bucket is full; it reports whether the key is gone
// (only allowed once the bucket may be full).
func (m *bucketModel) checkExpiry(t *testing.T, c goredis.UniversalClient, key string) (gone bool) {
	t.Helper()
	before := time.Now()
	pttl, err := c.PTTL(t.Context(), key).Result()
	after := time.Now()
	must(t, err)
	fullLo, fullHi := m.full()
	if pttl == noTTL {
		t.Fatalf("bucket %s has no TTL", key)
	}
	if pttl < 0 {
		if after.Add(clockSlack + m.grantCall).Before(fullLo) {
			t.Errorf("bucket %s gone %v before it can be full", key, fullLo.Sub(after))
		}
		return true
	}
	// The key expires at full: PTTL read at R is full − R, rounded up to a
	// ms, give or take how long the script that set it ran.
	lo, hi := fullLo.Sub(after)-clockSlack-m.grantCall, fullHi.Sub(before)+clockSlack+m.grantCall
	if pttl < lo || pttl > hi {
		t.Errorf("PTTL(%s) = %v, want in [%v, %v]: the time until the bucket is full", key, pttl, lo, hi)
	}
	return false
}

// TestBudgetOnServerClock drives the Lua token bucket on the real
// server's clock (TIME). The clock cannot be set, so every answer is
// checked against the bucket's arithmetic over the time the test measured
// around each call (bucketModel): a grant only when the tokens may be
// there, a denial only when they may not, a wait of (n − tokens)/rate,
// and a key that expires when the bucket is full again. Some outcomes are
// fixed whatever the timing: a new bucket grants its burst, a take after
// the returned wait is granted, and a bucket left alone until its key
// expires grants its burst again.
func TestBudgetOnServerClock(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	s, b := openReal(t)
	key := b.Prefix + "budget:b"
	l := store.Limit{Rate: 4, Burst: 3} // a token per 250 ms; full from empty in 750 ms
	m := &bucketModel{l: l}
	denied := 0
	take := func(what string, n int) (bool, time.Duration) {
		t.Helper()
		before := time.Now()
		ok, wait, err := s.Take(ctx, "b", l, n)
		after := time.Now()
		must(t, err)
		if m.t0lo.IsZero() {
			m.t0lo, m.t0hi = before, after
		}
		m.check(t, what, n, before, after, ok, wait)
		if !ok {
			denied++
		}
		return ok, wait
	}

	if ok, _ := take("the burst of a new bucket", 3); !ok {
		t.Fatal("a new bucket denied its burst")
	}
	m.checkExpiry(t, b.Raw(), key) // 750 ms from T0
	take("the burst again", 3)     // denied unless 750 ms passed
	ok, wait := take("a token", 1) // denied unless 250 ms passed
	if !ok {
		time.Sleep(wait + clockSlack)
		if ok, _ := take("a token after the returned wait", 1); !ok {
			t.Fatalf("take after waiting the returned %v denied", wait)
		}
	}
	take("the next token", 1) // 250 ms more
	if denied == 0 {
		t.Skip("every take was granted: the machine is too slow to judge a denial (see bucketModel)")
	}
	m.checkExpiry(t, b.Raw(), key)

	// Left alone, the bucket is full again when its key expires.
	deadline := time.Now().Add(10 * time.Second)
	for !m.checkExpiry(t, b.Raw(), key) {
		if time.Now().After(deadline) {
			t.Fatal("the bucket's key outlived its refill by 10 s")
		}
		time.Sleep(10 * time.Millisecond)
	}
	if ok, _ := take("the burst of a refilled bucket", 3); !ok {
		t.Fatal("the bucket did not grant its burst after refilling")
	}
}

// Redis's budgets are a round trip away: never local
// (store.LocalBudgets), so the pacer gathers its calls.
func TestBudgetsNotLocal(t *testing.T) {
	t.Parallel()
	if store.BudgetsLocal(storetest.Open(t, storetest.Redis).Budgets()) {
		t.Error("Redis's budgets are local")
	}
}
