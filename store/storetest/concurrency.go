package storetest

import (
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/secondme-bridge/secondme-bridge/store"
)

// RunConcurrencyTests checks atomicity under contention: many goroutines
// race on one key and exactly the right number must win. Each subtest gets
// a fresh store from newStore.
func RunConcurrencyTests(t *testing.T, newStore func(t *testing.T) store.Store) {
	t.Helper()
	runSubTests(t, newStore, []subTest{
		{"ConsumeStateOnce", testConsumeStateOnce},
		{"PutStateOnce", testPutStateOnce},
		{"ClaimOnce", testClaimOnce},
		{"AcquireOnce", testAcquireOnce},
		{"LockHandOver", testLockHandOver},
		{"BudgetExact", testBudgetExact},
		{"ReserveExact", testReserveExact},
		{"TurnsBeginOnce", testBeginOnce},
		{"TurnsAdmitOnce", testAdmitOnce},
		{"TurnsAdmitBudgetExact", testAdmitBudgetExact},
	})
}

// race runs f(i) for i in [0, n) in n goroutines released together, and
// returns how many returned true. Unexpected errors fail the test.
func race(t *testing.T, n int, f func(i int) (bool, error)) int {
	t.Helper()
	var (
		wg    sync.WaitGroup
		start = make(chan struct{})
		wins  atomic.Int64
		errs  = make(chan error, n)
	)
	for i := range n {
		wg.Go(func() {
			<-start
			won, err := f(i)
			if err != nil {
				errs <- err
			}
			if won {
				wins.Add(1)
			}
		})
	}
	close(start)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Errorf("unexpected error: %v", err)
	}
	return int(wins.Load())
}

// lose turns the expected losing sentinel into (false, nil).
func lose(err, want error) (bool, error) {
	switch {
	case err == nil:
		return true, nil
	case errors.Is(err, want):
		return false, nil
	default:
		return false, err
	}
}

func exactly(t *testing.T, what string, got, want int) {
	t.Helper()
	if got != want {
		t.Fatalf("%s: %d winners, want exactly %d", what, got, want)
	}
}

func testConsumeStateOnce(t *testing.T, s store.Store) {
	ctx := t.Context()
	mustOK(t, s.States().PutState(ctx, "st", samplePending(), time.Minute), "put state")
	wins := race(t, 100, func(int) (bool, error) {
		_, err := s.States().ConsumeState(ctx, "st")
		return lose(err, store.ErrNotFound)
	})
	exactly(t, "100 concurrent ConsumeState", wins, 1)
}

func testPutStateOnce(t *testing.T, s store.Store) {
	ctx := t.Context()
	wins := race(t, 50, func(int) (bool, error) {
		return lose(s.States().PutState(ctx, "st", samplePending(), time.Minute), store.ErrConflict)
	})
	exactly(t, "50 concurrent PutState", wins, 1)
}

func testClaimOnce(t *testing.T, s store.Store) {
	ctx := t.Context()
	wins := race(t, 100, func(int) (bool, error) {
		return s.Dedupe().Claim(ctx, "event-1", time.Minute)
	})
	exactly(t, "100 concurrent Claim", wins, 1)
}

func testAcquireOnce(t *testing.T, s store.Store) {
	ctx := t.Context()
	wins := race(t, 50, func(i int) (bool, error) {
		_, err := s.Locks().Acquire(ctx, "lock", fmt.Sprintf("owner-%d", i), time.Minute)
		return lose(err, store.ErrConflict)
	})
	exactly(t, "50 concurrent Acquire", wins, 1)
}

// testLockHandOver has 10 owners take turns on one lock; every lease gets
// a distinct fence, and every lease but the current one is refused.
func testLockHandOver(t *testing.T, s store.Store) {
	ctx, locks := t.Context(), s.Locks()
	var (
		mu     sync.Mutex
		leases []store.Lease
	)
	race(t, 10, func(i int) (bool, error) {
		owner := fmt.Sprintf("owner-%d", i)
		deadline := time.Now().Add(10 * time.Second)
		for time.Now().Before(deadline) {
			l, err := locks.Acquire(ctx, "lock", owner, time.Minute)
			if errors.Is(err, store.ErrConflict) {
				time.Sleep(time.Millisecond)
				continue
			}
			if err != nil {
				return false, err
			}
			if err := locks.Validate(ctx, l); err != nil {
				return false, fmt.Errorf("validate own fresh lease: %w", err)
			}
			mu.Lock()
			leases = append(leases, l)
			mu.Unlock()
			return true, locks.Release(ctx, l)
		}
		return false, fmt.Errorf("%s never acquired the lock", owner)
	})
	fences := map[uint64]bool{}
	for _, l := range leases {
		if fences[l.Fence] {
			t.Fatalf("fence %d handed out twice", l.Fence)
		}
		fences[l.Fence] = true
	}
	cur, err := locks.Acquire(ctx, "lock", "last", time.Minute)
	mustOK(t, err, "acquire after hand-over")
	for _, l := range leases {
		higher(t, cur, l)
		mustBe(t, locks.Validate(ctx, l), store.ErrStaleFence, "validate old lease")
		mustBe(t, locks.Release(ctx, l), store.ErrStaleFence, "release old lease")
	}
	mustOK(t, locks.Validate(ctx, cur), "current lease after stale releases")
}

func testBudgetExact(t *testing.T, s store.Store) {
	ctx := t.Context()
	l := store.Limit{Rate: 0.001, Burst: 10} // no refill during the test
	wins := race(t, 100, func(int) (bool, error) {
		ok, _, err := s.Budgets().Take(ctx, "bucket", l, 1)
		return ok, err
	})
	exactly(t, "100 concurrent Take from a burst of 10", wins, 10)
}
