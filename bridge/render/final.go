package render

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"strings"
	"time"

	"github.com/secondme-bridge/secondme-bridge/bridge/text"
	"github.com/secondme-bridge/secondme-bridge/store"
)

// Finish brings a reply that has body to its final state: the whole body,
// split over as many messages as needed, plus the notice (text.MsgInterrupted,
// text.MsgRestarted) when the upstream stream did not complete. It must be
// called after end.
func (r *Renderer) Finish(notice text.Key) {
	ctx, cancel := CtxOr(r.env.Work, r.env.FinalTimeout)
	defer cancel()
	// The typing indicator goes on while a reply that showed nothing yet
	// waits for its budget (finalSend stops it).
	defer r.typing.Stop()
	if wait := r.fl.backoffUntil.Sub(r.env.Now()); wait > 0 {
		// The platform asked for a pause (429): the final waits it out too.
		select {
		case <-time.After(wait):
		case <-ctx.Done():
		}
	}
	body, _, _, _ := r.snapshot()
	if len(r.msg.refs) == 0 && strings.TrimSpace(body) == "" {
		// Nothing visible came: the user is told so (or why), whatever
		// the mode, instead of getting nothing or a blank message.
		key := text.MsgEmptyReply
		if notice != "" {
			key = notice
		}
		r.finishEdit(ctx, text.T(r.l, key))
		r.done()
		return
	}
	suffix := ""
	if notice != "" {
		suffix = "\n\n" + text.T(r.l, notice)
	}
	r.surf.finish(ctx, body, suffix)
	r.done()
}

// Fail tells the user why there is no reply (nothing was shown).
func (r *Renderer) Fail(ue *text.UserError) {
	r.typing.Stop()
	r.env.Metrics.CountFailure(ue.Kind)
	if len(r.msg.refs) > 0 {
		r.Finish(text.MsgInterrupted)
		return
	}
	ctx, cancel := CtxOr(r.env.Work, 30*time.Second)
	defer cancel()
	r.env.Notice(ctx, r.p, r.to, ue.Text(r.l))
}

// done ends the reply's bookkeeping: metrics and the Observer are told.
// The in-flight record is deleted by the end of the turn (conv.finish),
// unless the final state could not be delivered: then the recovery sweep
// finishes the reply later.
func (r *Renderer) done() {
	now := r.env.Now()
	r.env.Metrics.Duration.Observe(now.Sub(r.received).Seconds())
	r.env.Metrics.Updates.Observe(float64(r.st.updates))
	if r.env.Observer != nil {
		r.buf.mu.Lock()
		first := r.buf.firstDeltaAt
		r.buf.mu.Unlock()
		end := r.st.streamEnd
		if end.IsZero() {
			end = now
		}
		r.env.Observer.ReplyDone(ReplyStats{
			Updates:   r.st.updates,
			Skipped:   r.st.skipped,
			Streaming: end.Sub(first),
			Native:    len(r.msg.refs) > 0 && r.streamer != nil,
			Parts:     len(r.msg.refs),
		})
	}
}

// maybeRecord writes the reply's in-flight record (message refs, the text
// the last message shows, the session) at once when forced or when the
// session became known since the last write, else at most every
// recordEvery (a heartbeat for the stale-after rule), so that a crash
// leaves enough behind to finalize the reply and to keep its session.
func (r *Renderer) maybeRecord(ctx context.Context, force bool) {
	if len(r.msg.refs) == 0 && !r.rec.recorded {
		return
	}
	r.buf.mu.Lock()
	session := r.buf.session
	r.buf.mu.Unlock()
	if !force && session == r.rec.recordedSession && r.env.Now().Sub(r.rec.lastRecord) < r.env.RecordEvery {
		return
	}
	text, shownLen, _, _ := r.snapshot()
	r.writeRecord(ctx, min(max(shownLen, r.rec.recordedLen), len(text)))
}

// recordAhead makes the record cover the text up to n bytes before an
// update shows it, so that the record never lags what users see (a crash
// then finalizes the message with at least that text). It runs with the
// update's budget reservation (step), which does not touch the renderer.
// A failed write is logged and the update goes ahead: only a failing store
// weakens this.
func (r *Renderer) recordAhead(ctx context.Context, n int) {
	if n > r.rec.recordedLen {
		r.writeRecord(ctx, n)
	}
}

// writeRecord writes the in-flight record with the current message's text
// up to end bytes of the reply, and reports success. The first write is
// the write-ahead one (writeAhead), before any message exists.
func (r *Renderer) writeRecord(ctx context.Context, end int) bool {
	return r.putRecord(ctx, end, nil)
}

// recordFinal writes the in-flight record with the final messages still to
// show (store.InflightReply.FinalParts: the current message is to show
// parts[0], the rest follow), before they are delivered, so that a crash
// from here to the end of the turn leaves recovery the whole reply. A
// failed write is logged and the delivery goes ahead, as for recordAhead.
func (r *Renderer) recordFinal(ctx context.Context, parts []string) {
	text, shownLen, _, _ := r.snapshot()
	if r.putRecord(ctx, min(max(shownLen, r.rec.recordedLen), len(text)), parts) {
		r.log.Debug("final recorded", "parts", len(parts), "messages", len(r.msg.refs))
	}
}

// putRecord writes the in-flight record: the current message's text up to
// end bytes of the reply, and final, when set, the final parts still to
// show. It reports success.
func (r *Renderer) putRecord(ctx context.Context, end int, final []string) bool {
	now := r.env.Now()
	r.buf.mu.Lock()
	session := r.buf.session
	r.buf.mu.Unlock()
	text, _, _, _ := r.snapshot()
	end = min(max(end, r.msg.start), len(text))
	refs := make([]store.ReplyRef, len(r.msg.refs))
	for i, ref := range r.msg.refs {
		refs[i] = store.ReplyRef{Channel: string(ref.Channel), ID: string(ref.ID), Extra: ref.Extra}
	}
	rec := &store.InflightReply{
		ID:           r.rec.replyID,
		Owner:        r.env.Owner,
		Conversation: r.key,
		ReplyTo:      string(r.to.ReplyTo),
		Refs:         refs,
		Text:         r.msg.prefix + text[r.msg.start:end],
		SessionID:    session,
		Account:      r.rec.account,
		Locale:       r.rec.locale,
		Native:       r.surf.native(),
		FinalParts:   final,
		Live:         true,
		StartedAt:    r.received,
		UpdatedAt:    now,
	}
	if r.look.as != nil {
		rec.AsName, rec.AsAvatarURL = r.look.as.Name, r.look.as.AvatarURL
	}
	if err := r.env.PutRecord(ctx, rec); err != nil {
		r.log.Warn("record in-flight reply", "error", err)
		r.rec.recordFailed = true
		return false
	}
	r.rec.recordFailed = false
	r.rec.recorded, r.rec.lastRecord, r.rec.recordedSession = true, now, session
	r.rec.recordedLen = end
	return true
}

// WriteAhead writes the reply's record before anything is asked or shown,
// so that no crash leaves a reply the recovery sweep cannot find: with no
// message yet, the sweep posts the restart notice in the conversation.
func (r *Renderer) WriteAhead(ctx context.Context) {
	r.writeRecord(ctx, 0)
}

// newReplyID returns a random reply id (24 hex digits).
func newReplyID() string {
	var buf [12]byte
	if _, err := rand.Read(buf[:]); err != nil {
		return time.Now().Format("20060102150405.000000000")
	}
	return hex.EncodeToString(buf[:])
}
