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
// Pauses end on the ticks of a clock shared by every reply (multiples of
// the pause since the Unix epoch), so that the readers of many streams wake
// together: a burst of runnable goroutines costs the scheduler far less
// than the same wake-ups spread evenly, each of which puts an idle core to
// sleep and wakes it again.
func (r *Renderer) ReadPause() time.Duration {
	if !r.buf.visible.Load() {
		return 0
	}
	p := min(r.interval/10, maxReadPause)
	if p <= 0 {
		return 0
	}
	return p - time.Duration(time.Now().UnixNano()%int64(p))
}
