package budget

// The scheduler's passes: which waiting calls to ask the store for now,
// when to run again.

import (
	"math"
	"time"
)

// loop runs the scheduler until nothing waits and no round trip is under
// way. A pass's round trip runs on a goroutine of its own, so that the
// next pass need not wait for it (askBlocked); on a local store
// (scheduler.local) it runs here, at once: it takes microseconds.
func (s *scheduler) loop() {
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	var last time.Time // the last pass
	for {
		s.mu.Lock()
		last = time.Now()
		batch, next, idle := s.dispatch()
		if idle {
			s.running = false
			s.mu.Unlock()
			return
		}
		s.mu.Unlock()
		if len(batch) > 0 {
			if s.local {
				s.ask(batch) // its answer kicks the next pass
			} else {
				go s.ask(batch)
			}
		}
		timer.Reset(max(next, time.Millisecond))
		select {
		case <-s.kick:
			if !timer.Stop() {
				select {
				case <-timer.C:
				default:
				}
			}
			// A pass at most every dispatchEvery: a wake-up long after
			// the last pass is handled at once; those within
			// dispatchEvery of it gather until then, so that a burst of
			// arrivals costs one round trip. A local store's decisions
			// cost no round trip: its calls are asked for at once (the
			// kicks that come while a pass runs still make one pass).
			if d := dispatchEvery - time.Since(last); d > 0 && !s.local {
				time.Sleep(d)
			}
		case <-timer.C:
		}
	}
}

// passHere runs a pass on the calling goroutine, its store round trip
// included (a local store's: microseconds), so that a call that can be
// granted at once is granted without waiting for the loop's goroutine to
// be scheduled (under load, milliseconds). Passes running at once cannot
// grant out of order: each call is in one pass only (ticket.asking), and
// calls led by a budget a pass is asking for wait for its answer
// (askBlocked), which wakes the loop for another pass.
func (s *scheduler) passHere() {
	s.mu.Lock()
	batch, _, _ := s.dispatch()
	s.mu.Unlock()
	if len(batch) > 0 {
		s.ask(batch)
	} else {
		s.wake() // the loop times what waits
	}
}

// dispatchEvery is the least time between two passes over the waiting
// calls: the calls that arrive within it after a pass go to the store
// together in the next one, every call through a pass (none asks on its
// own goroutine). Under a binding limit calls wait for tokens and share
// passes anyway; without one this spacing is what makes them share: at
// 200 µs, with a call that found nobody waiting asking on its own
// goroutine (two thirds of the round trips), a thousand replies at once
// made 0.28–0.47 budget round trips per platform call, at 5 ms 0.1–0.2
// (the load test, N=200 and 1,000). A call that comes longer than that
// after the last pass is asked for at once (loop): passes used to start
// dispatchEvery after the wake-up, delaying every call by up to as much,
// for about as many round trips (interleaved load tests without a limit,
// two each: 0.078 / 0.076 per call against 0.084 / 0.072 at N=1,000
// behind TLS, 0.105 / 0.112 against 0.100 / 0.082 at N=200). A local
// store (scheduler.local) has no round trip to share: its passes are not
// spaced.
const dispatchEvery = 5 * time.Millisecond

// dispatch gathers the waiting calls worth asking for now, in priority
// order, into one round trip (the batch, for ask; marked as asked for),
// and returns how long until it should run again and whether the
// scheduler is idle. s.mu is held.
func (s *scheduler) dispatch() ([]*ticket, time.Duration, bool) {
	now := s.now()
	next := time.Hour
	soon := func(at time.Time) {
		if d := at.Sub(now); d < next {
			next = d
		}
	}
	full := s.resweep
	s.resweep = false
	var batch []*ticket
	perLead := map[*pool]int{}
	busy := false
	for c := range s.queues {
		q := s.queues[c][:0]
		for _, t := range s.queues[c] {
			if t.done {
				continue
			}
			q = append(q, t)
			if t.asking {
				continue // its answer wakes the loop
			}
			if !full && now.Before(t.recheck) {
				// Nothing t waits for changed: a pass over a thousand
				// waiting calls costs little.
				if t.recheck != never {
					soon(t.recheck)
				}
				continue
			}
			if at := s.blocked(t, now); !at.IsZero() {
				t.recheck = at
				if at != never {
					soon(at)
				}
				continue
			}
			lead := t.pools[t.lead]
			if perLead[lead] >= perPass(lead) {
				t.recheck = never // the answer to this pass resweeps
				continue
			}
			perLead[lead]++
			t.within = horizon
			if Class(c) == ClassTyping && (busy || lead.frontier.After(now)) {
				// Lowest priority: while anything else waits or the
				// budget's tokens are taken ahead, only a token due about
				// now, never one a call asking a moment later could have.
				t.within = withinContended
			}
			t.asking = true
			batch = append(batch, t)
		}
		clear(s.queues[c][len(q):])
		s.queues[c] = q
		busy = busy || len(q) > 0
	}
	for p := range perLead {
		p.asking++
		p.askedAt = now
	}
	asking := false
	for _, p := range s.pools {
		asking = asking || p.asking > 0
	}
	if now.Sub(s.swept) >= time.Second || (!busy && !asking) {
		s.sweep(now)
	}
	return batch, next, !busy && !asking
}

// blocked returns until when t is not worth asking for (never: until an
// answer comes), or zero; it picks t's lead. s.mu is held.
func (s *scheduler) blocked(t *ticket, now time.Time) time.Time {
	t.lead = leadOf(t)
	at := askBlocked(t.pools[t.lead], now)
	if at == never {
		return never
	}
	for _, p := range t.pools {
		if b := s.blockedAt(p, now, t.grace); b.After(at) {
			at = b
		}
	}
	return at
}

// askBlocked returns until when a pass may not send a round trip led by p
// (never: until an answer comes), or zero: at once when none is under
// way; otherwise only when fewer than maxAsking are, the last one for
// askOverlap already, and p's frontier is near (its bucket has tokens to
// spare as far as this process knows, so the answer under way would not
// change what the next requests are granted; a busy budget, whose tokens
// are taken ahead, waits for it to learn the frontier). s.mu is held.
func askBlocked(p *pool, now time.Time) time.Time {
	switch {
	case p.asking == 0:
		return time.Time{}
	case p.asking >= maxAsking || p.frontier.After(now.Add(passLead)):
		return never
	case now.Before(p.askedAt.Add(askOverlap)):
		return p.askedAt.Add(askOverlap)
	}
	return time.Time{}
}

// perPass returns how many requests led by p one pass sends: what its
// horizon can hold, one more to learn the frontier beyond it.
func perPass(p *pool) int {
	n := math.Ceil(p.bucket.Limit.Rate*horizon.Seconds()) + float64(p.bucket.Limit.Burst)
	return int(min(n, maxPerPass))
}

// sweep forgets the pools of no more use (nobody waits, nothing asked,
// nothing known ahead) and the frontiers passed. s.mu is held.
func (s *scheduler) sweep(now time.Time) {
	s.swept = now
	for key, p := range s.pools {
		if p.wanted <= 0 && p.asking == 0 && !p.emptyUntil.After(now) && !p.frontier.After(now) {
			delete(s.pools, key)
		}
	}
	s.wmu.Lock()
	for key, at := range s.busy {
		if !at.After(now) {
			delete(s.busy, key)
		}
	}
	s.wmu.Unlock()
}
