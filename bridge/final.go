package bridge

import (
	"context"
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
// recordEvery, so that a crash leaves enough behind to finalize the reply
// and to keep its session.
func (r *renderer) maybeRecord(ctx context.Context, force bool) {
	if len(r.refs) == 0 {
		return
	}
	now := r.b.now()
	r.mu.Lock()
	session := r.session
	r.mu.Unlock()
	if !force && session == r.recordedSession && now.Sub(r.lastRecord) < r.b.recordEvery {
		return
	}
	flushed := r.shown
	if !r.native {
		text, shownLen, _, _ := r.snapshot()
		flushed = r.prefix + text[r.msgStart:max(shownLen, r.msgStart)]
	}
	refs := make([]store.ReplyRef, len(r.refs))
	for i, ref := range r.refs {
		refs[i] = store.ReplyRef{Channel: ref.Channel, ID: ref.ID, Extra: ref.Extra}
	}
	rec := store.InflightReply{
		ID:           r.replyID,
		Owner:        r.b.owner,
		Conversation: r.key,
		Refs:         refs,
		Text:         flushed,
		SessionID:    session,
		Locale:       r.locale,
		StartedAt:    r.received,
		UpdatedAt:    now,
	}
	if err := r.b.st.Replies().PutReply(ctx, rec); err != nil {
		r.log.Warn("record in-flight reply", "error", err)
		return
	}
	r.recorded, r.lastRecord, r.recordedSession = true, now, session
}

// newReplyID returns a random reply id.
func newReplyID() string {
	id, err := randomHex(12)
	if err != nil {
		return time.Now().Format("20060102150405.000000000")
	}
	return id
}
