package storetest

import (
	"testing"
	"time"

	"github.com/secondme-bridge/secondme-bridge/store"
)

func take(t *testing.T, s store.Store, key string, l store.Limit, n int) (bool, time.Duration) {
	t.Helper()
	ok, wait, err := s.Budgets().Take(t.Context(), key, l, n)
	mustOK(t, err, "take "+key)
	if ok && wait != 0 {
		t.Fatalf("granted Take returned wait %v, want 0", wait)
	}
	return ok, wait
}

func testBudgetBurst(t *testing.T, s store.Store) {
	l := store.Limit{Rate: 2, Burst: 3} // one token per 500ms
	start := time.Now()
	for i := range l.Burst {
		if ok, _ := take(t, s, "chan:1", l, 1); !ok {
			t.Fatalf("take %d of a full bucket of %d denied", i+1, l.Burst)
		}
	}
	ok, wait := take(t, s, "chan:1", l, 1)
	if ok {
		skipIfSlow(t, start, 500*time.Millisecond, "deny before a token refills")
		t.Fatal("take from an empty bucket granted")
	}
	if wait <= 0 || wait > 500*time.Millisecond {
		t.Fatalf("wait = %v, want in (0, 500ms] at 2 tokens/s", wait)
	}
	if ok, _ := take(t, s, "chan:2", l, 3); !ok {
		t.Fatal("another key's bucket is not full")
	}
	time.Sleep(wait + 20*time.Millisecond)
	if ok, _ := take(t, s, "chan:1", l, 1); !ok {
		t.Fatalf("take after waiting the returned %v denied", wait)
	}
}

func testBudgetRefill(t *testing.T, s store.Store) {
	l := store.Limit{Rate: 4, Burst: 4} // one token per 250ms
	start := time.Now()
	if ok, _ := take(t, s, "b", l, 4); !ok {
		t.Fatal("take the whole burst denied")
	}
	ok, wait := take(t, s, "b", l, 2)
	if ok {
		skipIfSlow(t, start, 500*time.Millisecond, "deny before 2 tokens refill")
		t.Fatal("take 2 from an empty bucket granted")
	}
	if wait <= 0 || wait > 500*time.Millisecond {
		t.Fatalf("wait for 2 tokens = %v, want in (0, 500ms]", wait)
	}
	time.Sleep(1100 * time.Millisecond) // refills 4.4, capped at the burst of 4
	start = time.Now()
	if ok, _ := take(t, s, "b", l, 4); !ok {
		t.Fatal("refilled bucket denied its burst")
	}
	if ok, _ := take(t, s, "b", l, 1); ok {
		skipIfSlow(t, start, 250*time.Millisecond, "deny after taking the burst")
		t.Fatal("bucket refilled beyond its burst")
	}
}

func testBudgetInvalid(t *testing.T, s store.Store) {
	ctx, b := t.Context(), s.Budgets()
	bad := []struct {
		l store.Limit
		n int
	}{
		{store.Limit{Rate: 1, Burst: 2}, 3},
		{store.Limit{Rate: 1, Burst: 2}, 0},
		{store.Limit{Rate: 0, Burst: 2}, 1},
		{store.Limit{Rate: 1, Burst: 0}, 1},
	}
	for _, tt := range bad {
		_, _, err := b.Take(ctx, "k", tt.l, tt.n)
		mustErr(t, err, "take with invalid arguments")
	}
}
