package budget

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/secondme-bridge/secondme-bridge/platforms"
	"github.com/secondme-bridge/secondme-bridge/store"
)

// Class is the priority of a platform call that must wait for its budget
// tokens: a lower value goes first.
type Class int

// Classes, highest priority first. Intermediate updates, the lowest, do
// not queue: they give way while anything waits (ReserveInterim).
const (
	// ClassFinal: a reply's final parts and other updates that must
	// happen (notices, closing a stream).
	ClassFinal Class = iota
	// ClassFirst: a reply's first text.
	ClassFirst
	// ClassTyping: a typing indicator's renewal.
	ClassTyping
	numClasses
)

// scheduler grants the calls of one process their budget tokens in
// priority order (Class), first come first served within a class (each
// conversation has at most one call waiting per class, so that is round
// robin across conversations). It leases the tokens from the store in
// batches (store.Budgets.Lease): a budget many waiting calls share, such
// as a bot's global limit, is leased for all of them in one round trip;
// tokens not spent within their grace are given back (store.Budgets.Return).
//
// A call's budgets are leased one after another, the most shared first
// (so that a scarce shared token is never leased for a call whose own
// budget, leased first, would then lapse while it waits): a token taken
// for a call is held for it until the call has them all, or until the
// token lapses (then it is given back).
type scheduler struct {
	store Store
	now   func() time.Time
	log   *slog.Logger
	rt    *atomic.Int64 // store round trips
	// observe is told every round trip's duration (CanReserveAhead).
	observe func(time.Duration)

	mu      sync.Mutex
	pools   map[string]*pool
	queues  [numClasses][]*ticket
	wanted  map[string]int // budget key -> calls waiting for it
	running bool
	kick    chan struct{}
}

// pool is this process's share of one budget: tokens leased and not yet
// given to a call, until they lapse.
type pool struct {
	bucket     store.Bucket
	free       []time.Time // the lapse moments of the free tokens, earliest first
	leasing    bool        // a Lease round trip is under way
	emptyUntil time.Time   // the store said the bucket is empty until then
}

// ticket is one call waiting for its tokens.
type ticket struct {
	budgets []platforms.Budget
	held    map[string]time.Time // key -> lapse moment of the token held
	granted chan struct{}        // closed when the call has all its tokens
	failed  error                // the store failed: the call goes ahead anyway
	done    bool                 // granted or abandoned
	asking  bool                 // a Reserve round trip for all its budgets is under way
}

// maxBatchWait bounds how long a lease waits for an empty budget to fill
// with more than one token.
const maxBatchWait = 200 * time.Millisecond

// leaseSafety is how long before its grace ends a leased token stops being
// handed out: room for the caller to make its platform call.
const leaseSafety = 5 * time.Millisecond

func newScheduler(st Store, now func() time.Time, log *slog.Logger, rt *atomic.Int64, observe func(time.Duration)) *scheduler {
	return &scheduler{store: st, now: now, log: log, rt: rt, observe: observe, pools: map[string]*pool{}, wanted: map[string]int{}, kick: make(chan struct{}, 1)}
}

// take waits until the call has one token of every budget, or ctx ends.
// A store failure lets the call go (logged): it is never lost to the
// store being down.
func (s *scheduler) take(ctx context.Context, class Class, budgets []platforms.Budget) error {
	if len(budgets) == 0 {
		return nil
	}
	t := &ticket{budgets: budgets, held: map[string]time.Time{}, granted: make(chan struct{})}
	s.mu.Lock()
	for _, bu := range budgets {
		if _, ok := s.pools[bu.Key]; !ok {
			l := limitOf(bu)
			s.pools[bu.Key] = &pool{bucket: store.Bucket{Key: bu.Key, Limit: l, Grace: SpendGrace(l)}}
		}
		s.wanted[bu.Key]++
	}
	s.queues[class] = append(s.queues[class], t)
	if !s.running {
		s.running = true
		go s.loop()
	}
	s.mu.Unlock()
	s.wake()
	select {
	case <-t.granted:
		if t.failed != nil {
			s.log.Warn("take budgets; sending anyway", "error", t.failed)
		}
		return nil
	case <-ctx.Done():
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if t.done {
		// Granted meanwhile: the tokens are spent late or not at all,
		// which errs on the side of the limits.
		return fmt.Errorf("wait for budget: %w", ctx.Err())
	}
	s.finish(t)
	now := s.now()
	for k, lapse := range t.held {
		s.pools[k].put(lapse, now)
	}
	s.wakeLocked()
	return fmt.Errorf("wait for budget: %w", ctx.Err())
}

// waiting reports whether a call waits for the budget key.
func (s *scheduler) waiting(key string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.wanted[key] > 0
}

// finish marks t done (granted or abandoned). s.mu is held.
func (s *scheduler) finish(t *ticket) {
	t.done = true
	for _, bu := range t.budgets {
		if s.wanted[bu.Key]--; s.wanted[bu.Key] <= 0 {
			delete(s.wanted, bu.Key)
		}
	}
}

func (s *scheduler) wake() {
	select {
	case s.kick <- struct{}{}:
	default:
	}
}

func (s *scheduler) wakeLocked() { s.wake() }

// put gives a held token back to the pool, if it has not lapsed.
func (p *pool) put(lapse, now time.Time) {
	if !lapse.After(now) {
		return // lapsed: counted by the sweep of held tokens
	}
	i, _ := slices.BinarySearchFunc(p.free, lapse, func(a, b time.Time) int { return a.Compare(b) })
	p.free = slices.Insert(p.free, i, lapse)
}

// loop runs the scheduler until nothing waits and no token is in hand.
func (s *scheduler) loop() {
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		s.mu.Lock()
		next, idle := s.dispatch()
		if idle {
			s.running = false
			s.mu.Unlock()
			return
		}
		s.mu.Unlock()
		timer.Reset(max(next, time.Millisecond))
		select {
		case <-s.kick:
			if !timer.Stop() {
				select {
				case <-timer.C:
				default:
				}
			}
		case <-timer.C:
		}
	}
}

// dispatch hands out the tokens in hand, starts the leases and returns
// the calls need, gives back lapsing tokens, and returns how long until it
// should run again and whether the scheduler is idle. s.mu is held.
func (s *scheduler) dispatch() (time.Duration, bool) {
	now := s.now()
	next := time.Hour
	soon := func(at time.Time) {
		if d := at.Sub(now); d < next {
			next = d
		}
	}
	// Lapsing free tokens go back to the store.
	for key, p := range s.pools {
		n := 0
		for n < len(p.free) && !p.free[n].After(now.Add(leaseSafety)) {
			n++
		}
		if n > 0 {
			p.free = p.free[n:]
			s.giveBack(p.bucket, n)
		}
		if len(p.free) > 0 {
			soon(p.free[0].Add(-leaseSafety))
		}
		if len(p.free) == 0 && !p.leasing && !p.emptyUntil.After(now) && s.wanted[key] == 0 {
			delete(s.pools, key)
		}
	}
	// Demand per budget: how many calls would take a token of it next.
	demand := map[string]int{}
	busy := false
	for c := range s.queues {
		q := s.queues[c][:0]
		for _, t := range s.queues[c] {
			if t.done {
				continue
			}
			if s.advance(t, now, demand, soon) {
				s.finish(t)
				close(t.granted)
				continue
			}
			q = append(q, t)
		}
		clear(s.queues[c][len(q):])
		s.queues[c] = q
		busy = busy || len(q) > 0
	}
	for key, n := range demand {
		p := s.pools[key]
		if p.leasing {
			continue
		}
		p.leasing = true
		go s.lease(p.bucket, min(n, leaseMax(p.bucket)))
	}
	leasing := false
	for _, p := range s.pools {
		leasing = leasing || p.leasing || len(p.free) > 0
	}
	return next, !busy && !leasing
}

// advance gives t tokens from the pools, the most shared budget first,
// and reports whether t has them all. A held token that lapses goes back
// to the store. Budgets t still lacks add to demand (the first one only:
// budgets are leased one after another).
func (s *scheduler) advance(t *ticket, now time.Time, demand map[string]int, soon func(time.Time)) bool {
	if t.asking {
		return false
	}
	for k, lapse := range t.held {
		if !lapse.After(now.Add(leaseSafety)) {
			delete(t.held, k)
			s.giveBack(s.pools[k].bucket, 1)
		}
	}
	if s.alone(t, now) {
		// Nobody else wants these budgets and none is in hand: one
		// Reserve round trip takes all of them (leasing them one after
		// another would take one each).
		t.asking = true
		go s.reserve(t)
		return false
	}
	order := t.budgets
	if len(order) > 1 {
		order = slices.Clone(order)
		slices.SortStableFunc(order, func(a, b platforms.Budget) int { return s.wanted[b.Key] - s.wanted[a.Key] })
	}
	for _, bu := range order {
		if _, ok := t.held[bu.Key]; ok {
			continue
		}
		p := s.pools[bu.Key]
		if len(p.free) > 0 {
			t.held[bu.Key] = p.free[0]
			p.free = p.free[1:]
			continue
		}
		if p.emptyUntil.After(now) {
			soon(p.emptyUntil)
		} else {
			demand[bu.Key]++
		}
		for _, lapse := range t.held {
			soon(lapse.Add(-leaseSafety))
		}
		return false
	}
	return true
}

// alone reports whether t is the only call wanting its budgets, holds
// none, and none is in hand, leased or known empty: then a Reserve takes
// them all in one round trip.
func (s *scheduler) alone(t *ticket, now time.Time) bool {
	if len(t.budgets) < 2 || len(t.held) > 0 {
		return false
	}
	for _, bu := range t.budgets {
		p := s.pools[bu.Key]
		if s.wanted[bu.Key] != 1 || len(p.free) > 0 || p.leasing || p.emptyUntil.After(now) {
			return false
		}
	}
	return true
}

// reserve takes one token of every budget of t in one round trip
// (store.Budgets.Reserve, due at once): the tokens are held for t; a
// budget found empty is remembered as such until the store says.
func (s *scheduler) reserve(t *ticket) {
	buckets := make([]store.Bucket, len(t.budgets))
	for i, bu := range t.budgets {
		l := limitOf(bu)
		buckets[i] = store.Bucket{Key: bu.Key, Limit: l, Grace: SpendGrace(l)}
	}
	s.rt.Add(1)
	sent := s.now()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	g, err := s.store.Budgets().Reserve(ctx, buckets, 0)
	cancel()
	now := s.now()
	s.observe(now.Sub(sent))
	s.mu.Lock()
	defer s.mu.Unlock()
	defer s.wakeLocked()
	t.asking = false
	switch {
	case t.done:
		if err == nil && g.OK {
			for _, b := range buckets {
				s.giveBack(b, 1) // abandoned meanwhile
			}
		}
	case err != nil:
		s.finish(t)
		t.failed = fmt.Errorf("reserve budgets: %w", err)
		close(t.granted)
	case g.OK:
		for _, b := range buckets {
			t.held[b.Key] = lapseOf(b, sent, now)
		}
	default:
		for _, i := range g.Short {
			if p := s.pools[buckets[i].Key]; p != nil {
				p.emptyUntil = now.Add(max(g.Wait, time.Millisecond))
			}
		}
	}
}

// lapseOf returns when tokens of b granted by a round trip sent at sent
// and answered at recv stop being spendable: the grace after the store's
// moment, which lies in between (so the grace after sent). A round trip
// longer than that, or a bucket without grace (a burst of 1), leaves the
// tokens to be spent at once, late by the return trip, as Budgets.Take's
// are.
func lapseOf(b store.Bucket, sent, recv time.Time) time.Time {
	return Later(sent.Add(b.Grace), recv.Add(2*leaseSafety))
}

// leaseMax is the most tokens of b worth leasing at once: what the bucket
// grants in a burst with its grace kept in hand (store.Budgets.Reserve).
func leaseMax(b store.Bucket) int {
	n := int(float64(b.Limit.Burst) - b.Limit.Rate*b.Grace.Seconds())
	return max(min(n, b.Limit.Burst), 1)
}

// lease leases up to want tokens of b and puts them in its pool.
func (s *scheduler) lease(b store.Bucket, want int) {
	s.rt.Add(1)
	sent := s.now()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	l, err := s.store.Budgets().Lease(ctx, b, want)
	cancel()
	now := s.now()
	s.observe(now.Sub(sent))
	s.mu.Lock()
	defer s.mu.Unlock()
	defer s.wakeLocked()
	p, ok := s.pools[b.Key]
	if !ok {
		p = &pool{bucket: b}
		s.pools[b.Key] = p
	}
	p.leasing = false
	if err != nil {
		// The store failed: the calls waiting for this budget go ahead
		// (as a final always did), the others keep waiting.
		for c := range s.queues {
			for _, t := range s.queues[c] {
				if !t.done && slices.ContainsFunc(t.budgets, func(x platforms.Budget) bool { return x.Key == b.Key }) {
					s.finish(t)
					t.failed = fmt.Errorf("lease %s: %w", b.Key, err)
					for k, lapse := range t.held {
						s.pools[k].put(lapse, now)
					}
					close(t.granted)
				}
			}
		}
		return
	}
	lapse := lapseOf(b, sent, now)
	for range l.Granted {
		p.put(lapse, now)
	}
	if l.Granted < want {
		// Found empty: come back when it has a token, or a few more when
		// many calls wait (one round trip for several of them; the bucket
		// fills meanwhile, so the calls go out at the same rate).
		batch := time.Duration(float64(min(want-l.Granted, leaseMax(b))-1) / b.Limit.Rate * float64(time.Second))
		p.emptyUntil = now.Add(max(l.Wait, time.Millisecond) + min(batch, maxBatchWait))
	}
}

// giveBack returns n unspent tokens of b to the store, in the background.
func (s *scheduler) giveBack(b store.Bucket, n int) {
	s.rt.Add(1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := s.store.Budgets().Return(ctx, b, n); err != nil {
			s.log.Warn("return leased budget tokens", "budget", b.Key, "error", err)
		}
	}()
}
