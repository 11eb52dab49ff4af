package budget

// The scheduler's passes: which waiting calls get the tokens in hand, which
// budgets to lease, when to run again.

import (
	"time"
)

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
	if len(s.cold) > 0 {
		// The cold budgets of every call of this pass in one round trip,
		// in the pass's order (priority, then first come).
		go s.reserveEach(s.cold)
		s.cold = nil
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
// holds them, asks the store for its cold ones (gathered in s.cold for
// the pass's one ReserveEach); it reports
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
		s.cold = append(s.cold, t) // one ReserveEach at the end of the pass
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
