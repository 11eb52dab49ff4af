package render

import (
	"math/rand/v2"
	"time"
)

// Stagger returns how much later than the edit interval a reply's first
// update after its first text comes: a random share of an eighth of the
// interval. Replies asked at once (a burst of mentions, a busy
// channel's first minute) show their first texts within milliseconds of
// each other and, without it, would update in lockstep one interval apart
// for the rest of their streams: a thousand flushers due in the same
// millisecond queue for two cores, and the last runs tens of milliseconds
// late (intermediate update lag p99 27 ms over the sleep floor in the
// engine benchmark at 1,000 replies; 0.3–3.3 ms with it). Later updates
// keep the interval from the one before, so the spread lasts. Only that
// one update is later, by at most an eighth of the interval (a stream
// ending within it has one intermediate update fewer); a native stream's
// text crossing its threshold is appended at once as before
// (surface.due).
func Stagger(interval time.Duration) time.Duration {
	if q := interval / 8; q > 0 {
		return rand.N(q)
	}
	return 0
}
