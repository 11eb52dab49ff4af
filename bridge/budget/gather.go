package budget

// Intermediate updates' reservations, gathered: those asked within
// gatherWindow of each other go to the store in one ReserveEach.

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/secondme-bridge/secondme-bridge/store"
)

// gatherWindow is how long the first reservation of a batch waits for
// others: short against the lead of a reservation ahead (ReserveLead) and
// the margin it is placed by (aheadMargin, at least half the grace).
const gatherWindow = 2 * time.Millisecond

// gatherer batches reservations (Pacer.reserve) into one round trip; on a
// local store (store.LocalBudgets), where a decision costs no round trip,
// each is sent at once.
type gatherer struct {
	st      Store
	local   bool
	now     func() time.Time
	onTrip  tripFunc // counts and times the round trip (Pacer.trip)
	mu      sync.Mutex
	pending []*gathered
}

// gathered is one reservation of a batch: its buckets, due at due (on this
// process's clock), and, once answered, the grant and the batch's round
// trip.
type gathered struct {
	buckets    []store.Bucket
	due        time.Time
	after      time.Duration // due, from the batch's sending
	g          store.Grant
	err        error
	sent, recv time.Time
	// earliest and latest bound the moment the store decided at, within
	// [sent, recv] (storeClock).
	earliest, latest time.Time
	done             chan struct{}
}

// reserve asks for one token of every bucket due at due, in the next
// batch, and waits for the answer (or ctx: the answer is then dropped, and
// its tokens, if granted, lapse unspent).
func (ga *gatherer) reserve(ctx context.Context, buckets []store.Bucket, due time.Time) (*gathered, error) {
	r := &gathered{buckets: buckets, due: due, done: make(chan struct{})}
	ga.mu.Lock()
	ga.pending = append(ga.pending, r)
	first := len(ga.pending) == 1
	ga.mu.Unlock()
	switch {
	case ga.local:
		ga.send() // r, and any that came meanwhile
	case first:
		time.AfterFunc(gatherWindow, ga.send)
	}
	select {
	case <-r.done:
		return r, r.err
	case <-ctx.Done():
		return nil, fmt.Errorf("reserve budgets: %w", ctx.Err())
	}
}

// wait is how long a reservation waits for its batch to be sent, at most.
func (ga *gatherer) wait() time.Duration {
	if ga.local {
		return 0
	}
	return gatherWindow
}

// send sends the pending reservations in one ReserveEach, in the order
// they came (none: another send took them).
func (ga *gatherer) send() {
	ga.mu.Lock()
	batch := ga.pending
	ga.pending = nil
	ga.mu.Unlock()
	if len(batch) == 0 {
		return
	}
	sent := ga.now()
	reqs := make([]store.Reservation, len(batch))
	for i, r := range batch {
		r.after = max(r.due.Sub(sent), 0)
		reqs[i] = store.Reservation{Buckets: r.buckets, After: r.after}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	gs, err := ga.st.Budgets().ReserveEach(ctx, reqs)
	cancel()
	recv := ga.now()
	earliest, latest := ga.onTrip(sent, recv, clockOf(gs))
	for i, r := range batch {
		r.sent, r.recv, r.err = sent, recv, err
		r.earliest, r.latest = earliest, latest
		if err == nil {
			r.g = gs[i]
		}
		close(r.done)
	}
}
