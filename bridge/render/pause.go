package render

import "time"

// maxReadPause caps ReadPause.
const maxReadPause = 100 * time.Millisecond

// ReadPause is how long the reply's reader may leave the upstream stream
// unread after a delta, when nothing already read waits in its buffer:
// deltas that arrive meanwhile wait in the connection's buffers and are
// read in one go, so that a stream costs one wake-up per pause instead of
// one per delta (a delta comes every few tens of milliseconds, an update at
// most once per edit interval).
//
// It is zero until visible text has arrived, so that the first text goes
// out as soon as it can; then a tenth of the edit interval, at most
// maxReadPause. An update therefore shows text at most that much older
// than it could, and the end of the stream is seen at most that much
// later; the final shows the whole reply whatever the pauses.
//
// Each reply's pauses run from its own reads, not on a clock shared by
// every reply: readers woken together on shared ticks measured no cheaper
// in the load test, and a thousand of them made runnable at once delayed
// everything else in the process (the engine benchmark's scheduling
// latency p99 went from 5 to 21 ms, its code path p99 from 2.7 to 4 ms).
func (r *Renderer) ReadPause() time.Duration {
	if !r.buf.visible.Load() {
		return 0
	}
	return min(r.interval/10, maxReadPause)
}
