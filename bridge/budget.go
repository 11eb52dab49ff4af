package bridge

import (
	"context"
	"fmt"
	"slices"
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
	bp, ok := p.(platforms.Budgeter)
	if !ok {
		return nil
	}
	return bp.UpdateBudgets(ref)
}

// sendBudgetsOf returns the budgets a new message to `to` draws from.
func sendBudgetsOf(p platforms.Platform, to platforms.Target) []platforms.Budget {
	bp, ok := p.(platforms.Budgeter)
	if !ok {
		return nil
	}
	return bp.SendBudgets(to)
}

// takeResult is the outcome of one Take.
type takeResult struct {
	ok   bool
	wait time.Duration
	err  error
}

// budgetLead is how long before an intermediate update is due the flusher
// takes its budget tokens, so that the update goes out on time: the
// recent take time plus four times its deviation (as TCP estimates a
// retransmission timeout), between 0.5 ms and maxBudgetLead (0 for a
// platform without budgets). A token is therefore taken at most
// maxBudgetLead before the request it pays for.
func (b *Bridge) budgetLead(p platforms.Platform) time.Duration {
	if _, ok := p.(platforms.Budgeter); !ok {
		return 0
	}
	b.takeStats.Lock()
	lead := b.takeStats.avg + 4*b.takeStats.dev
	b.takeStats.Unlock()
	return min(max(lead, 500*time.Microsecond), maxBudgetLead)
}

// maxBudgetLead bounds budgetLead.
const maxBudgetLead = 20 * time.Millisecond

// takeStats are the smoothed budget take time and its mean deviation.
type takeStats struct {
	sync.Mutex
	avg, dev time.Duration
}

func (s *takeStats) observe(d time.Duration) {
	s.Lock()
	diff := d - s.avg
	s.avg += diff / 8
	if diff < 0 {
		diff = -diff
	}
	s.dev += (diff - s.dev) / 4
	s.Unlock()
}

// takeAll takes one token from each budget, concurrently when there are
// several (one store round trip of latency), and returns each result.
func (b *Bridge) takeAll(ctx context.Context, budgets []platforms.Budget) []takeResult {
	start := time.Now()
	defer func() { b.takeStats.observe(time.Since(start)) }()
	res := make([]takeResult, len(budgets))
	take := func(i int) {
		bu := budgets[i]
		ok, wait, err := b.st.Budgets().Take(ctx, bu.Key, store.Limit{Rate: bu.Rate, Burst: bu.Burst}, 1)
		res[i] = takeResult{ok, wait, err}
	}
	var wg sync.WaitGroup
	for i := 1; i < len(budgets); i++ {
		wg.Go(func() { take(i) })
	}
	if len(budgets) > 0 {
		take(0)
	}
	wg.Wait()
	return res
}

// takeInterim takes one token from every budget of an intermediate update,
// right before it. It reports false, with the reason and how long the
// caller should wait before trying again, when any budget is empty (the
// tokens taken from the others are lost: budgets err on the safe side) or
// a final update waits for one of them. A store failure also skips the
// update.
func (b *Bridge) takeInterim(ctx context.Context, budgets []platforms.Budget) (bool, string, time.Duration) {
	if len(budgets) == 0 {
		return true, "", 0
	}
	now := b.now()
	bs := b.budgets
	bs.mu.Lock()
	for _, bu := range budgets {
		if bs.finals[bu.Key] > 0 {
			bs.mu.Unlock()
			return false, skipPriority, 0
		}
		if until, ok := bs.emptyUntil[bu.Key]; ok {
			if now.Before(until) {
				bs.mu.Unlock()
				return false, skipBudget, until.Sub(now)
			}
			delete(bs.emptyUntil, bu.Key)
		}
	}
	bs.mu.Unlock()
	ok, reason, wait := true, "", time.Duration(0)
	for i, r := range b.takeAll(ctx, budgets) {
		switch {
		case r.err != nil:
			b.log.Warn("take update budget", "budget", budgets[i].Key, "error", r.err)
			ok, reason = false, skipError
		case !r.ok:
			bs.mu.Lock()
			bs.emptyUntil[budgets[i].Key] = now.Add(r.wait)
			bs.mu.Unlock()
			if ok || reason == skipBudget {
				ok, reason, wait = false, skipBudget, max(wait, r.wait)
			}
		}
	}
	return ok, reason, wait
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
		var left []platforms.Budget
		var wait time.Duration
		for i, r := range b.takeAll(ctx, budgets) {
			switch {
			case r.err != nil:
				if ctx.Err() != nil {
					return fmt.Errorf("take final budget: %w", ctx.Err())
				}
				b.log.Warn("take final update budget; sending anyway", "budget", budgets[i].Key, "error", r.err)
			case !r.ok:
				left = append(left, budgets[i])
				wait = max(wait, r.wait)
				if !slices.Contains(waiting, budgets[i].Key) {
					waiting = append(waiting, budgets[i].Key)
					bs.mu.Lock()
					bs.finals[budgets[i].Key]++
					bs.mu.Unlock()
				}
			}
		}
		if len(left) == 0 {
			return nil
		}
		budgets = left
		select {
		case <-time.After(min(max(wait, 10*time.Millisecond), 5*time.Second)):
		case <-ctx.Done():
			return fmt.Errorf("wait for final budget: %w", ctx.Err())
		}
	}
	return nil
}
