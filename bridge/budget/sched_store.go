package budget

// The scheduler's store round trips: Reserve (or one ReserveEach for the
// calls of a pass) for a call's own budgets, Lease for a shared one,
// Return for tokens not spent.

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/secondme-bridge/secondme-bridge/store"
)

// reserve takes one token of every budget t does not hold yet in one
// round trip (store.Budgets.Reserve, due at once): the tokens are held for
// t, which is granted at once when queued (not lone: take's own call
// grants it then); a budget found empty is remembered as such until the
// store says.
func (s *scheduler) reserve(t *ticket, lone bool) {
	s.mu.Lock()
	r := s.coldOf(t)
	s.mu.Unlock()
	s.rt.Add(1)
	sent := s.now()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	g, err := s.store.Budgets().Reserve(ctx, r.buckets, 0)
	cancel()
	now := s.now()
	s.observe(now.Sub(sent))
	s.mu.Lock()
	defer s.mu.Unlock()
	defer s.wake()
	s.settle(r, g, err, sent, now, lone)
}

// reserveEach is reserve for the calls of one pass, all in one round
// trip (store.Budgets.ReserveEach): each call's cold budgets all or none,
// decided in the order of ts (the pass's priority order).
func (s *scheduler) reserveEach(ts []*ticket) {
	if len(ts) == 1 {
		s.reserve(ts[0], false)
		return
	}
	s.mu.Lock()
	rs := make([]coldAsk, len(ts))
	reqs := make([]store.Reservation, len(ts))
	for i, t := range ts {
		rs[i] = s.coldOf(t)
		reqs[i] = store.Reservation{Buckets: rs[i].buckets}
	}
	s.mu.Unlock()
	s.rt.Add(1)
	sent := s.now()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	gs, err := s.store.Budgets().ReserveEach(ctx, reqs)
	cancel()
	now := s.now()
	s.observe(now.Sub(sent))
	s.mu.Lock()
	defer s.mu.Unlock()
	defer s.wake()
	for i, r := range rs {
		var g store.Grant
		if err == nil {
			g = gs[i]
		}
		s.settle(r, g, err, sent, now, false)
	}
}

// coldAsk is the Reserve a ticket needs: the budgets it does not hold yet
// (buckets) and their indexes in t.pools (idx).
type coldAsk struct {
	t       *ticket
	idx     []int
	buckets []store.Bucket
}

// coldOf returns the budgets t does not hold yet. s.mu is held.
func (s *scheduler) coldOf(t *ticket) coldAsk {
	r := coldAsk{t: t}
	for i, p := range t.pools {
		if t.held[i].IsZero() {
			r.idx = append(r.idx, i)
			r.buckets = append(r.buckets, p.bucket)
		}
	}
	return r
}

// settle applies the store's answer to r (a round trip sent at sent,
// answered at now): the tokens are held for the call, given back when it
// was abandoned meanwhile, or the budgets found empty are remembered; a
// store failure lets the call go. s.mu is held.
func (s *scheduler) settle(r coldAsk, g store.Grant, err error, sent, now time.Time, lone bool) {
	t := r.t
	t.asking = false
	t.recheck = time.Time{}
	switch {
	case t.done:
		if err == nil && g.OK {
			for _, b := range r.buckets {
				s.giveBack(b, 1) // abandoned meanwhile
			}
		}
	case err != nil:
		s.release(t, now)
		s.finish(t)
		t.failed = fmt.Errorf("reserve budgets: %w", err)
		close(t.granted)
	case g.OK:
		for k, i := range r.idx {
			t.held[i] = lapseOf(r.buckets[k], sent, now)
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
			t.pools[r.idx[k]].emptyUntil = now.Add(max(g.Wait, time.Millisecond))
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
