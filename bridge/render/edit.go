package render

import (
	"context"
	"errors"
	"time"

	"github.com/secondme-bridge/secondme-bridge/bridge/budget"
	"github.com/secondme-bridge/secondme-bridge/bridge/format"
	"github.com/secondme-bridge/secondme-bridge/bridge/internal/metrics"
	"github.com/secondme-bridge/secondme-bridge/platforms"
)

// first shows the reply's first text: a native stream when possible,
// otherwise a new message. It reports whether the text is visible; on
// failure step tries again later (after the 429 back-off if any).
func (r *Renderer) first(ctx context.Context, text string, readyAt time.Time) bool {
	// The typing indicator goes on while the first text waits for its
	// budget; it stops once the text has its tokens, just before it is sent.
	if r.streamer != nil {
		if ok, fallback := r.startNative(ctx, text, readyAt); !fallback {
			return ok
		}
	}
	rendered := r.interim(text[r.msg.start:])
	// The first message is not optional (it will carry the final text),
	// so it waits for the budgets like a final, until the stream ends (then
	// the final takes over).
	if err := r.env.Pacer.Take(r.fl.bctx, budget.ClassFirst, budget.SendBudgets(r.caps.Budgeter, r.to)); err != nil {
		return false
	}
	r.typing.Stop()
	start := r.env.Now()
	r.observeUpdate(readyAt)
	ref, err := r.p.Send(ctx, r.to, r.streaming(rendered))
	if err != nil {
		r.updateFailed(err, "send first text")
		return false
	}
	r.msg.refs = append(r.msg.refs, ref)
	r.msg.open = true
	r.msg.shown = rendered
	r.msg.stopShown = r.look.stop != nil
	r.fl.lastUpdate = start
	r.st.updates++
	r.shownUpTo(len(text))
	r.visible(start)
	r.maybeRecord(ctx, true)
	return true
}

// visible records the moment the first text became visible, through the
// platform call issued at callStart.
func (r *Renderer) visible(callStart time.Time) {
	now := r.env.Now()
	r.st.visibleAt = now
	r.env.Metrics.FirstText.Observe(now.Sub(r.received).Seconds())
	if r.env.Observer != nil {
		r.buf.mu.Lock()
		first := r.buf.firstDeltaAt
		r.buf.mu.Unlock()
		r.env.Observer.FirstText(now.Sub(first), now.Sub(callStart))
	}
}

// interim renders text for an intermediate update: mentions inert (a tag
// still being written at the end too), half-written Markdown healed, cut to
// the platform's limit with an ellipsis.
func (r *Renderer) interim(text string) string {
	return format.Preview(format.NeutralizeTrailingMention(format.NeutralizeMentions(text)), r.maxChars)
}

// editInterim edits the current message to the text up to upTo bytes (the
// latest the record covers), its budget tokens in hand, ready being when the update was due. It returns how long
// to wait before trying again when the update failed.
func (r *Renderer) editInterim(ctx context.Context, ready time.Time, upTo int) time.Duration {
	ref := r.msg.refs[len(r.msg.refs)-1]
	text, _, pendingSince, _ := r.snapshot()
	text = text[:upTo]
	rendered := r.interim(text[r.msg.start:])
	start := r.env.Now()
	r.observeUpdate(budget.Later(pendingSince, ready))
	nref, err := r.caps.Editor.Edit(ctx, ref, r.streaming(rendered))
	r.fl.lastUpdate = start
	if err != nil {
		return r.interimFailed(err, "edit reply")
	}
	r.msg.refs[len(r.msg.refs)-1] = nref
	r.msg.shown = rendered
	r.msg.stopShown = r.look.stop != nil
	r.st.updates++
	r.shownUpTo(len(text))
	return 0
}

// interimFailed counts a failed intermediate update as skipped (backing
// off as updateFailed does) and returns how long until the next try.
func (r *Renderer) interimFailed(err error, what string) time.Duration {
	if r.updateFailed(err, what) {
		r.skip(metrics.SkipRateLimit)
	} else {
		r.skip(metrics.SkipError)
	}
	return max(r.fl.backoffUntil.Sub(r.env.Now()), 0)
}

// updateFailed handles a failed intermediate update: a 429 backs the
// message off until its RetryAfter (at least one edit interval). It
// reports whether err was a 429.
func (r *Renderer) updateFailed(err error, what string) bool {
	now := r.env.Now()
	var rl *platforms.RateLimitError
	if errors.As(err, &rl) {
		r.env.Metrics.RateLimited.WithLabelValues(r.p.Name()).Inc()
		r.fl.backoffUntil = now.Add(max(rl.RetryAfter, r.interval))
		return true
	}
	r.log.Warn(what, "error", err)
	r.fl.backoffUntil = now.Add(r.interval)
	return false
}

// finishEdit delivers the final text in edit mode: the current message is
// edited to the first part, further parts are sent as new messages. The
// parts still to show are recorded before they are delivered
// (recordFinal): first all of them, then, after each part sent but the
// last, the rest from that part on; a crash then loses nothing (at worst
// the part sent last before it shows twice). That is when recovery can
// show them as this would: the reply has a message open for edits, or no
// message yet (its record written ahead).
func (r *Renderer) finishEdit(ctx context.Context, body string) {
	// body is never blank: a reply with nothing visible gets the
	// empty-reply notice as its body (Finish).
	parts := format.Split(format.NeutralizeMentions(body), r.maxChars)
	none := len(r.msg.refs) == 0
	final := len(parts) > 0 && ((none && r.rec.recorded) || (r.msg.open && !none && r.caps.Editor != nil))
	if final && (none || len(parts) > 1 || parts[0] != r.msg.shown || r.msg.stopShown) {
		r.recordFinal(ctx, parts)
	}
	for i, rendered := range parts {
		if i == 0 && r.msg.open && len(r.msg.refs) > 0 {
			if rendered == r.msg.shown && !r.msg.stopShown {
				continue
			}
			if err := r.finalEdit(ctx, rendered); err == nil {
				continue
			}
			// The message cannot be edited any more: remove it (when
			// possible) and post the whole reply anew.
			r.dropCurrent(ctx)
		}
		if err := r.finalSend(ctx, rendered); err != nil {
			r.log.Error("deliver final reply part; giving up", "part", i+1, "parts", len(parts), "error", err)
			r.failed = true
			return
		}
		if final && i < len(parts)-1 {
			r.recordFinal(ctx, parts[i:])
		}
	}
}

// finalEdit edits the current message, through 429s and budgets.
func (r *Renderer) finalEdit(ctx context.Context, text string) error {
	ref := r.msg.refs[len(r.msg.refs)-1]
	var nref platforms.MessageRef
	err := r.env.Pacer.Deliver(ctx, r.p.Name(), budget.UpdateBudgets(r.caps.Budgeter, ref), onItsOwnStack(func(ctx context.Context) error {
		var err error
		nref, err = r.caps.Editor.Edit(ctx, ref, r.message(text))
		return err
	}))
	if err != nil {
		r.log.Warn("edit final reply", "error", err)
		return err
	}
	r.msg.refs[len(r.msg.refs)-1] = nref
	r.msg.shown = text
	r.msg.stopShown = false
	r.st.updates++
	return nil
}

// onItsOwnStack returns call made on a goroutine of its own, its caller
// waiting for it. A reply's final calls are made by its worker, under the
// engine's frames (about 3.5 KiB from the worker's loop down to the
// platform adapter); the platform client's own (discordgo and net/http,
// about 4 KiB more) would take the worker's stack past 8 KiB, and the
// runtime would double it to 16 KiB for every reply finishing at once,
// until the GC shrinks it back (see bridge.Bridge.beginChat). On a goroutine of
// its own the call has a stack of its own, freed when it returns. The cost
// is one goroutine per final call; the intermediate updates are made on
// the flusher's short-lived goroutines already.
func onItsOwnStack(call func(context.Context) error) func(context.Context) error {
	return func(ctx context.Context) error {
		done := make(chan error, 1)
		go func() { done <- call(ctx) }()
		return <-done
	}
}

// finalSend posts a new message of the reply, through 429s and budgets.
func (r *Renderer) finalSend(ctx context.Context, text string) error {
	var ref platforms.MessageRef
	var callStart time.Time
	err := r.env.Pacer.Deliver(ctx, r.p.Name(), budget.SendBudgets(r.caps.Budgeter, r.to), onItsOwnStack(func(ctx context.Context) error {
		var err error
		r.typing.Stop()
		callStart = r.env.Now()
		ref, err = r.p.Send(ctx, r.to, r.message(text))
		return err
	}))
	if err != nil {
		return err
	}
	r.st.updates++
	if r.st.visibleAt.IsZero() {
		r.visible(callStart)
	}
	r.msg.refs = append(r.msg.refs, ref)
	r.msg.open = true
	r.msg.shown = text
	r.msg.stopShown = false
	return nil
}

// dropCurrent deletes the current message if the platform can, and stops
// editing it.
func (r *Renderer) dropCurrent(ctx context.Context) {
	if d := r.caps.Deleter; d != nil {
		if err := d.Delete(ctx, r.msg.refs[len(r.msg.refs)-1]); err != nil {
			r.log.Warn("delete unfinished reply message", "error", err)
		}
	}
	r.msg.open = false
}
