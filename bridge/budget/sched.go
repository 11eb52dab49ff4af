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
// robin across conversations).
//
// A budget that several waiting calls share (a hot one: a bot's global
// limit) is leased from the store in batches (store.Budgets.Lease): one
// round trip for several calls; its tokens are handed out in priority
// order and those not spent within their grace are given back
// (store.Budgets.Return). A call's other budgets (cold ones: its channel)
// are taken together in one store.Budgets.Reserve round trip once it holds
// its hot tokens, so that a scarce shared token is never taken for a call
// whose own budget then keeps it waiting. A token taken for a call is held
// for it until the call has them all, or until the token lapses (then it
// is given back).
type scheduler struct {
	store Store
	now   func() time.Time
	log   *slog.Logger
	rt    *atomic.Int64 // store round trips
	// observe is told every round trip's duration (CanReserveAhead).
	observe func(time.Duration)

	// wmu guards waiters, the calls waiting per budget key, apart from mu
	// so that intermediate updates asking (waiting) never wait for a pass.
	wmu     sync.Mutex
	waiters map[string]int

	mu      sync.Mutex
	pools   map[string]*pool
	stocked map[*pool]struct{} // pools with free tokens
	queues  [numClasses][]*ticket
	swept   time.Time // when unused pools were last forgotten
	resweep bool      // the next pass visits every call (a budget found empty)
	running bool
	kick    chan struct{}
}

// pool is this process's share of one budget: tokens leased and not yet
// given to a call, until they lapse.
type pool struct {
	bucket     store.Bucket
	wanted     int         // calls waiting for it
	free       []time.Time // the lapse moments of the free tokens, earliest first
	leasing    bool        // a Lease round trip is under way
	emptyUntil time.Time   // the store said the bucket is empty until then
}

// hot reports whether p is worth leasing in batches: several calls wait
// for it.
func (p *pool) hot() bool { return p.wanted > 1 }

// ticket is one call waiting for its tokens.
type ticket struct {
	pools   []*pool     // its budgets' pools
	held    []time.Time // per pool: lapse moment of the token held (zero: none)
	nheld   int
	granted chan struct{} // closed when the call has all its tokens
	failed  error         // the store failed: the call goes ahead anyway
	done    bool          // granted or abandoned
	asking  bool          // a Reserve round trip for its cold budgets is under way
	// recheck is when t's state may change with time alone (a budget it
	// waits for stops being known empty, a token it holds lapses): until
	// then a pass with no token in hand skips it (see dispatch).
	recheck time.Time
}

// never is a recheck moment that time alone never reaches.
var never = time.Unix(1<<62, 0)

// maxBatchWait bounds how long a lease waits for an empty budget to fill
// with more than one token.
const maxBatchWait = 200 * time.Millisecond

// leaseSafety is how long before its grace ends a leased token stops being
// handed out: room for the caller to make its platform call.
const leaseSafety = 5 * time.Millisecond

func newScheduler(st Store, now func() time.Time, log *slog.Logger, rt *atomic.Int64, observe func(time.Duration)) *scheduler {
	return &scheduler{store: st, now: now, log: log, rt: rt, observe: observe,
		waiters: map[string]int{}, pools: map[string]*pool{}, stocked: map[*pool]struct{}{}, kick: make(chan struct{}, 1)}
}

// take waits until the call has one token of every budget, or ctx ends.
// A store failure lets the call go (logged): it is never lost to the
// store being down.
func (s *scheduler) take(ctx context.Context, class Class, budgets []platforms.Budget) error {
	if len(budgets) == 0 {
		return nil
	}
	t := &ticket{pools: make([]*pool, len(budgets)), held: make([]time.Time, len(budgets)), granted: make(chan struct{})}
	s.mu.Lock()
	lone := true
	for i, bu := range budgets {
		p, ok := s.pools[bu.Key]
		if !ok {
			l := limitOf(bu)
			p = &pool{bucket: store.Bucket{Key: bu.Key, Limit: l, Grace: SpendGrace(l)}}
			s.pools[bu.Key] = p
		}
		p.wanted++
		t.pools[i] = p
		s.wmu.Lock()
		s.waiters[bu.Key]++
		s.wmu.Unlock()
		lone = lone && p.wanted == 1 && len(p.free) == 0 && !p.leasing && !p.emptyUntil.After(s.now())
	}
	if lone {
		// Nobody else wants these budgets: one Reserve on the caller's
		// goroutine, no pass of the scheduler on the way.
		t.asking = true
		s.mu.Unlock()
		s.reserve(t, true)
		s.mu.Lock()
		if t.done { // the store failed: the call goes ahead
			s.mu.Unlock()
			s.log.Warn("take budgets; sending anyway", "error", t.failed)
			return nil
		}
		if t.nheld == len(t.pools) {
			s.finish(t)
			s.mu.Unlock()
			return nil
		}
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
	s.release(t, s.now())
	s.finish(t)
	s.wake()
	return fmt.Errorf("wait for budget: %w", ctx.Err())
}

// waiting reports whether a call waits for the budget key.
func (s *scheduler) waiting(key string) bool {
	s.wmu.Lock()
	defer s.wmu.Unlock()
	return s.waiters[key] > 0
}

// finish marks t done (granted or abandoned) and forgets the pools nobody
// uses any more. s.mu is held.
func (s *scheduler) finish(t *ticket) {
	t.done = true
	s.wmu.Lock()
	for _, p := range t.pools {
		if s.waiters[p.bucket.Key]--; s.waiters[p.bucket.Key] <= 0 {
			delete(s.waiters, p.bucket.Key)
		}
	}
	s.wmu.Unlock()
	for _, p := range t.pools {
		p.wanted--
		s.forget(p)
	}
}

// forget drops p when it is of no more use: nobody waits, no token in
// hand, no lease under way, not known empty. s.mu is held.
func (s *scheduler) forget(p *pool) {
	if p.wanted <= 0 && len(p.free) == 0 && !p.leasing && !p.emptyUntil.After(s.now()) {
		if s.pools[p.bucket.Key] == p {
			delete(s.pools, p.bucket.Key)
		}
	}
}

// release gives t's held tokens back to their pools. s.mu is held.
func (s *scheduler) release(t *ticket, now time.Time) {
	for i, lapse := range t.held {
		if !lapse.IsZero() {
			s.put(t.pools[i], lapse, now)
			t.held[i] = time.Time{}
		}
	}
	t.nheld = 0
}

func (s *scheduler) wake() {
	select {
	case s.kick <- struct{}{}:
	default:
	}
}

// put adds a token lapsing at lapse to p's free ones, if it has not
// lapsed. s.mu is held.
func (s *scheduler) put(p *pool, lapse, now time.Time) {
	if !lapse.After(now.Add(leaseSafety)) {
		s.giveBack(p.bucket, 1)
		return
	}
	i, _ := slices.BinarySearchFunc(p.free, lapse, func(a, b time.Time) int { return a.Compare(b) })
	p.free = slices.Insert(p.free, i, lapse)
	s.stocked[p] = struct{}{}
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
			// Wake-ups closer together than dispatchEvery are handled
			// together: a burst of answers costs one pass over the calls.
			time.Sleep(dispatchEvery)
		case <-timer.C:
		}
	}
}

// dispatchEvery is how long the scheduler lets wake-ups gather before a
// pass over the waiting calls.
const dispatchEvery = 200 * time.Microsecond

// dispatch hands out the tokens in hand, starts the round trips the
// calls need, gives back lapsing tokens, and returns how long until it
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
	for p := range s.stocked {
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
		} else {
			delete(s.stocked, p)
			s.forget(p)
		}
	}
	// demand: per hot pool, how many calls would take a token of it next.
	demand := map[*pool]int{}
	busy := false
	full := s.resweep
	s.resweep = false
	for c := range s.queues {
		q := s.queues[c][:0]
		for _, t := range s.queues[c] {
			if t.done {
				continue
			}
			if !full && len(s.stocked) == 0 && now.Before(t.recheck) {
				// Nothing to hand out and nothing t waits for changed:
				// a pass over a thousand waiting calls costs little.
				if t.recheck != never {
					soon(t.recheck)
				}
				q = append(q, t)
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
	leasing := false
	for p, n := range demand {
		p.leasing, leasing = true, true
		go s.lease(p.bucket, min(n, leaseMax(p.bucket)))
	}
	if now.Sub(s.swept) >= time.Second || (!busy && !leasing && len(s.stocked) == 0) {
		// Pools nobody waits for are forgotten (a budget known empty
		// too, at worst asked again).
		s.swept = now
		for key, p := range s.pools {
			if p.wanted <= 0 && len(p.free) == 0 && !p.leasing {
				delete(s.pools, key)
			}
		}
	}
	if !busy && !leasing && len(s.stocked) == 0 {
		for _, p := range s.pools {
			if p.leasing {
				return next, false // its answer wakes the loop
			}
		}
		return next, true
	}
	return next, false
}

// advance gives t tokens of its hot budgets from the pools and, once it
// holds them, asks the store for its cold ones (one Reserve); it reports
// whether t has them all. Hot budgets t lacks add to demand. s.mu is held.
func (s *scheduler) advance(t *ticket, now time.Time, demand map[*pool]int, outer func(time.Time)) bool {
	soon := outer
	if t.asking {
		t.recheck = never // the answer wakes it
		return false
	}
	if t.nheld == len(t.pools) {
		return true
	}
	t.recheck = never
	soon = func(at time.Time) {
		outer(at)
		if at.Before(t.recheck) {
			t.recheck = at
		}
	}
	for i, lapse := range t.held {
		if !lapse.IsZero() && !lapse.After(now.Add(leaseSafety)) {
			t.held[i] = time.Time{}
			t.nheld--
			s.giveBack(t.pools[i].bucket, 1)
		}
	}
	cold := false
	for i, p := range t.pools {
		if !t.held[i].IsZero() {
			continue
		}
		if !p.hot() && len(p.free) == 0 {
			if p.emptyUntil.After(now) {
				soon(p.emptyUntil)
				s.soonHeld(t, soon)
				return false
			}
			cold = true
			continue
		}
		if len(p.free) > 0 {
			t.held[i] = p.free[0]
			t.nheld++
			if p.free = p.free[1:]; len(p.free) == 0 {
				delete(s.stocked, p)
			}
			continue
		}
		switch {
		case p.emptyUntil.After(now):
			soon(p.emptyUntil)
		case !p.leasing:
			demand[p]++
		default:
			// The lease under way answers with a pass over every call
			// (resweep).
		}
		s.soonHeld(t, soon)
		return false
	}
	if cold {
		t.asking = true
		go s.reserve(t, false)
		return false
	}
	return t.nheld == len(t.pools)
}

// soonHeld asks dispatch to run again when a token t holds lapses.
func (s *scheduler) soonHeld(t *ticket, soon func(time.Time)) {
	for _, lapse := range t.held {
		if !lapse.IsZero() {
			soon(lapse.Add(-leaseSafety))
		}
	}
}

// reserve takes one token of every budget t does not hold yet in one
// round trip (store.Budgets.Reserve, due at once): the tokens are held for
// t, which is granted at once when queued (not lone: take's own call
// grants it then); a budget found empty is remembered as such until the
// store says.
func (s *scheduler) reserve(t *ticket, lone bool) {
	s.mu.Lock()
	var idx []int
	var buckets []store.Bucket
	for i, p := range t.pools {
		if t.held[i].IsZero() {
			idx = append(idx, i)
			buckets = append(buckets, p.bucket)
		}
	}
	s.mu.Unlock()
	s.rt.Add(1)
	sent := s.now()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	g, err := s.store.Budgets().Reserve(ctx, buckets, 0)
	cancel()
	now := s.now()
	s.observe(now.Sub(sent))
	s.mu.Lock()
	defer s.mu.Unlock()
	defer s.wake()
	t.asking = false
	t.recheck = time.Time{}
	switch {
	case t.done:
		if err == nil && g.OK {
			for _, b := range buckets {
				s.giveBack(b, 1) // abandoned meanwhile
			}
		}
	case err != nil:
		s.release(t, now)
		s.finish(t)
		t.failed = fmt.Errorf("reserve budgets: %w", err)
		close(t.granted)
	case g.OK:
		for k, i := range idx {
			t.held[i] = lapseOf(buckets[k], sent, now)
			t.nheld++
		}
		if t.nheld == len(t.pools) && !lone {
			// Its hot tokens are held already: granted at once, not at
			// the next pass.
			s.finish(t)
			close(t.granted)
		}
	default:
		for _, k := range g.Short {
			t.pools[idx[k]].emptyUntil = now.Add(max(g.Wait, time.Millisecond))
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
	defer s.wake()
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
				if !t.done && slices.Contains(t.pools, p) {
					s.release(t, now)
					s.finish(t)
					t.failed = fmt.Errorf("lease %s: %w", b.Key, err)
					close(t.granted)
				}
			}
		}
		s.forget(p)
		return
	}
	lapse := lapseOf(b, sent, now)
	for range l.Granted {
		s.put(p, lapse, now)
	}
	if l.Granted < want {
		// Found empty: come back when it has a token, or a few more when
		// many calls wait (one round trip for several of them; the bucket
		// fills meanwhile, so the calls go out at the same rate).
		batch := time.Duration(float64(min(want-l.Granted, leaseMax(b))-1) / b.Limit.Rate * float64(time.Second))
		p.emptyUntil = now.Add(max(l.Wait, time.Millisecond) + min(batch, maxBatchWait))
	}
	// Every call waiting for p is visited again: it takes a token now,
	// or counts towards the next lease.
	s.resweep = true
	s.forget(p)
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
