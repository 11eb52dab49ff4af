package budget

import (
	"sync"
	"time"
)

// storeClock estimates where the store's clock stands against this
// process's clock, from the budget round trips that report the store's
// reading (store.Grant.Clock), as NTP does from its fastest samples: a
// reading taken between a round trip's sending and its answer bounds the
// offset (store minus ours) to [reading − received, reading − sent], and
// the bounds of successive round trips intersect. One fast round trip
// then pins the moment at which a slow one was decided, and with it when
// its tokens are due on this process's clock: the spend interval of
// tokens reserved ahead is no longer shortened by that round trip's
// duration (SpendInterval), so a store whose round trips spike past the
// spend grace still has intermediate updates' tokens reserved off their
// path (Pacer.CanReserveAhead).
//
// The bounds widen with time by clockDrift, the most two clocks kept by
// NTP drift apart. A reading outside the bounds (a clock stepped, another
// store behind the same address) starts them again from that round trip
// alone. A step smaller than the round trip's own width goes unseen: the
// moment is then wrong by at most that step, as the store's own buckets,
// kept on the same clock, are. It is safe for concurrent use.
type storeClock struct {
	mu     sync.Mutex
	known  bool
	lo, hi time.Duration // offset bounds, as of at
	at     time.Time     // our clock when the bounds were last set
}

// clockDrift is how fast the bounds widen: 500 ppm, the most the Linux
// kernel slews a clock NTP disciplines.
const clockDrift = 500e-6

// observe narrows the bounds with a round trip sent at sent and answered
// at recv (this process's clock) whose store read its clock at reading,
// and returns the bounds of the moment the store decided at, on this
// process's clock: [earliest, latest], within [sent, recv]. A zero
// reading (the store reports none) tells nothing: the bounds are the
// round trip's.
func (c *storeClock) observe(sent, recv, reading time.Time) (earliest, latest time.Time) {
	if reading.IsZero() || recv.Before(sent) {
		return sent, recv
	}
	// The sample's bounds of the offset; Sub takes the wall clocks unless
	// both readings are this process's (an in-process store).
	sLo, sHi := reading.Sub(recv), reading.Sub(sent)
	c.mu.Lock()
	defer c.mu.Unlock()
	lo, hi := sLo, sHi
	if c.known {
		widen := time.Duration(float64(max(recv.Sub(c.at), 0)) * clockDrift)
		lo, hi = max(c.lo-widen, sLo), min(c.hi+widen, sHi)
		if lo > hi {
			lo, hi = sLo, sHi // contradicts what was known: start again
		}
	}
	c.known, c.lo, c.hi, c.at = true, lo, hi, recv
	// The decision moment on our clock is reading − offset.
	return recv.Add(sLo - hi), recv.Add(sLo - lo)
}

// width returns how closely the offset is known now (hi − lo, widened
// since it was set), or ok false when no round trip reported a reading.
func (c *storeClock) width(now time.Time) (w time.Duration, ok bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.known {
		return 0, false
	}
	widen := time.Duration(float64(max(now.Sub(c.at), 0)) * clockDrift)
	return c.hi - c.lo + 2*widen, true
}
