package render

import (
	"context"
	"sync"
	"time"
)

// The flusher of one upstream attempt runs its steps (Renderer.step) on a
// goroutine that exists only while it works. Between steps it is a timer:
// the wait a step asked for (the edit interval, a budget's moment, a 429's
// back-off) or, with nothing to show, the in-flight record's beat. A delta
// arriving while it is idle starts a goroutine at once; one arriving while
// it works or waits is remembered, and stepped once it has nothing to wait
// for (as the one goroutine of before did with its dirty channel). So a
// thousand replies waiting between their updates hold a thousand timers,
// not a thousand parked goroutines and their stacks (8 KiB or more each:
// issue 14's memory per conversation).
//
// At most one goroutine steps at a time: every start goes through
// flushRun.mu, and a timer that fired late (stopped or replaced meanwhile)
// finds its generation gone and does nothing. So the flusher's fields of
// the Renderer pass from one goroutine to the next under that mutex, as
// they did within the one goroutine before.

// runState is what a flushRun is doing.
type runState uint8

const (
	runIdle  runState = iota // nothing to show; the record's beat may be armed
	runDue                   // a step is due when the timer fires
	runBusy                  // a goroutine steps
	runEnded                 // End was called; no goroutine starts again
)

// flushRun schedules the flusher of one upstream attempt (Begin to End).
type flushRun struct {
	mu    sync.Mutex
	state runState
	dirty bool        // text arrived since the flusher left idle: step again before going idle
	timer *time.Timer // the armed wake-up (a step when due, the beat when idle); nil: none
	gen   uint64      // the armed timer's generation; a fire of another is stale
	done  chan struct{}
}

// Begin starts the flusher for one upstream attempt.
func (r *Renderer) Begin() {
	r.env.Metrics.ActiveStream.Inc()
	r.env.Active.Add(1)
	r.fl.bctx, r.fl.bcancel = context.WithCancel(r.env.Work)
	r.fl.run = nil
	if r.caps.Editor == nil && r.streamer == nil {
		return // final text only
	}
	fr := &flushRun{done: make(chan struct{})}
	r.fl.run = fr
	fr.mu.Lock()
	r.settle(fr, 0) // idle: the first delta starts it
	fr.mu.Unlock()
}

// End stops the flusher and waits for it; an update in progress completes.
// It is called once per Begin.
func (r *Renderer) End() {
	r.env.Metrics.ActiveStream.Dec()
	r.env.Active.Add(-1)
	r.fl.bcancel()
	if fr := r.fl.run; fr != nil {
		fr.mu.Lock()
		if fr.state != runEnded { // a second End only waits
			busy := fr.state == runBusy
			fr.state = runEnded
			fr.disarm()
			if !busy {
				close(fr.done)
			}
		}
		fr.mu.Unlock()
		<-fr.done
	}
	r.st.streamEnd = r.env.Now()
}

// poke tells the flusher that text arrived (Add). It never blocks on the
// platform: an idle flusher gets a goroutine of its own.
func (fr *flushRun) poke(r *Renderer) {
	if fr == nil {
		return // final text only
	}
	fr.mu.Lock()
	switch fr.state {
	case runIdle:
		fr.disarm()
		fr.state = runBusy
		fr.mu.Unlock()
		go r.flush(fr, true)
		return
	case runBusy, runDue:
		// Stepped again once the flusher has nothing to wait for: after
		// an update, the next one's tokens are then reserved ahead of it
		// at once, not when the reader next wakes (which could be past
		// the moment to reserve them ahead).
		fr.dirty = true
	}
	fr.mu.Unlock()
}

// fire is the armed timer of generation gen: the due step, or the beat.
func (r *Renderer) fire(fr *flushRun, gen uint64) {
	fr.mu.Lock()
	if fr.gen != gen || (fr.state != runDue && fr.state != runIdle) {
		fr.mu.Unlock()
		return // stopped or replaced after it fired
	}
	beat := fr.state == runIdle
	fr.timer = nil
	fr.state = runBusy
	fr.mu.Unlock()
	if beat {
		// While the upstream is silent the in-flight record is still
		// refreshed every RecordEvery, so that a live reply never looks
		// orphaned.
		r.maybeRecord(r.env.Work, false)
	}
	r.flush(fr, !beat)
}

// flush is the flusher's goroutine: it steps (when step, and again while
// text arrived meanwhile) and leaves the flusher due or idle.
func (r *Renderer) flush(fr *flushRun, step bool) {
	for {
		var wait time.Duration
		if step {
			wait = r.step()
		}
		fr.mu.Lock()
		if fr.state == runEnded {
			close(fr.done)
			fr.mu.Unlock()
			return
		}
		if wait <= 0 && fr.dirty {
			fr.dirty, step = false, true
			fr.mu.Unlock()
			continue
		}
		r.settle(fr, wait)
		fr.mu.Unlock()
		return
	}
}

// settle leaves the flusher due in wait, or idle (wait 0) with the
// record's beat armed once the reply has a record; fr.mu is held.
func (r *Renderer) settle(fr *flushRun, wait time.Duration) {
	if wait > 0 {
		fr.state = runDue
		fr.arm(r, wait)
		return
	}
	fr.state = runIdle
	if r.rec.recorded {
		// Not in a tight loop when the store fails.
		fr.arm(r, max(r.rec.lastRecord.Add(r.env.RecordEvery).Sub(r.env.Now()), r.env.RecordEvery/10))
	}
}

// arm sets the flusher's one timer (replacing any); fr.mu is held.
func (fr *flushRun) arm(r *Renderer, d time.Duration) {
	fr.disarm()
	gen := fr.gen
	fr.timer = time.AfterFunc(d, func() { r.fire(fr, gen) })
}

// disarm stops the armed timer, if any; fr.mu is held. A fire already
// under way finds the generation gone.
func (fr *flushRun) disarm() {
	if fr.timer != nil {
		fr.timer.Stop()
		fr.timer = nil
	}
	fr.gen++
}
