package budget

import (
	"testing"
	"time"

	"github.com/secondme-bridge/secondme-bridge/store"
)

// TestSpendGrace: the window when the burst can spare it, (Burst-1)/Rate
// when it cannot, none for a burst of 1 or an invalid limit.
func TestSpendGrace(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		l    store.Limit
		want time.Duration
	}{
		{store.Limit{Rate: 2, Burst: 3}, SpendWindow},
		{store.Limit{Rate: 100, Burst: 2}, 10 * time.Millisecond},
		{store.Limit{Rate: 1, Burst: 1}, 0},
		{store.Limit{Rate: 0, Burst: 5}, 0},
	} {
		if got := SpendGrace(tc.l); got != tc.want {
			t.Errorf("SpendGrace(%+v) = %v, want %v", tc.l, got, tc.want)
		}
	}
}

// TestSpendInterval: tokens due `after` from the store's "now", read
// somewhere in the round trip, are spent from the answer plus after until
// the request plus after plus the grace.
func TestSpendInterval(t *testing.T) {
	t.Parallel()
	sent := time.Unix(1000, 0)
	recv := sent.Add(4 * time.Millisecond)
	from, until := SpendInterval(sent, recv, 100*time.Millisecond, SpendWindow)
	if !from.Equal(sent.Add(104*time.Millisecond)) || !until.Equal(sent.Add(125*time.Millisecond)) {
		t.Errorf("SpendInterval = [%v, %v]", from.Sub(sent), until.Sub(sent))
	}
}

// TestAheadMargin: the margin covers the round trip (at least half the
// grace) and leaves minWakeSlack of the grace for a late wake-up.
func TestAheadMargin(t *testing.T) {
	t.Parallel()
	if got := aheadMargin(SpendWindow, time.Millisecond); got != SpendWindow/2 {
		t.Errorf("aheadMargin(fast store) = %v, want %v", got, SpendWindow/2)
	}
	if got := aheadMargin(SpendWindow, 100*time.Millisecond); got != SpendWindow-minWakeSlack {
		t.Errorf("aheadMargin(slow store) = %v, want %v", got, SpendWindow-minWakeSlack)
	}
}
