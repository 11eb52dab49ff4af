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
// A pass over the waiting calls asks the store for all of them in ONE
// round trip (store.Budgets.ReserveEach), each call one request of all
// its budgets, all or none, led by its busiest budget (the one most
// waiting calls share: a bot's global limit) and due at that budget's
// earliest token up to `horizon` ahead (Reservation.Within). The store
// places the requests led by one budget at its successive moments, 1/Rate
// apart: a batch of tokens due now and later, decided in priority order,
// with each call's own budgets (its channel) checked at its moment. A
// granted call sleeps until its moment and spends its tokens within their
// grace (a call that wakes up too late lets them lapse and asks again); a
// call whose own budget lacks a token takes nothing, so the moment goes to
// the next call. Tokens are never given back: a call abandoned after its
// grant lets its tokens lapse, erring on the side of the limits (a token
// due later cannot be returned without risking the limit, see
// store.Budgets.Return).
//
// The next pass for a budget runs when its frontier (the next moment its
// bucket has a token, as this process's grants and refusals tell: see
// granted) is passLead away: the calls that arrived meanwhile go together, so a
// busy budget costs one round trip per horizon's worth of calls; while a
// round trip led by a budget is under way the next one waits for it,
// unless it is slow (askOverlap) and the budget has tokens to spare
// (askBlocked). The
// price of the batch: a call of a higher class that arrives after a pass
// waits behind the calls that pass granted (up to the horizon). Typing
// renewals, the lowest class, take only a token due about now while the
// budget is busy (withinContended), and calls without spend grace only
// tokens due at once (ticket.grace).
type scheduler struct {
	store Store
	// local: the store decides in this process (store.LocalBudgets), so
	// a pass costs no round trip: a call of a class below ClassFinal runs
	// one itself as it comes (passHere), and the loop's passes are not
	// dispatchEvery apart and ask on its own goroutine.
	local bool
	now   func() time.Time
	log   *slog.Logger
	rt    *atomic.Int64 // store round trips
	// lapsed counts the calls woken past their tokens' grace that asked
	// again, lateSpends those that then spent their tokens late
	// (maxLateAsks).
	lapsed, lateSpends atomic.Int64
	// trip is told every round trip (sent and answered on this process's
	// clock, the store's reading or zero: store.Grant.Clock) and returns
	// the bounds of the moment the store decided at (Pacer.trip).
	trip tripFunc
	// planned, when set (tests), is told the moment each granted call
	// is to spend its tokens at (spendAt).
	planned func(time.Time)

	// wmu guards waiters (the calls waiting per budget key), busy (per
	// budget key, the frontier of its moments granted to this process)
	// and refused, apart from mu so that intermediate updates asking
	// (contended, busyUntil) never wait for a pass.
	wmu     sync.Mutex
	waiters map[string]int
	busy    map[string]time.Time
	// refused counts, per budget key, the waiting calls the store found
	// it short for at least once (contended).
	refused map[string]int

	mu      sync.Mutex
	pools   map[string]*pool
	queues  [numClasses][]*ticket
	swept   time.Time // when unused pools were last forgotten
	resweep bool      // the next pass visits every call (an answer came)
	running bool
	kick    chan struct{}
}

// pool is what this process knows of one budget.
type pool struct {
	bucket     store.Bucket
	wanted     int       // calls waiting for it
	asking     int       // round trips led by it under way (at most maxAsking)
	askedAt    time.Time // when the last of them was sent
	emptyUntil time.Time // the store said it has no token before then
	frontier   time.Time // no token for this process's next request before then
	tat        time.Time // the bucket's theoretical arrival time, as this process's grants and refusals tell
}

// ticket is one call waiting for its tokens.
type ticket struct {
	pools []*pool // its budgets' pools
	lead  int     // the index of the pool its request is led by
	// grace is how late its tokens may be spent (the least of its
	// budgets'); with none (a budget with a burst of 1) it asks only for
	// tokens due at once, spent as soon as they are granted, since a
	// sleep until a later moment may wake up late.
	grace   time.Duration
	class   Class         // its priority
	within  time.Duration // how far ahead its request may be due
	granted chan struct{}
	failed  error   // the store failed: the call goes ahead anyway
	done    bool    // granted or abandoned
	asking  bool    // a round trip for it is under way
	short   []*pool // its pools the store found short (counted in scheduler.refused)
	// from and lapse bound when its tokens may be spent, once granted;
	// ahead: the store placed them a spend tick or more later than asked
	// (a binding limit), so the call may wait for a tick (spendAt).
	from, lapse time.Time
	ahead       bool
	// recheck is when t's state may change with time alone (a budget it
	// waits for stops being known empty or busy): until then a pass
	// skips it unless an answer came (see dispatch).
	recheck time.Time
}

// never is a recheck moment that time alone never reaches.
var never = time.Unix(1<<62, 0)

// horizon is how far ahead a request may be due (Reservation.Within):
// the batch a round trip can grant, and the longest a call granted
// earlier at a lower priority can keep a later call of a higher one
// waiting.
const horizon = 400 * time.Millisecond

// withinContended is how far ahead a typing renewal, the lowest priority,
// may be due while calls of a higher class wait too or the budget's
// tokens are taken ahead: only a token due about now, so that it never
// holds one a call of a higher class asking a moment later could have
// had.
const withinContended = passLead

// passLead is how long before a busy budget's frontier the next pass for
// it runs: room for the round trip and a late wake-up, so that its tokens
// are granted before they are due. A pass later than that loses nothing
// up to the tolerance the bucket keeps (its burst): a request due late
// finds the tokens that were not taken.
const passLead = 30 * time.Millisecond

// maxPerPass bounds the requests of one pass led by one budget.
const maxPerPass = 512

// maxAsking bounds the round trips led by one budget under way at once.
// A pass sends a second one only while the first is slow (under way for
// askOverlap) and the budget's tokens are not taken ahead (see
// askBlocked): its calls then need not wait for an answer they do not
// depend on (under a saturated CPU a round trip can take hundreds of
// milliseconds, and a first text would wait for two).
const maxAsking = 2

// askOverlap is how long a round trip led by a budget is under way before
// a pass may send another one led by it: well over a usual round trip (a
// few hundred microseconds to Redis on the same host, a few milliseconds
// at its p99 under load), so that calls arriving during one still go
// together in the next batch; only a slow one (a saturated process, a
// busy store) lets them go on their own.
const askOverlap = 10 * time.Millisecond

// spendSafety is how long before its grace ends a granted token stops
// being spent: room for the caller to make its platform call.
const spendSafety = 5 * time.Millisecond

func newScheduler(st Store, local bool, now func() time.Time, log *slog.Logger, rt *atomic.Int64, trip tripFunc) *scheduler {
	return &scheduler{store: st, local: local, now: now, log: log, rt: rt, trip: trip,
		waiters: map[string]int{}, busy: map[string]time.Time{}, refused: map[string]int{}, pools: map[string]*pool{}, kick: make(chan struct{}, 1)}
}

// take waits until the call has one token of every budget and its moment
// has come, or ctx ends. A store failure lets the call go (logged): it is
// never lost to the store being down.
func (s *scheduler) take(ctx context.Context, class Class, budgets []platforms.Budget) error {
	if len(budgets) == 0 {
		return nil
	}
	for asked := 0; ; asked++ {
		t, err := s.wait(ctx, class, budgets, asked > 0)
		if err != nil {
			return err
		}
		if t.failed != nil {
			s.log.Warn("take budgets; sending anyway", "error", t.failed)
			return nil
		}
		late, err := s.sleepUntil(ctx, t)
		if err != nil || !late {
			return err
		}
		if asked >= maxLateAsks {
			s.lateSpends.Add(1)
			s.log.Debug("woke past the budget tokens' grace again; spending them late", "asked", asked+1)
			return nil
		}
		// Woken past the tokens' grace: they lapse unspent (erring on the
		// side of the limits) and the call asks again.
		s.lapsed.Add(1)
	}
}

// maxLateAsks is how many times a call woken past its tokens' grace
// lets them lapse and asks again: once. Woken late a second time, it
// spends the tokens it holds, late. A process that wakes too late twice
// in a row is saturated, or its store's round trips outlast the grace
// (the tokens may then be spent only within 2×spendSafety of the answer):
// every grant it asked for would find it late the same way, and asking
// again only burns tokens and round trips. On saturated cores that never
// ended (TestSlowBudgetStoreTakesAtTheMoment under the race detector with
// the cores busy: a final edit was still asking after 20 s, a round trip
// every 120 ms, and its reply never finished). Spent late, the tokens may meet a platform 429 while
// the budget is busy, which the call waits out (Deliver); a call that
// never goes out loses a reply. In the load test (N=1,000 without a
// limit, cores saturated) 1–23% of the calls woke late once and some of
// those again; under a binding 50/s limit none did.
const maxLateAsks = 1

// sleepUntil waits for t's moment (spendAt); late reports that it has
// passed the tokens' grace by then.
func (s *scheduler) sleepUntil(ctx context.Context, t *ticket) (late bool, err error) {
	at := spendAt(t)
	if s.planned != nil {
		s.planned(at)
	}
	if d := at.Sub(s.now()); d > 0 {
		timer := time.NewTimer(d)
		select {
		case <-timer.C:
		case <-ctx.Done():
			timer.Stop()
			// Its tokens lapse unspent.
			return false, fmt.Errorf("wait for budget: %w", ctx.Err())
		}
	}
	return s.now().After(t.lapse.Add(-spendSafety)), nil
}

// wait queues the call until its request is granted (or the store fails),
// or ctx ends. A call asking again (again: it woke up too late for its
// tokens) goes first in its class: it had its turn.
func (s *scheduler) wait(ctx context.Context, class Class, budgets []platforms.Budget, again bool) (*ticket, error) {
	t := &ticket{pools: make([]*pool, len(budgets)), granted: make(chan struct{}), grace: spendGrace(budgets), class: class, within: horizon}
	s.mu.Lock()
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
	}
	if again {
		s.queues[class] = slices.Insert(s.queues[class], 0, t)
	} else {
		s.queues[class] = append(s.queues[class], t)
	}
	if !s.running {
		s.running = true
		go s.loop()
	}
	s.mu.Unlock()
	if s.local && class != ClassFinal {
		// Finals are taken on a conversation's worker (Deliver), whose
		// stack stays within 8 KiB (bridge's beginChat): a pass there
		// would grow it. Their pass runs on the loop's goroutine.
		s.passHere()
	} else {
		s.wake()
	}
	select {
	case <-t.granted:
		return t, nil
	case <-ctx.Done():
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if !t.done {
		s.finish(t)
		s.wake()
	}
	// Granted meanwhile: its tokens lapse unspent, which errs on the side
	// of the limits.
	return nil, fmt.Errorf("wait for budget: %w", ctx.Err())
}

// leadOf returns the index of t's busiest pool (most calls wait for it;
// the first of equals): its request is led by it. s.mu is held.
func leadOf(t *ticket) int {
	lead := 0
	for i, p := range t.pools {
		if p.wanted > t.pools[lead].wanted {
			lead = i
		}
	}
	return lead
}

// blockedAt returns until when a request using p cannot be worth a round
// trip (p known empty; or, when it leads, its frontier not yet near, or
// not reached for a call without grace, which asks for tokens due at
// once), or zero. s.mu is held.
func (s *scheduler) blockedAt(p *pool, now time.Time, grace time.Duration) time.Time {
	at := p.emptyUntil
	lead := passLead
	if grace <= 0 {
		lead = 0
	}
	if g := p.frontier.Add(-lead); g.After(at) {
		at = g
	}
	if at.After(now) {
		return at
	}
	return time.Time{}
}

// waiting reports whether a call waits for the budget key.
func (s *scheduler) waiting(key string) bool {
	s.wmu.Lock()
	defer s.wmu.Unlock()
	return s.waiters[key] > 0
}

// contended reports whether calls wait for budget key while it is short
// for them: the store found it short for one of them, or this process's
// calls were granted its tokens up to a frontier still ahead of now (a
// binding limit, where calls wait for their moment without being asked
// for). An intermediate update gives way to them (Pacer.ReserveInterim).
// Calls that merely wait for the next pass on a budget with tokens to
// spare are not given way to: the update's reservation and their pass
// then both take tokens the budget has. (It used to give way to any
// waiting call: with a thousand replies streaming, some final or first
// text was nearly always waiting for a pass on the bot's budget, and
// 2.3–2.4 intermediate updates per reply were skipped in the engine
// benchmark.)
func (s *scheduler) contended(key string, now time.Time) bool {
	s.wmu.Lock()
	defer s.wmu.Unlock()
	return s.waiters[key] > 0 && (s.refused[key] > 0 || s.busy[key].After(now))
}

// busyUntil returns the frontier of the moments of budget key granted to
// this process's calls (zero when none is ahead): a token due before it
// would be refused.
func (s *scheduler) busyUntil(key string) time.Time {
	s.wmu.Lock()
	defer s.wmu.Unlock()
	return s.busy[key]
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
	for _, p := range t.short {
		if s.refused[p.bucket.Key]--; s.refused[p.bucket.Key] <= 0 {
			delete(s.refused, p.bucket.Key)
		}
	}
	s.wmu.Unlock()
	for _, p := range t.pools {
		p.wanted--
	}
}

func (s *scheduler) wake() {
	select {
	case s.kick <- struct{}{}:
	default:
	}
}
