package budget

// The scheduler's store round trip: one ReserveEach for the calls of a
// pass, each due at its lead budget's earliest token within the horizon.

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/secondme-bridge/secondme-bridge/store"
)

// ask asks the store for the tokens of every call of ts in one round trip
// (store.Budgets.ReserveEach, in the order of ts: the pass's priority
// order), each request led by the call's lead budget and due up to the
// horizon ahead, and settles the answers.
func (s *scheduler) ask(ts []*ticket) {
	s.mu.Lock()
	reqs := make([]store.Reservation, len(ts))
	for i, t := range ts {
		buckets := make([]store.Bucket, 0, len(t.pools))
		buckets = append(buckets, t.pools[t.lead].bucket)
		for j, p := range t.pools {
			if j != t.lead {
				buckets = append(buckets, p.bucket)
			}
		}
		reqs[i] = store.Reservation{Buckets: buckets, Within: t.within}
		if t.grace <= 0 {
			reqs[i].Within = 0 // due at once: see ticket.grace
		}
	}
	s.mu.Unlock()
	s.rt.Add(1)
	sent := s.now()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	gs, err := s.store.Budgets().ReserveEach(ctx, reqs)
	cancel()
	recv := s.now()
	earliest, latest := s.trip(sent, recv, clockOf(gs))
	s.mu.Lock()
	defer s.mu.Unlock()
	defer s.wake()
	s.resweep = true
	leads := map[*pool]bool{}
	for _, t := range ts {
		leads[t.pools[t.lead]] = true
	}
	for p := range leads {
		p.asking--
	}
	for i, t := range ts {
		var g store.Grant
		if err == nil {
			g = gs[i]
		}
		s.settle(t, g, err, earliest, latest)
	}
}

// settle applies the store's answer to t's request (decided by the store
// between earliest and latest on this process's clock: the round trip's
// sending and answer, or closer bounds, storeClock): granted, t may spend its
// tokens from its moment until their grace ends (on this process's
// clock); refused, the budgets found short are remembered (its lead's
// frontier, the others empty) until the store says; a store failure lets
// the call go. s.mu is held.
func (s *scheduler) settle(t *ticket, g store.Grant, err error, earliest, latest time.Time) {
	t.asking = false
	t.recheck = time.Time{}
	lead := t.pools[t.lead]
	switch {
	case err != nil:
		if !t.done {
			s.finish(t)
			t.failed = fmt.Errorf("reserve budgets: %w", err)
			close(t.granted)
		}
	case g.OK:
		// The store's "now" lies in [earliest, latest]: the moment g.At
		// after it lies in [earliest+At, latest+At]; spent from
		// latest+At, the tokens are never early, and until
		// earliest+At+grace never late.
		at := latest.Add(g.At)
		s.granted(lead, at, g.At > 0)
		if t.done {
			return // abandoned meanwhile: its tokens lapse unspent
		}
		// A moment known less closely than the grace leaves the tokens
		// to be spent at once at their moment, late by the return trip,
		// as Budgets.Take's are.
		t.from, t.lapse = at, Later(earliest.Add(g.At+t.grace), at.Add(2*spendSafety))
		t.ahead = g.At >= spendTick
		s.finish(t)
		close(t.granted)
	default:
		if !t.done { // an abandoned call is no longer counted (finish)
			s.countShort(t, g.Short)
		}
		base := latest.Add(g.At)
		// Wait is when every short bucket would grant: with several
		// short it is the longest of their waits (a drained channel's,
		// a minute away), and each of them is only known to have no
		// token at base. Moved by another's wait, a shared budget would
		// stall every call waiting for it.
		wait := g.Wait
		if len(g.Short) > 1 {
			wait = 0
		}
		for _, k := range g.Short {
			if k == 0 {
				// The lead has no token within the horizon: none before
				// base+wait for this process's next request either.
				s.advance(lead, base.Add(wait))
				lead.tat = Later(lead.tat, base.Add(wait+slack(lead)))
				continue
			}
			p := t.pools[otherIndex(t.lead, k)]
			p.emptyUntil = Later(p.emptyUntil, base.Add(max(wait, time.Millisecond)))
		}
	}
}

// otherIndex maps index k (≥ 1) of a request's buckets to the index in
// t.pools: the request lists the lead first, then the others in order.
func otherIndex(lead, k int) int {
	if k <= lead {
		return k - 1
	}
	return k
}

// advance moves p's frontier to at if later, also for intermediate
// updates (busyUntil). s.mu is held.
func (s *scheduler) advance(p *pool, at time.Time) {
	if !at.After(p.frontier) {
		return
	}
	p.frontier = at
	s.wmu.Lock()
	s.busy[p.bucket.Key] = at
	s.wmu.Unlock()
}

// granted follows the lead's bucket after a grant at `at` (GCRA, as the
// store does: its theoretical arrival time moves 1/Rate past the later of
// itself and at; placed later than asked, late, the bucket had no token
// before at, so its time was at+slack) and moves its frontier to the next
// moment a token fits: slack before that time. A bucket granting at once
// from its burst keeps its frontier near. s.mu is held.
func (s *scheduler) granted(p *pool, at time.Time, late bool) {
	sl := slack(p)
	if late {
		p.tat = Later(p.tat, at.Add(sl))
	}
	p.tat = Later(p.tat, at).Add(interval(p))
	s.advance(p, p.tat.Add(-sl))
}

// slack is how long before its theoretical arrival time p's bucket grants
// a token: (Burst-1)/Rate less the grace it keeps in hand (see
// store.Budgets.Reserve).
func slack(p *pool) time.Duration {
	l := p.bucket.Limit
	return time.Duration(float64(l.Burst-1)/l.Rate*float64(time.Second)) - p.bucket.Grace
}

// interval is the time between two tokens of p's bucket.
func interval(p *pool) time.Duration {
	return time.Duration(float64(time.Second) / p.bucket.Limit.Rate)
}

// countShort counts t as waiting for the pools the store found short for
// it (scheduler.refused, once per pool until finish). s.mu is held.
func (s *scheduler) countShort(t *ticket, short []int) {
	s.wmu.Lock()
	defer s.wmu.Unlock()
	for _, k := range short {
		p := t.pools[t.lead]
		if k > 0 {
			p = t.pools[otherIndex(t.lead, k)]
		}
		if !slices.Contains(t.short, p) {
			t.short = append(t.short, p)
			s.refused[p.bucket.Key]++
		}
	}
}
