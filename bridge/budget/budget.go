package budget

import (
	"context"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/secondme-bridge/secondme-bridge/bridge/internal/metrics"
	"github.com/secondme-bridge/secondme-bridge/platforms"
	"github.com/secondme-bridge/secondme-bridge/store"
)

// Pacer paces one process's platform updates against the shared budgets
// (store.Budgets): final updates take their tokens, waiting for them
// (TakeFinal, Deliver); intermediate updates reserve theirs, ahead of time
// when the store answers fast enough (ReserveInterim, CanReserveAhead), and
// are skipped rather than wait. It remembers which budgets were found empty
// and which ones finals wait for, so that intermediate updates give way
// without a store round trip. It is safe for concurrent use.
type Pacer struct {
	store       Store
	now         func() time.Time
	log         *slog.Logger
	rateLimited func(platform string) // counts a platform 429
	state       *budgetState
	stats       takeStats   // budget round-trip times (CanReserveAhead)
	clock       *storeClock // the store's clock against ours (CanReserveAhead)
	sched       *scheduler
	gather      *gatherer    // intermediate updates' reservations, batched
	roundTrips  atomic.Int64 // budget round trips to the store
	calls       atomic.Int64 // platform calls granted their budgets
}

// Store is where the budgets live (a store.Store).
type Store interface {
	Budgets() store.Budgets
}

// Deps are what a Pacer needs. Now and Log default to time.Now and a
// discarding logger; RateLimited, called with the platform's name on every
// platform 429 an update meets, may be nil.
type Deps struct {
	Store       Store
	Now         func() time.Time
	Log         *slog.Logger
	RateLimited func(platform string)
}

// New returns a Pacer over d.Store.
func New(d Deps) *Pacer {
	p := &Pacer{store: d.Store, now: d.Now, log: d.Log, rateLimited: d.RateLimited, state: newBudgetState(), clock: &storeClock{}}
	if p.now == nil {
		p.now = time.Now
	}
	if p.log == nil {
		p.log = slog.New(slog.DiscardHandler)
	}
	if p.rateLimited == nil {
		p.rateLimited = func(string) {}
	}
	local := store.BudgetsLocal(p.store.Budgets())
	p.sched = newScheduler(p.store, local, p.now, p.log, &p.roundTrips, p.trip)
	p.gather = &gatherer{st: p.store, local: local, now: p.now, onTrip: func(sent, recv, reading time.Time) (time.Time, time.Time) {
		p.roundTrips.Add(1)
		return p.trip(sent, recv, reading)
	}}
	return p
}

// tripFunc is told a budget round trip: sent and answered at sent and
// recv on this process's clock, the store reading its clock at reading
// (zero when it does not say: store.Grant.Clock). It returns the bounds of
// the moment the store decided at, on this process's clock.
type tripFunc func(sent, recv, reading time.Time) (earliest, latest time.Time)

// trip is the Pacer's tripFunc: the round trip's duration goes into the
// statistics and its reading into the store's clock estimate.
func (p *Pacer) trip(sent, recv, reading time.Time) (earliest, latest time.Time) {
	p.stats.observe(recv.Sub(sent))
	return p.clock.observe(sent, recv, reading)
}

// clockOf returns the store's clock reading of a ReserveEach answer (every
// grant of one call carries the same), or zero.
func clockOf(gs []store.Grant) time.Time {
	if len(gs) == 0 {
		return time.Time{}
	}
	return gs[0].Clock
}

// budgetState is what this process remembers about the shared budgets:
// when a budget was last found empty and until when it stays so (to skip
// intermediate updates without a store round trip).
type budgetState struct {
	mu         sync.Mutex
	emptyUntil map[string]time.Time
}

func newBudgetState() *budgetState {
	return &budgetState{emptyUntil: map[string]time.Time{}}
}

// Counts are a Pacer's running totals: budget round trips to the store
// (Reserve, ReserveEach), platform calls granted their budgets, calls
// woken past their tokens' grace that asked again (Lapsed), and calls
// woken late twice in a row that spent their tokens late (LateSpends, see
// maxLateAsks).
type Counts = metrics.BudgetCounts

// Counts returns the running totals (for metrics.RegisterBudgetCounts).
func (p *Pacer) Counts() Counts {
	return Counts{
		RoundTrips: p.roundTrips.Load(),
		Calls:      p.calls.Load(),
		Lapsed:     p.sched.lapsed.Load(),
		LateSpends: p.sched.lateSpends.Load(),
	}
}

// UpdateBudgets returns the budgets an update of ref draws from (none
// when the platform keeps no budgets: bu is nil).
func UpdateBudgets(bu platforms.Budgeter, ref platforms.MessageRef) []platforms.Budget {
	if bu == nil {
		return nil
	}
	return bu.UpdateBudgets(ref)
}

// SendBudgets returns the budgets a new message to `to` draws from (none
// when bu is nil).
func SendBudgets(bu platforms.Budgeter, to platforms.Target) []platforms.Budget {
	if bu == nil {
		return nil
	}
	return bu.SendBudgets(to)
}

// TypingBudgets returns the budgets a typing indicator in `to` draws from
// (none when bu is nil or keeps no typing budgets: platforms.TypingBudgeter).
func TypingBudgets(bu platforms.Budgeter, to platforms.Target) []platforms.Budget {
	if tb, ok := bu.(platforms.TypingBudgeter); ok {
		return tb.TypingBudgets(to)
	}
	return nil
}

// Held are budget tokens reserved for one intermediate update: spend them
// no earlier than From and no later than until (SpendInterval).
type Held struct {
	keys        string // the budgets' keys, joined: the tokens pay for these only
	From, until time.Time
}

// Usable reports whether h pays for an update drawing from keys, due at
// ready, made now or at ready (not when the update moved past them: a 429
// back-off, say).
func (h *Held) Usable(keys string, ready, now time.Time) bool {
	return h != nil && h.keys == keys && !Later(ready, now).After(h.until)
}

// Keys joins the keys of budgets, to compare reservations.
func Keys(budgets []platforms.Budget) string {
	var sb strings.Builder
	for _, bu := range budgets {
		sb.WriteString(bu.Key)
		sb.WriteByte(0)
	}
	return sb.String()
}

// spendGrace returns how late tokens of budgets may be spent after their
// due moment: the smallest SpendGrace.
func spendGrace(budgets []platforms.Budget) time.Duration {
	g := tickWindow
	for _, bu := range budgets {
		g = min(g, SpendGrace(limitOf(bu)))
	}
	return g
}

// SpendWindow is how late after their due moment reserved tokens of a
// bucket of a high rate (over maxTickRate) may be spent, when its burst
// can spare it (see SpendGrace).
const SpendWindow = 25 * time.Millisecond

// SpendGrace returns how late after its due moment a token reserved from
// a bucket under l may be spent (the grace the pacer asks the store to
// keep in hand, store.Bucket.Grace): tickWindow, or SpendWindow for a
// bucket of a rate over maxTickRate, or less when the burst cannot keep
// that much in hand ((Burst-1)/Rate; 0 for a burst of 1).
func SpendGrace(l store.Limit) time.Duration {
	if l.Rate <= 0 || l.Burst <= 1 {
		return 0
	}
	spare := time.Duration(float64(l.Burst-1) / l.Rate * float64(time.Second))
	if l.Rate <= maxTickRate {
		return min(tickWindow, spare)
	}
	return min(SpendWindow, spare)
}

// SpendInterval returns when, on the caller's clock, tokens granted by a
// Reserve call sent at sent, answered at received, may be spent: the
// store's clock read "now" somewhere in between, so the due moment lies
// in [sent+after, received+after] and the spend interval is [received+after,
// sent+after+grace]. It is empty (from after until) when the round trip
// took longer than the grace: the tokens are then spent at once, late by
// the return trip, as with Take.
func SpendInterval(sent, received time.Time, after, grace time.Duration) (from, until time.Time) {
	return received.Add(after), sent.Add(after + grace)
}

func limitOf(bu platforms.Budget) store.Limit { return store.Limit{Rate: bu.Rate, Burst: bu.Burst} }

// aheadGrace returns spendGrace, or 0 when the tokens cannot be reserved
// ahead usefully (no budgets, or too little grace: a budget with a burst
// of 1 has none).
func aheadGrace(budgets []platforms.Budget) time.Duration {
	if g := spendGrace(budgets); len(budgets) > 0 && g >= minAheadGrace {
		return g
	}
	return 0
}

// minAheadGrace is the least spend grace worth reserving ahead for: room
// for a store round trip and a late wake-up.
const minAheadGrace = 2 * minWakeSlack

// ReserveLead is how long before an intermediate update is due the flusher
// reserves its tokens: room for a slow store round trip, and short enough
// that a stream rarely ends in between (the tokens of an update that never
// happens are lost, erring on the side of the limits).
func ReserveLead(interval time.Duration) time.Duration {
	return min(100*time.Millisecond, interval/4)
}

// aheadMargin is how much before the update's moment the due moment of its
// tokens is placed, given their spend grace and how closely the moment the
// store decides at is known (Pacer.uncertainty: the store's usual round
// trip, or its clock's estimate). That uncertainty shifts the start of the
// spend interval (SpendInterval), so the margin covers it (at least half
// the grace, or of SpendWindow for a wider one: a wider grace is room to
// spend late, not a reason to place the tokens earlier), and what is
// left of the grace, at least minWakeSlack, absorbs a late wake-up of the
// flusher.
func aheadMargin(grace, uncertainty time.Duration) time.Duration {
	return min(max(min(grace, SpendWindow)/2, uncertainty), grace-minWakeSlack)
}

// minWakeSlack is the least time left, after the margin, to spend reserved
// tokens late.
const minWakeSlack = 5 * time.Millisecond

// takeStats are the smoothed store round-trip time of a reservation and
// its mean deviation, as TCP estimates a retransmission timeout (starting
// from the first sample).
type takeStats struct {
	sync.Mutex
	n        int
	avg, dev time.Duration
}

func (s *takeStats) observe(d time.Duration) {
	s.Lock()
	if s.n++; s.n == 1 {
		s.avg = d
		s.Unlock()
		return
	}
	diff := d - s.avg
	s.avg += diff / 8
	if diff < 0 {
		diff = -diff
	}
	s.dev += (diff - s.dev) / 4
	s.Unlock()
}

// high returns a round-trip time that few reservations exceed: the
// average plus four deviations.
func (s *takeStats) high() time.Duration {
	s.Lock()
	defer s.Unlock()
	return s.avg + 4*s.dev
}

// CanReserveAhead reports whether the tokens of an update drawing from
// budgets are worth reserving ahead, asked for lead before the update
// (render's ReserveLead): the budgets have a spend grace; how closely the
// moment the store decides at is known (the round trip's duration, or the
// store's clock estimate when closer: uncertainty) leaves minWakeSlack of
// it (otherwise the tokens could seldom be spent on time and updates would
// pay twice, so they take their tokens at their moment instead); and the
// answer comes within lead (AheadLead).
func (p *Pacer) CanReserveAhead(budgets []platforms.Budget, lead time.Duration) bool {
	grace := aheadGrace(budgets)
	return grace > 0 && p.uncertainty() < grace-minWakeSlack && p.AheadLead(budgets) <= lead
}

// uncertainty is how closely the moment the store decides a reservation
// at is known on this process's clock: a usual round trip's duration
// (takeStats.high), or less when the store's clock is known more closely
// (storeClock).
func (p *Pacer) uncertainty() time.Duration {
	u := p.stats.high()
	if w, ok := p.clock.width(p.now()); ok {
		u = min(u, w)
	}
	return u
}

// AheadLead returns how long before an update is due its tokens must be
// asked for to be reserved ahead of it (ReserveInterim with ahead): the
// margin its tokens' due moment is placed before it (aheadMargin), or the
// usual round trip when longer (the answer must be in before the
// update), the wait for the batch (gatherer.wait) and as much again.
// Asked later, the round trip would be on the update's path.
func (p *Pacer) AheadLead(budgets []platforms.Budget) time.Duration {
	return max(aheadMargin(aheadGrace(budgets), p.uncertainty()), p.stats.high()) + 2*p.gather.wait()
}

// reserve reserves one token of every budget, due after `after` from now,
// in the next gathered batch (one store round trip for the reservations
// asked within gatherWindow), and returns the grant with the spend
// interval of its tokens on this process's clock (SpendInterval over the
// bounds of the store's decision, closer than the round trip when the
// store reports its clock: storeClock), the `after` the batch asked for
// (the same due moment, from the batch's sending) and when the batch was
// sent.
func (p *Pacer) reserve(ctx context.Context, budgets []platforms.Budget, after time.Duration) (store.Grant, time.Time, time.Time, time.Duration, time.Time, error) {
	buckets := make([]store.Bucket, len(budgets))
	for i, bu := range budgets {
		buckets[i] = store.Bucket{Key: bu.Key, Limit: limitOf(bu), Grace: SpendGrace(limitOf(bu))}
	}
	r, err := p.gather.reserve(ctx, buckets, p.now().Add(after))
	if err != nil {
		return store.Grant{}, time.Time{}, time.Time{}, 0, time.Time{}, err
	}
	from, until := SpendInterval(r.earliest, r.latest, r.after, spendGrace(budgets))
	return r.g, from, until, r.after, r.sent, nil
}

// reserveInterim reserves the tokens of an intermediate update due at
// `at`: ahead of time when ahead is set (due a margin before at, so that
// the update can go out at at), at once otherwise. It reports nil, with
// the reason and how long to wait before trying again, when a call
// waits for one of the budgets while it is short (scheduler.contended),
// when one is known or found empty
// (the others keep their tokens), or when the store fails (the update is
// skipped).
func (p *Pacer) ReserveInterim(ctx context.Context, budgets []platforms.Budget, at time.Time, ahead bool) (*Held, string, time.Duration) {
	keys := Keys(budgets)
	if len(budgets) == 0 {
		return &Held{keys: keys, From: at, until: at.Add(time.Hour)}, "", 0
	}
	now := p.now()
	bs := p.state
	for _, bu := range budgets {
		if p.sched.contended(bu.Key, now) {
			return nil, metrics.SkipPriority, 0
		}
	}
	bs.mu.Lock()
	for _, bu := range budgets {
		if until, ok := bs.emptyUntil[bu.Key]; ok {
			if now.Before(until) {
				bs.mu.Unlock()
				return nil, metrics.SkipBudget, until.Sub(now)
			}
			delete(bs.emptyUntil, bu.Key)
		}
	}
	bs.mu.Unlock()
	var after time.Duration
	if ahead {
		after = max(at.Sub(now)-aheadMargin(aheadGrace(budgets), p.uncertainty()), 0)
	}
	if free := p.busyUntil(budgets); free.After(now.Add(after)) {
		// This process's calls hold the budget's tokens until then:
		// the update gives way, without a round trip.
		return nil, metrics.SkipBudget, free.Sub(now)
	}
	g, from, until, after, sent, err := p.reserve(ctx, budgets, after)
	switch {
	case err != nil:
		p.log.Warn("reserve update budgets", "error", err)
		return nil, metrics.SkipError, 0
	case !g.OK:
		due := sent.Add(after)
		bs.mu.Lock()
		for _, i := range g.Short {
			bs.emptyUntil[budgets[i].Key] = due.Add(g.Wait)
		}
		bs.mu.Unlock()
		return nil, metrics.SkipBudget, max(due.Add(g.Wait).Sub(p.now()), 0)
	}
	if after == 0 {
		// Taken for at once: spent as soon as the answer is here.
		until = Later(until, from)
	}
	p.calls.Add(1)
	return &Held{keys: keys, From: from, until: until}, "", 0
}

// busyUntil returns the latest frontier of budgets: the moment before
// which this process's calls were granted their tokens (scheduler.busyUntil),
// so that the store would refuse an update due earlier and the next pass's
// calls need the tokens after it.
func (p *Pacer) busyUntil(budgets []platforms.Budget) time.Time {
	var free time.Time
	for _, bu := range budgets {
		free = Later(free, p.sched.busyUntil(bu.Key))
	}
	return free
}

// TakeFinal takes one token from every budget of an update that must
// happen (Take at ClassFinal).
func (p *Pacer) TakeFinal(ctx context.Context, budgets []platforms.Budget) error {
	return p.Take(ctx, ClassFinal, budgets)
}

// Take takes one token from every budget of a platform call of the given
// class, waiting for them (never spinning, never polling the store) until
// ctx is done: calls are granted in class order, first come first served
// within a class, a pass's calls in one store round trip, each due at its
// moment up to a horizon ahead (see scheduler); Take returns at that
// moment. While a call waits for a budget, intermediate updates drawing
// from it give way.
// A store failure lets the call through: a final is never lost to the
// store being down.
func (p *Pacer) Take(ctx context.Context, class Class, budgets []platforms.Budget) error {
	if err := p.sched.take(ctx, class, budgets); err != nil {
		return err
	}
	p.calls.Add(1)
	return nil
}

// Later returns the later of a and b.
func Later(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

// Lend gives u, an adapter's own calls (platforms.BudgetUser), the pacer's
// Take at ClassFirst: they wait for their budgets like a reply's first
// text, which they come before. Nil u is nothing to do.
func (p *Pacer) Lend(u platforms.BudgetUser) {
	if u != nil {
		u.UseBudgets(func(ctx context.Context, budgets []platforms.Budget) error {
			return p.Take(ctx, ClassFirst, budgets)
		})
	}
}
