package bridge

import (
	"context"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/secondme-bridge/secondme-bridge/bridge/budget"
	"github.com/secondme-bridge/secondme-bridge/bridge/internal/metrics"
	"github.com/secondme-bridge/secondme-bridge/bridge/render"
	"github.com/secondme-bridge/secondme-bridge/platforms"
	"github.com/secondme-bridge/secondme-bridge/platforms/platformtest"
	"github.com/secondme-bridge/secondme-bridge/secondme/secondmetest"
	"github.com/secondme-bridge/secondme-bridge/store"
)

// slowBudgetStore is a store whose budget round trips take delay (or what
// the store itself takes, when that is longer): a fixed round trip, not
// one on top of the backend's own (bolt fsyncs every reservation).
type slowBudgetStore struct {
	store.Store
	delay    time.Duration
	reserves atomic.Int64 // budget round trips: Reserve, ReserveEach, Lease, Return
	ahead    atomic.Int64 // reservations due later than at once
	worst    atomic.Int64 // the longest round trip, in ns (over delay under load)
}

func (s *slowBudgetStore) Budgets() store.Budgets { return slowBudgets{s.Store.Budgets(), s} }

type slowBudgets struct {
	store.Budgets
	s *slowBudgetStore
}

func (b slowBudgets) Reserve(ctx context.Context, buckets []store.Bucket, after time.Duration) (store.Grant, error) {
	b.s.reserves.Add(1)
	if after > 0 {
		b.s.ahead.Add(1)
	}
	start := time.Now()
	g, err := b.Budgets.Reserve(ctx, buckets, after)
	time.Sleep(b.s.delay - time.Since(start))
	if d := int64(time.Since(start)); d > b.s.worst.Load() {
		b.s.worst.Store(d) // Reserve calls of one reply do not overlap
	}
	return g, err
}

func (b slowBudgets) ReserveEach(ctx context.Context, reqs []store.Reservation) ([]store.Grant, error) {
	b.s.reserves.Add(1)
	for _, r := range reqs {
		if r.After > 0 {
			b.s.ahead.Add(1)
		}
	}
	start := time.Now()
	gs, err := b.Budgets.ReserveEach(ctx, reqs)
	time.Sleep(b.s.delay - time.Since(start))
	if d := int64(time.Since(start)); d > b.s.worst.Load() {
		b.s.worst.Store(d) // the round trips of one reply do not overlap
	}
	return gs, err
}

func (b slowBudgets) Lease(ctx context.Context, bk store.Bucket, want int) (store.Leased, error) {
	b.s.reserves.Add(1)
	start := time.Now()
	l, err := b.Budgets.Lease(ctx, bk, want)
	time.Sleep(b.s.delay - time.Since(start))
	return l, err
}

func (b slowBudgets) Return(ctx context.Context, bk store.Bucket, n int) error {
	b.s.reserves.Add(1)
	start := time.Now()
	err := b.Budgets.Return(ctx, bk, n)
	time.Sleep(b.s.delay - time.Since(start))
	return err
}

// slowRun is what streamThroughSlowBudgets saw: the store, the update
// lags, the code paths of the intermediate updates (lag minus the
// wake-up's lateness) and their lags, the reply, and the counters of the
// bridge's metrics that a loaded machine moves (skipped updates by reason,
// budget calls that woke past their tokens' grace and asked again).
type slowRun struct {
	st                  *slowBudgetStore
	lags, code, interim []time.Duration
	reply               render.ReplyStats
	skipped             map[string]float64 // secondme_bridge_updates_skipped_total by reason
	lapsed, lateSpends  float64
}

// streamThroughSlowBudgets streams one reply of 100 deltas, 20 ms apart,
// with a 250 ms edit interval, through budgets whose every store round
// trip takes delay.
func streamThroughSlowBudgets(t *testing.T, kind string, delay time.Duration) slowRun {
	t.Helper()
	run := slowRun{st: &slowBudgetStore{Store: newStore(t, kind), delay: delay}}
	checker := &budgetChecker{buckets: map[string]*checkBucket{}}
	checker.budgets = func(ref platforms.MessageRef) []platforms.Budget {
		return []platforms.Budget{
			{Key: string("test:channel:" + ref.Channel), Rate: 5, Burst: 5},
			{Key: "test:bot", Rate: 50, Burst: 50},
		}
	}
	reg := prometheus.NewRegistry()
	h := newHarnessOn(t, hopts{
		platform: platformtest.Options{NoStream: true, Budgets: checker.budgets, Hook: checker.hook},
		cfg: func(c *Config) {
			c.EditInterval = 250 * time.Millisecond
			c.Registerer = reg
		},
	}, secondmetest.New(t), run.st)
	h.link("u1", "Ada")
	deltas := words(strings.Repeat("streaming along at a steady pace ", 17))
	h.sm.QueueStream(secondmetest.Script{Deltas: deltas, Delay: 20 * time.Millisecond})
	h.deliver(h.msg("u1", "c1", "", "hi"))
	replies := h.waitReplies(1)
	run.reply = replies[0]
	_, run.lags, _ = h.obs.stats()
	h.obs.mu.Lock()
	run.code, run.interim = slices.Clone(h.obs.code), slices.Clone(h.obs.interim)
	h.obs.mu.Unlock()
	if v := checker.violations.Load(); v != 0 {
		t.Errorf("%d updates beyond the budgets\n%s", v, h.p.Dump())
	}
	if got, want := h.p.Messages()[0].Text, joinDeltas(deltas); got != want {
		t.Errorf("final text %q, want %q", got, want)
	}
	if len(run.lags) < 3 {
		t.Fatalf("%d streaming updates, want at least 3 (first text and intermediate edits)", len(run.lags))
	}
	run.skipped = counters(t, reg, "secondme_bridge_updates_skipped_total")
	run.lapsed = counters(t, reg, "secondme_bridge_budget_lapsed_total")[""]
	run.lateSpends = counters(t, reg, "secondme_bridge_budget_late_spends_total")[""]
	return run
}

// counters returns the values of counter name in reg, by the value of its
// one label ("" for a counter without labels).
func counters(t *testing.T, reg *prometheus.Registry, name string) map[string]float64 {
	t.Helper()
	fams, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]float64{}
	for _, f := range fams {
		if f.GetName() != name {
			continue
		}
		for _, m := range f.GetMetric() {
			label := ""
			if ls := m.GetLabel(); len(ls) > 0 {
				label = ls[0].GetValue()
			}
			got[label] += m.GetCounter().GetValue()
		}
	}
	return got
}

// checkNoneSkipped fails t when run skipped an intermediate update for a
// reason other than lateness: its budgets are ample. An update whose
// flusher woke past its moment (metrics.SkipLate) is put off on a loaded
// machine, rightly.
func checkNoneSkipped(t *testing.T, run slowRun) {
	t.Helper()
	for reason, n := range run.skipped {
		if n != 0 && reason != metrics.SkipLate {
			t.Errorf("%v updates skipped (%s) with ample budgets (all: %v)", n, reason, run.skipped)
		}
	}
}

// An intermediate update's budget tokens are reserved ahead of it, so that
// the store round trip is not on its path: with every budget round trip
// taking 8 ms, every intermediate update is paid ahead and goes out at its
// moment (the first text, whose moment nobody knows in advance, waits for
// the store).
//
// That holds while the round trips stay near 8 ms. On a loaded machine the
// 8 ms sleep itself can overshoot by more than the store's spread allows
// (the bridge then rightly takes tokens at the moment, as in
// TestSlowBudgetStoreTakesAtTheMoment), so a reply whose round trips
// overshot by over 2 ms, or whose flusher woke too late to reserve ahead
// (an update skipped as late), is not judged: it is streamed again, up to
// three times, and the test is skipped, saying so, if none was steady.
func TestInterimBudgetsReservedAhead(t *testing.T) {
	t.Parallel()
	const (
		delay = 8 * time.Millisecond
		tries = 3
	)
	for _, kind := range storeKinds {
		t.Run(kind, func(t *testing.T) {
			t.Parallel()
			for try := 1; ; try++ {
				run := streamThroughSlowBudgets(t, kind, delay)
				checkNoneSkipped(t, run)
				worst := time.Duration(run.st.worst.Load())
				if late := run.skipped[metrics.SkipLate]; worst > delay+2*time.Millisecond || late > 0 {
					if try == tries {
						t.Skipf("store round trips of %v took up to %v, and %v updates were skipped as late, in each of %d replies: the machine is too loaded to judge", delay, worst, late, tries)
					}
					t.Logf("reply %d: a store round trip took %v, %v updates skipped as late; streaming again", try, worst, late)
					continue
				}
				if len(run.code) < 4 {
					t.Fatalf("%d intermediate updates, want at least 4", len(run.code))
				}
				if ahead := run.st.ahead.Load(); ahead < int64(len(run.code)) {
					t.Errorf("%d reservations made ahead for %d intermediate updates", ahead, len(run.code))
				}
				// The code path (lag minus how late the flusher woke) and
				// the lag: the wake-up's lateness is the scheduler's.
				if median := percentile(run.code, 50); median >= delay/2 {
					t.Errorf("median code path of intermediate updates %v, want well under the store round trip (%v): %v", median, delay, run.code)
				}
				if median := percentile(run.interim, 50); median >= delay/2 {
					t.Errorf("median lag of intermediate updates %v, want well under the store round trip (%v): %v", median, delay, run.interim)
				}
				return
			}
		})
	}
}

// When store round trips are too slow for reserving ahead (the average
// plus four deviations over the spend grace less minWakeSlack), updates
// take their tokens at their moment instead, once each: never twice (a
// reservation ahead that could not be spent on time and a second one).
// The one exception is a call that woke past its tokens' grace (a loaded
// machine): it asks once more (budget.maxLateAsks), counted in
// secondme_bridge_budget_lapsed_total.
func TestSlowBudgetStoreTakesAtTheMoment(t *testing.T) {
	t.Parallel()
	// Longer than the grace of the test's budgets (streamThroughSlowBudgets).
	delay := budget.SpendGrace(store.Limit{Rate: 5, Burst: 5}) + 20*time.Millisecond
	probe := startWakeProbe()
	run := streamThroughSlowBudgets(t, "bolt", delay)
	worstWake := probe.stop()
	checkNoneSkipped(t, run)
	// A call has 5 ms after the answer to wake (budget's spendSafety): on a
	// machine that woke every 1 ms sleep within 3 ms, none is late.
	if worstWake < 3*time.Millisecond && run.lapsed != 0 {
		t.Errorf("%v calls woke past their tokens' grace while every sleep of the machine woke within %v", run.lapsed, worstWake)
	}
	if ahead := run.st.ahead.Load(); ahead != 0 {
		t.Errorf("%d reservations made ahead with %v store round trips", ahead, delay)
	}
	// One budget round trip per update (Reserve, Lease and Return
	// alike): the streaming updates and the final edit, which carries the
	// last text; and one more per call that woke late, at most one a call.
	got, updates := run.st.reserves.Load(), int64(run.reply.Updates)
	if max := updates + int64(run.lapsed); got > max || int64(run.lapsed) > updates {
		t.Errorf("%d reservations for %d updates (%d streaming), %v calls woke late and asked again, %v spent late", got, run.reply.Updates, len(run.lags), run.lapsed, run.lateSpends)
	}
}

// wakeProbe sleeps 1 ms at a time until stopped, keeping the longest
// overshoot: how late the machine woke goroutines while a test ran.
type wakeProbe struct {
	quit chan struct{}
	done chan time.Duration
}

func startWakeProbe() *wakeProbe {
	p := &wakeProbe{quit: make(chan struct{}), done: make(chan time.Duration, 1)}
	go func() {
		var worst time.Duration
		t := time.NewTimer(time.Hour)
		defer t.Stop()
		for {
			want := time.Now().Add(time.Millisecond)
			t.Reset(time.Millisecond)
			select {
			case <-p.quit:
				p.done <- worst
				return
			case <-t.C:
				worst = max(worst, time.Since(want))
			}
		}
	}()
	return p
}

// stop ends the probe and returns the longest overshoot.
func (p *wakeProbe) stop() time.Duration {
	close(p.quit)
	return <-p.done
}
