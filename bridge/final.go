package bridge

import (
	"context"
	"strings"
	"time"

	"github.com/secondme-bridge/secondme-bridge/store"
)

// finish brings a reply that has text to its final state: the whole text,
// split over as many messages as needed, plus the notice (msgInterrupted,
// msgRestarted) when the upstream stream did not complete. It must be
// called after end.
func (r *renderer) finish(notice msgKey) {
	ctx, cancel := ctxOr(r.b.work, r.b.cfg.FinalTimeout)
	defer cancel()
	r.typing.stop()
	if wait := r.backoffUntil.Sub(r.b.now()); wait > 0 {
		// The platform asked for a pause (429): the final waits it out too.
		select {
		case <-time.After(wait):
		case <-ctx.Done():
		}
	}
	text, _, _, _ := r.snapshot()
	if len(r.refs) == 0 && strings.TrimSpace(text) == "" {
		// Nothing visible came: the user is told so (or why), whatever
		// the mode, instead of getting nothing or a blank message.
		key := msgEmptyReply
		if notice != "" {
			key = notice
		}
		r.finishEdit(ctx, tr(r.l, key))
		r.done()
		return
	}
	suffix := ""
	if notice != "" {
		suffix = "\n\n" + tr(r.l, notice)
	}
	if r.native {
		r.finishNative(ctx, text, suffix)
	} else {
		r.finishEdit(ctx, r.prefix+text[r.msgStart:]+suffix)
	}
	r.done()
}

// fail tells the user why there is no reply (nothing was shown).
func (r *renderer) fail(ue *userError) {
	r.typing.stop()
	r.b.met.countFailure(ue.kind)
	if len(r.refs) > 0 {
		r.finish(msgInterrupted)
		return
	}
	ctx, cancel := ctxOr(r.b.work, 30*time.Second)
	defer cancel()
	r.b.reply(ctx, r.p, r.to, ue.text(r.l))
}

// done ends the reply's bookkeeping: metrics and the Observer are told.
// The in-flight record is deleted by the end of the turn (conv.finish),
// unless the final state could not be delivered: then the recovery sweep
// finishes the reply later.
func (r *renderer) done() {
	now := r.b.now()
	r.b.met.duration.Observe(now.Sub(r.received).Seconds())
	r.b.met.updates.Observe(float64(r.updates))
	if r.b.obs != nil {
		r.mu.Lock()
		first := r.firstDeltaAt
		r.mu.Unlock()
		end := r.streamEnd
		if end.IsZero() {
			end = now
		}
		r.b.obs.ReplyDone(ReplyStats{
			Updates:   r.updates,
			Skipped:   r.skipped,
			Streaming: end.Sub(first),
			Native:    len(r.refs) > 0 && r.streamer != nil,
			Parts:     len(r.refs),
		})
	}
}

// maybeRecord writes the reply's in-flight record (message refs, the text
// the last message shows, the session) at once when forced or when the
// session became known since the last write, else at most every
// recordEvery (a heartbeat for the stale-after rule), so that a crash
// leaves enough behind to finalize the reply and to keep its session.
func (r *renderer) maybeRecord(ctx context.Context, force bool) {
	if len(r.refs) == 0 && !r.recorded {
		return
	}
	r.mu.Lock()
	session := r.session
	r.mu.Unlock()
	if !force && session == r.recordedSession && r.b.now().Sub(r.lastRecord) < r.b.recordEvery {
		return
	}
	text, shownLen, _, _ := r.snapshot()
	r.writeRecord(ctx, min(max(shownLen, r.recordedLen), len(text)))
}

// recordAhead makes the record cover the text up to n bytes before an
// update shows it, so that the record never lags what users see (a crash
// then finalizes the message with at least that text). It runs with the
// update's budget reservation (step), which does not touch the renderer.
// A failed write is logged and the update goes ahead: only a failing store
// weakens this.
func (r *renderer) recordAhead(ctx context.Context, n int) {
	if n > r.recordedLen {
		r.writeRecord(ctx, n)
	}
}

// writeRecord writes the in-flight record with the current message's text
// up to end bytes of the reply, and reports success. The first write is
// the write-ahead one (writeAhead), before any message exists.
func (r *renderer) writeRecord(ctx context.Context, end int) bool {
	now := r.b.now()
	r.mu.Lock()
	session := r.session
	r.mu.Unlock()
	text, _, _, _ := r.snapshot()
	end = min(max(end, r.msgStart), len(text))
	refs := make([]store.ReplyRef, len(r.refs))
	for i, ref := range r.refs {
		refs[i] = store.ReplyRef{Channel: string(ref.Channel), ID: string(ref.ID), Extra: ref.Extra}
	}
	rec := store.InflightReply{
		ID:           r.replyID,
		Owner:        r.b.owner,
		Conversation: r.key,
		Refs:         refs,
		Text:         r.prefix + text[r.msgStart:end],
		SessionID:    session,
		Account:      r.account,
		Locale:       r.locale,
		Native:       r.native,
		Live:         true,
		StartedAt:    r.received,
		UpdatedAt:    now,
	}
	if err := r.b.st.Replies().PutReply(ctx, rec); err != nil {
		r.log.Warn("record in-flight reply", "error", err)
		r.recordFailed = true
		return false
	}
	r.recordFailed = false
	r.recorded, r.lastRecord, r.recordedSession = true, now, session
	r.recordedLen = end
	return true
}

// writeAhead writes the reply's record before anything is asked or shown,
// so that no crash leaves a reply the recovery sweep cannot find: with no
// message yet, the sweep posts the restart notice in the conversation.
func (r *renderer) writeAhead(ctx context.Context) {
	r.writeRecord(ctx, 0)
}

// newReplyID returns a random reply id.
func newReplyID() string {
	id, err := randomHex(12)
	if err != nil {
		return time.Now().Format("20060102150405.000000000")
	}
	return id
}
