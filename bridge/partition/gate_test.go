package partition

import (
	"slices"
	"sync"
	"testing"
	"time"
)

// TestGateSpacesStarts: starts in one bucket are spaced by the window
// across concurrent callers (as replicas sharing the store would be);
// another bucket is not held back by the first.
func TestGateSpacesStarts(t *testing.T) {
	t.Parallel()
	st := openStore(t)
	const window = 400 * time.Millisecond
	g, err := NewGate(st.Budgets(), "identify", window)
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var at []time.Time
	var wg sync.WaitGroup
	for range 3 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := g.Wait(t.Context(), 0, 2); err != nil {
				t.Error(err)
				return
			}
			mu.Lock()
			at = append(at, time.Now())
			mu.Unlock()
		}()
	}
	wg.Wait()
	slices.SortFunc(at, func(a, b time.Time) int { return a.Compare(b) })
	for i := 1; i < len(at); i++ {
		// The bucket refills on the store's clock; the callers read theirs
		// after the store answered, so allow a little less than a window.
		if gap := at[i].Sub(at[i-1]); gap < window-50*time.Millisecond {
			t.Errorf("starts %d and %d of bucket 0 %v apart, want at least the window %v", i-1, i, gap, window)
		}
	}
	began := time.Now()
	if err := g.Wait(t.Context(), 1, 2); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(began); d > window {
		t.Errorf("bucket 1 waited %v behind bucket 0", d)
	}
	if err := g.Wait(t.Context(), 2, 2); err == nil {
		t.Error("bucket 2 of 2 accepted")
	}
}
