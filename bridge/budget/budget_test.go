package budget

import (
	"testing"
	"time"

	"github.com/secondme-bridge/secondme-bridge/store"
)

// TestSpendGrace: the window when the burst can spare it (tickWindow up
// to maxTickRate, SpendWindow above), (Burst-1)/Rate when it cannot, none
// for a burst of 1 or an invalid limit.
func TestSpendGrace(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		l    store.Limit
		want time.Duration
	}{
		{store.Limit{Rate: 2, Burst: 3}, tickWindow},
		{store.Limit{Rate: 44, Burst: 5}, 90909090 * time.Nanosecond}, // Discord's bot budget at 50/s: 4/44 s
		{store.Limit{Rate: maxTickRate, Burst: 100}, tickWindow},
		{store.Limit{Rate: 2000, Burst: 1000}, SpendWindow},
		{store.Limit{Rate: 2000, Burst: 11}, 5 * time.Millisecond},
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
// grace, or of SpendWindow for a wider one) and leaves minWakeSlack of the
// grace for a late wake-up.
func TestAheadMargin(t *testing.T) {
	t.Parallel()
	if got := aheadMargin(SpendWindow, time.Millisecond); got != SpendWindow/2 {
		t.Errorf("aheadMargin(fast store) = %v, want %v", got, SpendWindow/2)
	}
	if got := aheadMargin(SpendWindow, 100*time.Millisecond); got != SpendWindow-minWakeSlack {
		t.Errorf("aheadMargin(slow store) = %v, want %v", got, SpendWindow-minWakeSlack)
	}
	// A tick's wide grace places the tokens no earlier for a fast store,
	// and covers a slow one's round trip.
	if got := aheadMargin(tickWindow, time.Millisecond); got != SpendWindow/2 {
		t.Errorf("aheadMargin(tickWindow, fast store) = %v, want %v", got, SpendWindow/2)
	}
	if got := aheadMargin(tickWindow, 60*time.Millisecond); got != 60*time.Millisecond {
		t.Errorf("aheadMargin(tickWindow, 60 ms round trips) = %v, want 60ms", got)
	}
}
