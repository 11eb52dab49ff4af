package budget

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/secondme-bridge/secondme-bridge/platforms"
)

// TestSpendAt: tokens placed ahead are spent at the first tick in their
// interval that leaves spendSlack of it; tokens due at once, or an
// interval too short for a tick, at their moment.
func TestSpendAt(t *testing.T) {
	t.Parallel()
	tick := time.Unix(1_800_000_000, 0) // a multiple of spendTick
	ms := func(n int) time.Duration { return time.Duration(n) * time.Millisecond }
	for _, tc := range []struct {
		name        string
		from, lapse time.Duration // from tick
		ahead       bool
		want        time.Duration
	}{
		{"on a tick", 0, ms(90), true, 0},
		{"the next tick", ms(3), ms(93), true, spendTick},
		{"just after the previous tick", ms(1), ms(91), true, spendTick},
		{"the tick leaves exactly the slack", ms(3), spendTick + spendSlack, true, spendTick},
		{"the tick leaves too little", ms(3), spendTick + spendSlack - 1, true, ms(3)},
		{"due at once", ms(3), ms(93), false, ms(3)},
		{"just before the tick", -ms(3), ms(87), true, 0},
	} {
		tk := &ticket{from: tick.Add(tc.from), lapse: tick.Add(tc.lapse), ahead: tc.ahead}
		if got := spendAt(tk).Sub(tick); got != tc.want {
			t.Errorf("%s: spendAt = tick%+v, want tick%+v", tc.name, got, tc.want)
		}
	}
	if got := nextTick(time.Unix(0, -int64(ms(3)))); !got.Equal(time.Unix(0, 0)) {
		t.Errorf("nextTick(3 ms before 1970) = %v, want 1970", got.UTC())
	}
	// The monotonic reading is kept: a tick is compared on the monotonic
	// clock, as the moment it came from.
	now := time.Now()
	if got := nextTick(now); got.Sub(now) < 0 || got.Sub(now) >= spendTick || got.String() == got.Round(0).String() {
		t.Errorf("nextTick(%v) = %v: want within a tick after, with a monotonic reading", now, got)
	}
}

// Calls waiting for a busy budget (its tokens granted 1/Rate apart, here
// 22.7 ms) wake on spend ticks, several at a time, rather than one by one;
// and never spend more in any window than the bucket allows, as planned
// (the moments the scheduler chose) or as done (timed after Take
// returns, which a slow machine only spreads).
func TestBusyBudgetWakesOnTicks(t *testing.T) {
	t.Parallel()
	st := newCountStore(t)
	p := New(Deps{Store: st})
	// Discord's bot budget at 50/s as shipped (platforms/discord,
	// botBudget): 44/s, a burst of 5; a grace of 4/44 s, a burst of 1 in
	// hand.
	bot := platforms.Budget{Key: "test:bot", Rate: 44, Burst: 5}
	if g := SpendGrace(limitOf(bot)); g < spendTick+spendSlack {
		t.Fatalf("the test's budget has a grace of %v, too little for ticks", g)
	}
	const n = 60
	var log, plan spendLog
	p.sched.planned = func(at time.Time) { plan.at(at) }
	var wg sync.WaitGroup
	for i := range n {
		own := platforms.Budget{Key: fmt.Sprintf("test:chan:%d", i), Rate: 1, Burst: 5}
		wg.Go(func() {
			if err := p.Take(t.Context(), ClassFinal, []platforms.Budget{own, bot}); err != nil {
				t.Error(err)
				return
			}
			log.add()
		})
	}
	wg.Wait()
	onTick := 0
	for _, at := range plan.times {
		if at.Equal(at.Truncate(spendTick)) {
			onTick++
		}
	}
	// The first calls take the burst in hand, due at once, and a call
	// granted through a round trip slower than spendSlack has no tick to
	// wait for (a loaded machine under -race); without ticks no moment
	// falls on one exactly.
	t.Logf("%d of %d calls planned on a tick", onTick, n)
	if onTick*2 < n {
		t.Errorf("%d of %d calls were to spend on a spend tick, want most", onTick, n)
	}
	for _, l := range []*spendLog{&plan, &log} {
		if m, most := l.most(time.Second), bot.Burst+int(bot.Rate); m > most {
			t.Errorf("%d calls within a second, the bucket allows %d", m, most)
		}
		if m, most := l.most(250*time.Millisecond), bot.Burst+int(bot.Rate/4); m > most {
			t.Errorf("%d calls within 250 ms, the bucket allows %d", m, most)
		}
	}
}
