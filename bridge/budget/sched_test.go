package budget

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/secondme-bridge/secondme-bridge/bridge/internal/metrics"
	"github.com/secondme-bridge/secondme-bridge/platforms"
	"github.com/secondme-bridge/secondme-bridge/store"
	"github.com/secondme-bridge/secondme-bridge/store/memory"
	"github.com/secondme-bridge/secondme-bridge/store/storetest"
)

// countStore counts the budget round trips of a memory store, which the
// Pacer takes for a remote one (as Redis) unless local is set
// (store.LocalBudgets).
type countStore struct {
	store.Store
	local                     bool
	reserves, leases, returns atomic.Int64

	mu      sync.Mutex
	granted map[string]int // reservations granted, by bucket key
}

// grantedFor returns how many reservations of bucket key were granted.
func (s *countStore) grantedFor(key string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.granted[key]
}

func (s *countStore) Budgets() store.Budgets { return countBudgets{s.Store.Budgets(), s} }

type countBudgets struct {
	store.Budgets
	s *countStore
}

func (b countBudgets) Local() bool { return b.s.local && store.BudgetsLocal(b.Budgets) }

func (b countBudgets) Reserve(ctx context.Context, bk []store.Bucket, after time.Duration) (store.Grant, error) {
	b.s.reserves.Add(1)
	return b.Budgets.Reserve(ctx, bk, after)
}

func (b countBudgets) ReserveEach(ctx context.Context, reqs []store.Reservation) ([]store.Grant, error) {
	b.s.reserves.Add(1)
	gs, err := b.Budgets.ReserveEach(ctx, reqs)
	if err == nil {
		b.s.mu.Lock()
		if b.s.granted == nil {
			b.s.granted = map[string]int{}
		}
		for i, g := range gs {
			if g.OK {
				for _, bk := range reqs[i].Buckets {
					b.s.granted[bk.Key]++
				}
			}
		}
		b.s.mu.Unlock()
	}
	return gs, err
}

func (b countBudgets) Lease(ctx context.Context, bk store.Bucket, want int) (store.Leased, error) {
	b.s.leases.Add(1)
	return b.Budgets.Lease(ctx, bk, want)
}

func (b countBudgets) Return(ctx context.Context, bk store.Bucket, n int) error {
	b.s.returns.Add(1)
	return b.Budgets.Return(ctx, bk, n)
}

func newCountStore(t *testing.T) *countStore {
	t.Helper()
	sealer, err := store.NewSealer(make([]byte, 32))
	if err != nil {
		t.Fatal(err)
	}
	m, err := memory.Open(sealer, memory.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return &countStore{Store: m}
}

// waitWanted waits until n calls wait for key.
func waitWanted(t *testing.T, p *Pacer, key string, n int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		p.sched.mu.Lock()
		got := 0
		if pl := p.sched.pools[key]; pl != nil {
			got = pl.wanted
		}
		p.sched.mu.Unlock()
		if got >= n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d calls wait for %s, want %d", got, key, n)
		}
		time.Sleep(time.Millisecond)
	}
}

// Calls waiting for an empty budget are granted in class order (final,
// first text, typing), first come first served within a class, whatever
// order they came in: the pass that asks for them all, once the budget's
// next token is near, asks in that order and the store places them at its
// successive moments.
func TestSchedulerGrantsByPriority(t *testing.T) {
	t.Parallel()
	grantsByPriority(t, newCountStore(t))
}

func grantsByPriority(t *testing.T, st *countStore) {
	p := New(Deps{Store: st})
	// 200 ms between tokens, and a grace of SpendWindow to wake up in.
	bu := platforms.Budget{Key: "test:slow", Rate: 5, Burst: 2}
	l := limitOf(bu)
	// The bucket's next token is about a second away, beyond the horizon:
	// the first call learns so, and every call waits for the pass near it.
	if g, err := st.Store.Budgets().Reserve(t.Context(), []store.Bucket{{Key: bu.Key, Limit: l, Grace: SpendGrace(l)}}, 950*time.Millisecond); err != nil || !g.OK {
		t.Fatalf("drain: %+v, %v", g, err)
	}
	var mu sync.Mutex
	var order []string
	var wg sync.WaitGroup
	arrivals := []struct {
		name  string
		class Class
	}{{"typing1", ClassTyping}, {"first1", ClassFirst}, {"typing2", ClassTyping}, {"final1", ClassFinal}, {"first2", ClassFirst}, {"final2", ClassFinal}}
	for i, a := range arrivals {
		wg.Go(func() {
			if err := p.Take(t.Context(), a.class, []platforms.Budget{bu}); err != nil {
				t.Errorf("%s: %v", a.name, err)
			}
			mu.Lock()
			order = append(order, a.name)
			mu.Unlock()
		})
		waitWanted(t, p, bu.Key, i+1)
	}
	wg.Wait()
	want := []string{"final1", "final2", "first1", "first2", "typing1", "typing2"}
	if len(order) != len(want) {
		t.Fatalf("order %v, want %v", order, want)
	}
	for i := range want {
		if order[i] != want[i] {
			t.Fatalf("order %v, want %v", order, want)
		}
	}
	if c := p.Counts(); c.Calls != int64(len(want)) {
		t.Errorf("counted %d calls, want %d", c.Calls, len(want))
	}
}

// Many calls sharing a budget lease it in batches: far fewer store round
// trips than calls, every call granted, and never more tokens than the
// bucket allows (the store's bucket is the only source).
func TestSchedulerLeasesInBatches(t *testing.T) {
	t.Parallel()
	st := newCountStore(t)
	p := New(Deps{Store: st})
	shared := platforms.Budget{Key: "test:bot", Rate: 400, Burst: 40}
	const n = 400
	var granted atomic.Int64
	var mu sync.Mutex
	var times []time.Time
	start := time.Now()
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() {
			if err := p.Take(t.Context(), ClassFinal, []platforms.Budget{shared}); err != nil {
				t.Error(err)
				return
			}
			granted.Add(1)
			mu.Lock()
			times = append(times, time.Now())
			mu.Unlock()
		})
	}
	wg.Wait()
	if granted.Load() != n {
		t.Fatalf("%d of %d calls granted", granted.Load(), n)
	}
	rt := st.reserves.Load() + st.leases.Load() + st.returns.Load()
	if rt > n/8 {
		t.Errorf("%d store round trips (%d reserves, %d leases, %d returns) for %d calls, want at most %d",
			rt, st.reserves.Load(), st.leases.Load(), st.returns.Load(), n, n/8)
	}
	if c := p.Counts(); c.RoundTrips != rt || c.Calls != n {
		t.Errorf("counts %+v, want %d round trips and %d calls", c, rt, n)
	}
	// The bucket allows Burst plus Rate×elapsed (the grants happen within
	// the tokens' grace of their lease).
	elapsed := time.Since(start)
	if most := float64(shared.Burst) + shared.Rate*elapsed.Seconds() + 1; float64(n) > most {
		t.Errorf("%d calls in %v, the bucket allows %.0f", n, elapsed, most)
	}
}

// Calls whose own budget is empty take nothing of the shared one (each
// request is all or none), and calls that give up leave the shared budget
// whole: no token is taken for them, none needs giving back.
func TestSchedulerTakesNothingForRefusedCalls(t *testing.T) {
	t.Parallel()
	st := newCountStore(t)
	p := New(Deps{Store: st})
	shared := platforms.Budget{Key: "test:bot", Rate: 100, Burst: 30}
	ctx, cancel := context.WithTimeout(t.Context(), 300*time.Millisecond)
	defer cancel()
	var wg sync.WaitGroup
	for i := range 3 {
		own := platforms.Budget{Key: "test:own:" + string(rune('a'+i)), Rate: 0.1, Burst: 1}
		l := limitOf(own)
		if g, err := st.Store.Budgets().Reserve(t.Context(), []store.Bucket{{Key: own.Key, Limit: l, Grace: SpendGrace(l)}}, 0); err != nil || !g.OK {
			t.Fatalf("drain: %+v, %v", g, err)
		}
		wg.Go(func() {
			if err := p.Take(ctx, ClassFinal, []platforms.Budget{own, shared}); err == nil {
				t.Error("granted a call whose budget is empty")
			}
		})
		waitWanted(t, p, shared.Key, i+1)
	}
	wg.Wait()
	if n := st.returns.Load() + st.leases.Load(); n != 0 {
		t.Errorf("%d leases and returns, want none", n)
	}
	// The shared bucket is whole: its burst less the grace it keeps in
	// hand (store.Budgets.Reserve), all due now.
	sl := limitOf(shared)
	b := store.Bucket{Key: shared.Key, Limit: sl, Grace: SpendGrace(sl)}
	reqs := make([]store.Reservation, int(float64(sl.Burst)-sl.Rate*b.Grace.Seconds()+1e-9)) // 20
	for i := range reqs {
		reqs[i] = store.Reservation{Buckets: []store.Bucket{b}}
	}
	gs, err := st.Store.Budgets().ReserveEach(t.Context(), reqs)
	if err != nil {
		t.Fatal(err)
	}
	for i, g := range gs {
		if !g.OK {
			t.Fatalf("shared budget after the refusals: token %d refused (%+v)", i, g)
		}
	}
}

// spendLog records when calls spent their tokens.
type spendLog struct {
	mu    sync.Mutex
	times []time.Time
}

func (l *spendLog) add() { l.at(time.Now()) }

func (l *spendLog) at(t time.Time) {
	l.mu.Lock()
	l.times = append(l.times, t)
	l.mu.Unlock()
}

// most returns the most spends in any window of length w.
func (l *spendLog) most(w time.Duration) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	ts := slices.Clone(l.times)
	slices.SortFunc(ts, func(a, b time.Time) int { return a.Compare(b) })
	most := 0
	for i := range ts {
		j, _ := slices.BinarySearchFunc(ts, ts[i].Add(w), func(a, b time.Time) int { return a.Compare(b) })
		most = max(most, j-i)
	}
	return most
}

// Calls sharing a busy budget are granted tokens due now and later, a
// horizon's worth per round trip: at most 0.2 round trips per call, and
// never more spends in a window than the bucket allows (Burst plus Rate
// per second; spends are timed after Take returns, so a slow machine
// only spreads them). Finals and first texts: typing renewals, the lowest
// priority, only take a token due about now while the budget is busy
// (TestTypingTakesNoTokenAheadOfHigherClasses).
func TestSchedulerGrantsAheadInBatches(t *testing.T) {
	t.Parallel()
	st := newCountStore(t)
	grantsWithinTheLimit(t, st)
	if rt, n := st.reserves.Load(), int64(200); rt*5 > n {
		t.Errorf("%d round trips for %d calls, want at most %d", rt, n, n/5)
	}
}

// grantsWithinTheLimit has 200 calls of the two higher classes share a
// busy budget: every call is granted, and never more spends in a window
// than the bucket allows.
func grantsWithinTheLimit(t *testing.T, st *countStore) {
	p := New(Deps{Store: st})
	bot := platforms.Budget{Key: "test:bot", Rate: 100, Burst: 5}
	const n = 200
	var log spendLog
	var wg sync.WaitGroup
	for i := range n {
		own := platforms.Budget{Key: fmt.Sprintf("test:chan:%d", i), Rate: 1, Burst: 5}
		class := Class(i % int(ClassTyping))
		wg.Go(func() {
			if err := p.Take(t.Context(), class, []platforms.Budget{own, bot}); err != nil {
				t.Error(err)
				return
			}
			log.add()
		})
	}
	wg.Wait()
	if c := p.Counts(); c.Calls != n || c.RoundTrips != st.reserves.Load() {
		t.Errorf("counts %+v, want %d calls and %d round trips", c, n, st.reserves.Load())
	}
	if m, most := log.most(500*time.Millisecond), bot.Burst+int(bot.Rate/2); m > most {
		t.Errorf("%d calls within 500 ms, the bucket allows %d", m, most)
	}
}

// Two replicas sharing a store (in memory, and a real Redis) and a busy
// budget never exceed it together: each grants moments the store placed,
// spent within their grace.
func TestSchedulerReplicasShareABudget(t *testing.T) {
	t.Parallel()
	for _, kind := range []storetest.Kind{storetest.Memory, storetest.Redis} {
		t.Run(string(kind), func(t *testing.T) {
			t.Parallel()
			replicasShareABudget(t, &countStore{Store: storetest.Open(t, kind)})
		})
	}
}

func replicasShareABudget(t *testing.T, st *countStore) {
	bot := platforms.Budget{Key: "test:bot", Rate: 100, Burst: 5}
	var log spendLog
	var wg sync.WaitGroup
	const n = 150
	for r := range 2 {
		p := New(Deps{Store: st})
		for i := range n {
			own := platforms.Budget{Key: fmt.Sprintf("test:chan:%d:%d", r, i), Rate: 1, Burst: 5}
			wg.Go(func() {
				if err := p.Take(t.Context(), ClassFirst, []platforms.Budget{bot, own}); err != nil {
					t.Error(err)
					return
				}
				log.add()
			})
		}
	}
	wg.Wait()
	if m, most := log.most(500*time.Millisecond), bot.Burst+int(bot.Rate/2); m > most {
		t.Errorf("%d calls of two replicas within 500 ms, the bucket allows %d", m, most)
	}
	if rt := st.reserves.Load(); rt*3 > 2*n {
		t.Errorf("%d round trips for %d calls of two replicas, want at most a third", rt, 2*n)
	}
}

// Calls that each have their own budget besides a shared one take their
// own ones together: one ReserveEach for the calls of a pass, so far fewer
// Reserve round trips than calls, and still never a token of an empty budget (the
// budgets of every other channel are drained first: their calls wait).
func TestSchedulerReservesOwnBudgetsTogether(t *testing.T) {
	t.Parallel()
	st := newCountStore(t)
	p := New(Deps{Store: st})
	shared := platforms.Budget{Key: "test:bot", Rate: 2000, Burst: 200}
	const channels = 300
	// Long enough for every call with tokens under -race on a loaded
	// machine (1 s was not), far too short for a drained channel's budget
	// to refill (100 s a token).
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	var granted [channels]atomic.Bool
	var wg sync.WaitGroup
	for c := range channels {
		// An even channel has tokens to spare: a call that wakes past its
		// grant's grace (a loaded machine under -race) lets its token
		// lapse, as it must, and asks again. An odd one has none.
		own := platforms.Budget{Key: fmt.Sprintf("test:chan:%d", c), Rate: 0.01, Burst: 3}
		if c%2 == 1 {
			own.Burst = 1
			l := limitOf(own)
			if got, err := st.Store.Budgets().Lease(t.Context(), store.Bucket{Key: own.Key, Limit: l, Grace: SpendGrace(l)}, 1); err != nil || got.Granted != 1 {
				t.Fatalf("drain: %+v, %v", got, err)
			}
		}
		wg.Go(func() {
			if err := p.Take(ctx, ClassFirst, []platforms.Budget{shared, own}); err == nil {
				granted[c].Store(true)
			}
		})
	}
	wg.Wait()
	for c := range channels {
		if got, want := granted[c].Load(), c%2 == 0; got != want {
			t.Fatalf("channel %d: granted %v, want %v (its budget is drained: %v)", c, got, want, c%2 == 1)
		}
	}
	// The leases of the shared budget are TestSchedulerLeasesInBatches's;
	// the calls' own budgets are asked for together.
	if rv, most := st.reserves.Load(), int64(channels/5); rv > most {
		t.Errorf("%d Reserve/ReserveEach round trips for the own budgets of %d calls, want at most %d", rv, channels, most)
	}
}

// Intermediate updates asking within a few milliseconds of each other
// share one store round trip (gatherer): many updates, few round trips,
// each granted its own tokens and refused when its budget is empty.
func TestInterimReservationsGathered(t *testing.T) {
	t.Parallel()
	st := newCountStore(t)
	p := New(Deps{Store: st})
	const n = 60
	var granted, refused atomic.Int64
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		own := platforms.Budget{Key: fmt.Sprintf("test:interim:%d", i%(n/2)), Rate: 0.01, Burst: 1}
		wg.Go(func() {
			<-start
			h, _, _ := p.ReserveInterim(t.Context(), []platforms.Budget{own}, time.Now(), false)
			if h != nil {
				granted.Add(1)
			} else {
				refused.Add(1)
			}
		})
	}
	close(start)
	wg.Wait()
	// Two updates per budget of one token: one each granted.
	if granted.Load() != n/2 || refused.Load() != n/2 {
		t.Errorf("%d granted, %d refused; want %d each", granted.Load(), refused.Load(), n/2)
	}
	if rt := st.reserves.Load(); rt > n/6 {
		t.Errorf("%d round trips for %d intermediate updates, want at most %d", rt, n, n/6)
	}
}

// A typing renewal, the lowest priority, takes no token due later while a
// call of a higher class waits: a final that arrives after the pass that
// granted an earlier final still goes before the typing renewal that was
// waiting all along.
func TestTypingTakesNoTokenAheadOfHigherClasses(t *testing.T) {
	t.Parallel()
	st := newCountStore(t)
	p := New(Deps{Store: st})
	bu := platforms.Budget{Key: "test:typing", Rate: 5, Burst: 2} // 200 ms apart
	l := limitOf(bu)
	if g, err := st.Store.Budgets().Reserve(t.Context(), []store.Bucket{{Key: bu.Key, Limit: l, Grace: SpendGrace(l)}}, 950*time.Millisecond); err != nil || !g.OK {
		t.Fatalf("drain: %+v, %v", g, err)
	}
	var mu sync.Mutex
	var order []string
	done := func(name string) {
		mu.Lock()
		order = append(order, name)
		mu.Unlock()
	}
	var wg sync.WaitGroup
	wg.Go(func() {
		if err := p.Take(t.Context(), ClassTyping, []platforms.Budget{bu}); err != nil {
			t.Error(err)
		}
		done("typing")
	})
	waitWanted(t, p, bu.Key, 1)
	wg.Go(func() {
		if err := p.Take(t.Context(), ClassFinal, []platforms.Budget{bu}); err != nil {
			t.Error(err)
		}
		done("final1")
		// Arrives after the pass that granted final1.
		if err := p.Take(t.Context(), ClassFinal, []platforms.Budget{bu}); err != nil {
			t.Error(err)
		}
		done("final2")
	})
	wg.Wait()
	if want := []string{"final1", "final2", "typing"}; !slices.Equal(order, want) {
		t.Fatalf("order %v, want %v", order, want)
	}
}

// An intermediate update gives way, without a store round trip, to the
// calls this process was granted a busy budget's tokens for ahead: the
// bucket's burst may still hold a token, but the next pass's calls need
// it. A budget whose burst still has room (one call granted) does not
// hold updates back.
func TestInterimGivesWayToTokensHeldAhead(t *testing.T) {
	t.Parallel()
	st := newCountStore(t)
	p := New(Deps{Store: st})
	idle := platforms.Budget{Key: "test:idle", Rate: 10, Burst: 3}
	if err := p.Take(t.Context(), ClassFinal, []platforms.Budget{idle}); err != nil {
		t.Fatal(err)
	}
	if h, reason, _ := p.ReserveInterim(t.Context(), []platforms.Budget{idle}, time.Now(), false); h == nil {
		t.Fatalf("a budget with room in its burst: update skipped (%s)", reason)
	}
	busy := platforms.Budget{Key: "test:busy", Rate: 10, Burst: 3} // 100 ms apart
	var wg sync.WaitGroup
	for range 6 {
		wg.Go(func() {
			if err := p.Take(t.Context(), ClassFinal, []platforms.Budget{busy}); err != nil {
				t.Error(err)
			}
		})
	}
	// All six are granted (moments up to about 400 ms ahead) and sleep.
	deadline := time.Now().Add(10 * time.Second)
	for st.grantedFor(busy.Key) < 6 || p.sched.waiting(busy.Key) {
		if time.Now().After(deadline) {
			t.Fatalf("%d of 6 calls granted in 10 s", st.grantedFor(busy.Key))
		}
		time.Sleep(time.Millisecond)
	}
	// The update's own round trips are the gatherer's.
	var trips atomic.Int64
	onTrip := p.gather.onTrip
	p.gather.onTrip = func(sent, recv, reading time.Time) (time.Time, time.Time) {
		trips.Add(1)
		return onTrip(sent, recv, reading)
	}
	h, reason, wait := p.ReserveInterim(t.Context(), []platforms.Budget{busy}, time.Now(), false)
	// It gives way to the tokens held ahead (SkipBudget, until they are
	// spent); or, when a call woke past its tokens' grace and asks again
	// (a loaded machine), to that call (SkipPriority). Either way without
	// a round trip.
	switch {
	case h != nil:
		t.Fatalf("ReserveInterim granted %+v; want skipped for the tokens held ahead", h)
	case reason == metrics.SkipBudget && wait <= 0, reason != metrics.SkipBudget && reason != metrics.SkipPriority:
		t.Fatalf("ReserveInterim skipped: %q, %v; want %q with a wait (or %q)", reason, wait, metrics.SkipBudget, metrics.SkipPriority)
	}
	if n := trips.Load(); n != 0 {
		t.Errorf("%d round trips for an update that gives way, want none", n)
	}
	wg.Wait()
	wait = time.Until(p.sched.busyUntil(busy.Key))
	// Once the frontier has passed, the update goes ahead.
	time.Sleep(wait)
	if h, reason, _ := p.ReserveInterim(t.Context(), []platforms.Budget{busy}, time.Now(), false); h == nil {
		t.Fatalf("after the frontier: skipped (%s)", reason)
	}
}

// gatedStore holds its first ReserveEach until open is closed (a round
// trip that is slow), telling held when it holds it.
type gatedStore struct {
	*countStore
	held, open chan struct{}
	first      atomic.Bool
}

func (s *gatedStore) Budgets() store.Budgets { return gatedBudgets{s.countStore.Budgets(), s} }

type gatedBudgets struct {
	store.Budgets
	s *gatedStore
}

func (b gatedBudgets) ReserveEach(ctx context.Context, reqs []store.Reservation) ([]store.Grant, error) {
	if b.s.first.CompareAndSwap(false, true) {
		close(b.s.held)
		<-b.s.open
	}
	return b.Budgets.ReserveEach(ctx, reqs)
}

// A call of a budget with tokens to spare does not wait for a slow round
// trip under way for another call (it does not depend on its answer): a
// pass sends its own once that one has been under way for askOverlap.
func TestSchedulerDoesNotWaitForASlowRoundTrip(t *testing.T) {
	t.Parallel()
	st := &gatedStore{countStore: newCountStore(t), held: make(chan struct{}), open: make(chan struct{})}
	p := New(Deps{Store: st})
	bot := platforms.Budget{Key: "test:bot", Rate: 1000, Burst: 100}
	slow := make(chan error, 1)
	go func() { slow <- p.Take(t.Context(), ClassFirst, []platforms.Budget{bot}) }()
	<-st.held
	fast := make(chan error, 1)
	go func() { fast <- p.Take(t.Context(), ClassFirst, []platforms.Budget{bot}) }()
	select {
	case err := <-fast:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the second call waited for the first call's round trip")
	}
	select {
	case <-slow:
		t.Fatal("the first call was granted before its round trip ended")
	default:
	}
	close(st.open)
	if err := <-slow; err != nil {
		t.Fatal(err)
	}
	if rt := st.reserves.Load(); rt != 2 {
		t.Errorf("%d round trips, want 2 (one per call)", rt)
	}
}

// Calls that arrive one by one, each finding nobody waiting and the
// budgets full (no binding limit), still share round trips: every call
// goes through a pass, and passes are at least dispatchEvery apart, so a
// pass gathers the calls that came since the last one.
// Asking on its own goroutine, each such call made its own round trip
// (two thirds of the round trips of a thousand replies at once).
func TestSchedulerGathersCallsThatFindNobodyWaiting(t *testing.T) {
	t.Parallel()
	st := newCountStore(t)
	p := New(Deps{Store: st})
	bot := platforms.Budget{Key: "test:bot", Rate: 10000, Burst: 1000}
	const n = 12
	var wg sync.WaitGroup
	start := time.Now()
	for i := range n {
		own := platforms.Budget{Key: fmt.Sprintf("test:chan:%d", i), Rate: 1, Burst: 5}
		wg.Go(func() {
			if err := p.Take(t.Context(), ClassFirst, []platforms.Budget{own, bot}); err != nil {
				t.Error(err)
			}
		})
		time.Sleep(300 * time.Microsecond) // the memory store answers far sooner
	}
	span := time.Since(start)
	wg.Wait()
	// A pass every dispatchEvery at most while calls arrive, and one for
	// the calls that came during the last.
	most := int64(span/dispatchEvery) + 2
	if most >= n {
		t.Skipf("the %d arrivals took %v (a loaded machine): no bound below one round trip per call to check", n, span)
	}
	if rt := st.reserves.Load(); rt > most {
		t.Errorf("%d round trips for %d calls arriving over %v, want at most %d", rt, n, span, most)
	}
	if c := p.Counts(); c.Calls != n {
		t.Errorf("counted %d calls, want %d", c.Calls, n)
	}
}

// A call that arrives long after the scheduler's last pass is asked for at
// once, not after dispatchEvery: passes are spaced by it, not delayed by
// it. The scheduler is kept running by a call waiting for a token a
// thousand seconds away; each lone call then comes 20 ms after the last.
func TestSchedulerAsksALoneCallAtOnce(t *testing.T) {
	t.Parallel()
	st := newCountStore(t)
	took := loneCallsWait(t, New(Deps{Store: st}), 9, 20*time.Millisecond)
	// Waiting for a pass window, every call would take dispatchEvery at
	// least; the median leaves room for a loaded machine's hiccups.
	if took >= dispatchEvery/2 {
		t.Errorf("lone calls took %v at the median, want well under the %v a pass may be delayed by", took, dispatchEvery)
	}
}

// loneCallsWait keeps p's scheduler running (a call waits for a token a
// thousand seconds away), makes n calls of their own budgets one after
// another, each gap after the last was granted, and returns the median
// time a call took to be granted.
func loneCallsWait(t *testing.T, p *Pacer, n int, gap time.Duration) time.Duration {
	t.Helper()
	slow := platforms.Budget{Key: "test:slow", Rate: 0.001, Burst: 1}
	if err := p.Take(t.Context(), ClassFinal, []platforms.Budget{slow}); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	blocked := make(chan error, 1)
	go func() { blocked <- p.Take(ctx, ClassFinal, []platforms.Budget{slow}) }()
	waitWanted(t, p, slow.Key, 1)
	took := make([]time.Duration, 0, n)
	for i := range n {
		time.Sleep(gap)
		own := platforms.Budget{Key: fmt.Sprintf("test:lone:%d", i), Rate: 1, Burst: 5}
		start := time.Now()
		if err := p.Take(t.Context(), ClassFirst, []platforms.Budget{own}); err != nil {
			t.Fatal(err)
		}
		took = append(took, time.Since(start))
	}
	cancel()
	if err := <-blocked; err == nil {
		t.Error("the call waiting a thousand seconds was granted")
	}
	slices.Sort(took)
	return took[len(took)/2]
}

// gateBudgets holds the scheduler's round trips (requests with a Within)
// until gate is closed; the gatherer's (intermediate updates') pass.
type gateBudgets struct {
	store.Budgets
	gate    chan struct{}
	arrived chan struct{} // told of each held round trip
}

func (b gateBudgets) ReserveEach(ctx context.Context, reqs []store.Reservation) ([]store.Grant, error) {
	if len(reqs) > 0 && reqs[0].Within > 0 {
		b.arrived <- struct{}{}
		<-b.gate
	}
	return b.Budgets.ReserveEach(ctx, reqs)
}

type gateStore struct {
	store.Store
	b gateBudgets
}

func (s gateStore) Budgets() store.Budgets { return s.b }

// An intermediate update gives way to a call waiting for a budget that is
// short for it, not to one that merely waits for its pass on a budget
// with tokens to spare: there both get their tokens. A call refused for
// its channel's budget has updates in that channel give way, not updates
// drawing only from the bot's budget, which had its token.
func TestInterimGivesWayOnlyToCallsTheBudgetIsShortFor(t *testing.T) {
	t.Parallel()
	for _, kind := range []storetest.Kind{storetest.Memory, storetest.Redis} {
		t.Run(string(kind), func(t *testing.T) {
			st := storetest.Open(t, kind)
			g := gateBudgets{Budgets: st.Budgets(), gate: make(chan struct{}), arrived: make(chan struct{}, 16)}
			p := New(Deps{Store: gateStore{Store: st, b: g}})
			bot := platforms.Budget{Key: "give-way:bot", Rate: 1000, Burst: 1000}
			ch := platforms.Budget{Key: "give-way:chan", Rate: 0.01, Burst: 2}
			// A final held in its first pass: waiting, never refused.
			granted := make(chan error, 1)
			go func() { granted <- p.Take(t.Context(), ClassFinal, []platforms.Budget{bot}) }()
			<-g.arrived
			if !p.sched.waiting(bot.Key) {
				t.Fatal("the final is not waiting")
			}
			h, reason, _ := p.ReserveInterim(t.Context(), []platforms.Budget{bot}, time.Now(), false)
			if h == nil {
				t.Fatalf("update gave way (%s) to a final waiting for its pass on a budget with tokens", reason)
			}
			close(g.gate)
			if err := <-granted; err != nil {
				t.Fatal(err)
			}
			// The channel's two tokens taken, a third call is refused for
			// the channel and waits (about 100 s).
			for range 2 {
				if err := p.Take(t.Context(), ClassFinal, []platforms.Budget{bot, ch}); err != nil {
					t.Fatal(err)
				}
			}
			ctx, cancel := context.WithCancel(t.Context())
			third := make(chan error, 1)
			go func() { third <- p.Take(ctx, ClassFinal, []platforms.Budget{bot, ch}) }()
			deadline := time.Now().Add(10 * time.Second)
			for !p.sched.contended(ch.Key, time.Now()) {
				if time.Now().After(deadline) {
					t.Fatal("the call refused for the channel's budget is not counted in 10 s")
				}
				time.Sleep(time.Millisecond)
			}
			if h, reason, _ := p.ReserveInterim(t.Context(), []platforms.Budget{ch}, time.Now(), false); h != nil || reason != metrics.SkipPriority {
				t.Errorf("update in the short channel: %+v, %q; want it to give way (%q)", h, reason, metrics.SkipPriority)
			}
			if h, reason, _ := p.ReserveInterim(t.Context(), []platforms.Budget{bot}, time.Now(), false); h == nil {
				t.Errorf("update on the bot's budget alone gave way (%s) to a call short of its channel's", reason)
			}
			cancel()
			if err := <-third; err == nil {
				t.Error("the third call was granted a token 100 s away")
			}
			// Abandoned, it no longer counts.
			if p.sched.contended(ch.Key, time.Now()) {
				t.Error("the channel is still contended after its only waiting call was abandoned")
			}
		})
	}
}

// A request refused for a shared budget (no token within the horizon) and
// for a drained budget of its own at once gets the longest of their waits,
// the drained one's, a minute and more: the shared budget must not take
// it for its own, whichever of the two leads the request, or every call
// waiting for it would stall that long. (It did: a channel drained for
// 100 s held a bot's budget for as long.)
func TestSchedulerLeadNotStalledByAnotherBudgetsWait(t *testing.T) {
	t.Parallel()
	st := newCountStore(t)
	p := New(Deps{Store: st})
	shared := platforms.Budget{Key: "test:bot", Rate: 5, Burst: 2}
	sl := limitOf(shared)
	// The shared bucket's next token is about a second away, beyond the
	// horizon: the first pass finds the lead short.
	if g, err := st.Store.Budgets().Reserve(t.Context(), []store.Bucket{{Key: shared.Key, Limit: sl, Grace: SpendGrace(sl)}}, 950*time.Millisecond); err != nil || !g.OK {
		t.Fatalf("drain: %+v, %v", g, err)
	}
	drained := platforms.Budget{Key: "test:chan:drained", Rate: 0.01, Burst: 1} // 100 s a token
	dl := limitOf(drained)
	if g, err := st.Store.Budgets().Reserve(t.Context(), []store.Bucket{{Key: drained.Key, Limit: dl, Grace: SpendGrace(dl)}}, 0); err != nil || !g.OK {
		t.Fatalf("drain: %+v, %v", g, err)
	}
	stuck, cancel := context.WithCancel(t.Context())
	defer cancel()
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := p.Take(stuck, ClassFinal, []platforms.Budget{drained, shared}); err == nil {
			t.Error("granted a call whose own budget is drained")
		}
	}()
	waitWanted(t, p, shared.Key, 1)
	ctx, cancelFree := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancelFree()
	start := time.Now()
	free := platforms.Budget{Key: "test:chan:free", Rate: 1, Burst: 5}
	if err := p.Take(ctx, ClassFinal, []platforms.Budget{free, shared}); err != nil {
		t.Fatalf("a call whose own budget has tokens: %v after %v", err, time.Since(start))
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("granted after %v, want about a second (the shared bucket's next token)", d)
	}
	cancel()
	<-done
}

// slowTripStore is a memory store whose every budget round trip takes
// delay.
type slowTripStore struct {
	*countStore
	delay time.Duration
}

func (s *slowTripStore) Budgets() store.Budgets { return slowTrips{s.countStore.Budgets(), s.delay} }

type slowTrips struct {
	store.Budgets
	delay time.Duration
}

func (b slowTrips) ReserveEach(ctx context.Context, reqs []store.Reservation) ([]store.Grant, error) {
	time.Sleep(b.delay)
	return b.Budgets.ReserveEach(ctx, reqs)
}

// A call woken past its tokens' grace lets them lapse and asks again,
// once; woken late again it spends the second grant's tokens, late,
// rather than ask without end. With store round trips longer than the
// grace, tokens may only be spent within 2×spendSafety of the answer, and
// a saturated CPU wakes every call later than that: a final edit was
// still asking after 20 s and never went out.
func TestSchedulerLateWakeUpAsksAgainOnce(t *testing.T) {
	t.Parallel()
	ch := platforms.Budget{Key: "test:chan", Rate: 5, Burst: 5}
	trip := SpendGrace(limitOf(ch)) + 30*time.Millisecond
	for _, tc := range []struct {
		name         string
		lateWakes    int   // how many of the call's wake-ups are late
		trips        int64 // round trips the call makes
		lapsed, late int64
	}{
		{"late once", 1, 2, 1, 0},
		{"late every time", 1 << 30, 2, 1, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			st := &slowTripStore{countStore: newCountStore(t), delay: trip}
			p := New(Deps{Store: st})
			var wakes atomic.Int64
			p.sched.planned = func(time.Time) {
				if wakes.Add(1) <= int64(tc.lateWakes) {
					time.Sleep(4 * spendSafety) // woken late by a busy CPU
				}
			}
			ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
			defer cancel()
			if err := p.Take(ctx, ClassFinal, []platforms.Budget{ch}); err != nil {
				t.Fatalf("take: %v after %d round trips (%+v)", err, p.Counts().RoundTrips, p.Counts())
			}
			c := p.Counts()
			if c.RoundTrips != tc.trips || c.Lapsed != tc.lapsed || c.LateSpends != tc.late || c.Calls != 1 {
				t.Errorf("counts %+v, want %d round trips, %d lapsed, %d late spends, 1 call", c, tc.trips, tc.lapsed, tc.late)
			}
			if got := st.grantedFor(ch.Key); int64(got) != tc.trips {
				t.Errorf("%d tokens granted, want %d (one a round trip)", got, tc.trips)
			}
		})
	}
}
