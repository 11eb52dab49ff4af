package bridge

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/secondme-bridge/secondme-bridge/platforms"
	"github.com/secondme-bridge/secondme-bridge/store"
)

// budgetState is what this process remembers about the shared budgets: when
// a budget was last found empty and until when it stays so (to skip
// intermediate updates without a store round trip), and how many final
// updates wait for each budget (intermediate updates give way to them).
type budgetState struct {
	mu         sync.Mutex
	emptyUntil map[string]time.Time
	finals     map[string]int
}

func newBudgetState() *budgetState {
	return &budgetState{emptyUntil: map[string]time.Time{}, finals: map[string]int{}}
}

// budgetsOf returns the budgets an update of ref draws from.
func budgetsOf(p platforms.Platform, ref platforms.MessageRef) []platforms.Budget {
	bp := platforms.ResolveCaps(p).Budgeter
	if bp == nil {
		return nil
	}
	return bp.UpdateBudgets(ref)
}

// sendBudgetsOf returns the budgets a new message to `to` draws from.
func sendBudgetsOf(p platforms.Platform, to platforms.Target) []platforms.Budget {
	bp := platforms.ResolveCaps(p).Budgeter
	if bp == nil {
		return nil
	}
	return bp.SendBudgets(to)
}

// held are budget tokens reserved for one intermediate update: spend them
// no earlier than from and no later than until (store.SpendInterval).
type held struct {
	keys        string // the budgets' keys, joined: the tokens pay for these only
	from, until time.Time
}

// usable reports whether h pays for an update drawing from keys, due at
// ready, made now or at ready (not when the update moved past them: a 429
// back-off, say).
func (h *held) usable(keys string, ready, now time.Time) bool {
	return h != nil && h.keys == keys && !laterOf(ready, now).After(h.until)
}

// budgetKeys joins the keys of budgets, to compare reservations.
func budgetKeys(budgets []platforms.Budget) string {
	var sb strings.Builder
	for _, bu := range budgets {
		sb.WriteString(bu.Key)
		sb.WriteByte(0)
	}
	return sb.String()
}

// spendGrace returns how late tokens of budgets may be spent after their
// due moment: the smallest store.SpendGrace.
func spendGrace(budgets []platforms.Budget) time.Duration {
	g := store.SpendWindow
	for _, bu := range budgets {
		g = min(g, store.SpendGrace(limitOf(bu)))
	}
	return g
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

// reserveLead is how long before an intermediate update is due the flusher
// reserves its tokens: room for a slow store round trip, and short enough
// that a stream rarely ends in between (the tokens of an update that never
// happens are lost, erring on the side of the limits).
func reserveLead(interval time.Duration) time.Duration {
	return min(100*time.Millisecond, interval/4)
}

// aheadMargin is how much before the update's moment the due moment of its
// tokens is placed, given their spend grace and the store's usual round
// trip (takeStats.high). The round trip shifts the start of the spend
// interval by its duration (store.SpendInterval), so the margin covers it
// (at least half the grace), and what is left of the grace, at least
// minWakeSlack, absorbs a late wake-up of the flusher.
func aheadMargin(grace, rtt time.Duration) time.Duration {
	return min(max(grace/2, rtt), grace-minWakeSlack)
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

// canReserveAhead reports whether the tokens of an update drawing from
// budgets are worth reserving ahead: the budgets have a spend grace, and
// store round trips are short enough to leave minWakeSlack of it
// (otherwise the tokens could seldom be spent on time and updates would
// pay twice, so they take their tokens at their moment instead).
func (b *Bridge) canReserveAhead(budgets []platforms.Budget) bool {
	grace := aheadGrace(budgets)
	return grace > 0 && b.takeStats.high() < grace-minWakeSlack
}

// reserve reserves one token of every budget, due after `after`, in one
// store round trip, and returns the grant with the spend interval of its
// tokens on this process's clock.
func (b *Bridge) reserve(ctx context.Context, budgets []platforms.Budget, after time.Duration) (store.Grant, time.Time, time.Time, error) {
	buckets := make([]store.Bucket, len(budgets))
	for i, bu := range budgets {
		buckets[i] = store.Bucket{Key: bu.Key, Limit: limitOf(bu)}
	}
	sent := b.now()
	g, err := b.st.Budgets().Reserve(ctx, buckets, after)
	recv := b.now()
	b.takeStats.observe(recv.Sub(sent))
	from, until := store.SpendInterval(sent, recv, after, spendGrace(budgets))
	return g, from, until, err
}

// reserveInterim reserves the tokens of an intermediate update due at
// `at`: ahead of time when ahead is set (due a margin before at, so that
// the update can go out at at), at once otherwise. It reports nil, with
// the reason and how long to wait before trying again, when a final
// update waits for one of the budgets, when one is known or found empty
// (the others keep their tokens), or when the store fails (the update is
// skipped).
func (b *Bridge) reserveInterim(ctx context.Context, budgets []platforms.Budget, at time.Time, ahead bool) (*held, string, time.Duration) {
	keys := budgetKeys(budgets)
	if len(budgets) == 0 {
		return &held{keys: keys, from: at, until: at.Add(time.Hour)}, "", 0
	}
	now := b.now()
	bs := b.budgets
	bs.mu.Lock()
	for _, bu := range budgets {
		if bs.finals[bu.Key] > 0 {
			bs.mu.Unlock()
			return nil, skipPriority, 0
		}
		if until, ok := bs.emptyUntil[bu.Key]; ok {
			if now.Before(until) {
				bs.mu.Unlock()
				return nil, skipBudget, until.Sub(now)
			}
			delete(bs.emptyUntil, bu.Key)
		}
	}
	bs.mu.Unlock()
	var after time.Duration
	if ahead {
		after = max(at.Sub(now)-aheadMargin(aheadGrace(budgets), b.takeStats.high()), 0)
	}
	g, from, until, err := b.reserve(ctx, budgets, after)
	switch {
	case err != nil:
		b.log.Warn("reserve update budgets", "error", err)
		return nil, skipError, 0
	case !g.OK:
		due := now.Add(after)
		bs.mu.Lock()
		for _, i := range g.Short {
			bs.emptyUntil[budgets[i].Key] = due.Add(g.Wait)
		}
		bs.mu.Unlock()
		return nil, skipBudget, max(due.Add(g.Wait).Sub(b.now()), 0)
	}
	if after == 0 {
		// Taken for at once: spent as soon as the answer is here.
		until = laterOf(until, from)
	}
	return &held{keys: keys, from: from, until: until}, "", 0
}

// takeFinal takes one token from every budget of a final update, waiting
// for the empty ones as long as the store says (never spinning), until ctx
// is done. While it waits for an empty budget, intermediate updates drawing
// from that budget give way. A store failure lets the final through: a
// final is never lost to the store being down.
func (b *Bridge) takeFinal(ctx context.Context, budgets []platforms.Budget) error {
	bs := b.budgets
	var waiting []string // keys this final registered as waiting for
	defer func() {
		if len(waiting) == 0 {
			return
		}
		bs.mu.Lock()
		for _, k := range waiting {
			if bs.finals[k]--; bs.finals[k] <= 0 {
				delete(bs.finals, k)
			}
		}
		bs.mu.Unlock()
	}()
	for len(budgets) > 0 {
		g, _, _, err := b.reserve(ctx, budgets, 0)
		switch {
		case err != nil:
			if ctx.Err() != nil {
				return fmt.Errorf("take final budget: %w", ctx.Err())
			}
			b.log.Warn("take final update budgets; sending anyway", "error", err)
			return nil
		case g.OK:
			return nil
		}
		for _, i := range g.Short {
			if k := budgets[i].Key; !slices.Contains(waiting, k) {
				waiting = append(waiting, k)
				bs.mu.Lock()
				bs.finals[k]++
				bs.mu.Unlock()
			}
		}
		select {
		case <-time.After(min(max(g.Wait, 10*time.Millisecond), 5*time.Second)):
		case <-ctx.Done():
			return fmt.Errorf("wait for final budget: %w", ctx.Err())
		}
	}
	return nil
}
