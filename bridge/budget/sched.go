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
// are taken together once it holds its hot tokens, in one
// store.Budgets.ReserveEach round trip for all the calls of a pass, so
// that a scarce shared token is never taken for a call whose own budget
// then keeps it waiting. A token taken for a call is held
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
	cold    []*ticket // the calls of the pass under way asking for their cold budgets
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
