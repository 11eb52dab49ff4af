package bridge

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"time"

	"github.com/secondme-bridge/secondme-bridge/bridge/internal/lease"
	"github.com/secondme-bridge/secondme-bridge/bridge/linking"
	"github.com/secondme-bridge/secondme-bridge/bridge/render"
	"github.com/secondme-bridge/secondme-bridge/bridge/text"
	"github.com/secondme-bridge/secondme-bridge/platforms"
	"github.com/secondme-bridge/secondme-bridge/secondme"
	"github.com/secondme-bridge/secondme-bridge/store"
)

// runChat answers one message: it takes the conversation's lease (which
// also reads the session and the user's link), shows the typing indicator,
// streams the avatar's reply, leaves it in a final state whatever happens,
// and ends the turn, saving the session.
func (b *Bridge) runChat(ctx context.Context, c *lease.Conv, it *workItem) {
	log := b.log.With("platform", it.key.Platform, "conversation", c.Key())
	var r *render.Renderer
	// While another replica answers this conversation, the user sees the
	// typing indicator already.
	start, err := c.Begin(ctx, func() { r = b.newRenderer(it) })
	if err != nil {
		if r != nil {
			r.StopTyping()
		}
		if ctx.Err() != nil {
			// Shutdown while waiting for the lease: a message in the inbox
			// is answered by the next process; another one is told.
			log.Info("stopped waiting for the conversation lease", "kept_for_next_process", it.durable)
			if !it.durable {
				b.tellRestart(it)
			}
			return
		}
		log.Error("take conversation lease", "error", err)
		if r == nil {
			r = b.newRenderer(it)
		}
		r.Fail(text.NewUserError(text.KindStore, text.MsgInternal, err))
		b.removeEntry(it)
		return
	}
	link, err := b.userLink(ctx, it.key.UserKey(), start)
	if err != nil {
		if r != nil {
			r.StopTyping()
		}
		b.endTurn(ctx, c, nil, it.entryID, log)
		b.tellTokenError(ctx, it, err, log)
		return
	}
	if b.openThread(ctx, it, log) && r != nil {
		r.StopTyping() // shown in the channel; the reply goes to the thread
		r = nil
	}
	if r == nil {
		r = b.newRenderer(it)
	}
	r.SetAccount(link.SecondMeUserID)
	as, _ := b.personaFor(link)
	r.SetPersona(as)
	r.WriteAhead(ctx)
	session := ""
	if start.HasConversation && sessionOf(start.Conversation, link) {
		session = start.Conversation.SessionID
	}
	t := &turn{b: b, c: c, it: it, r: r, log: log, link: link, session: session}
	r.SetSession(session)
	t.stopID = stopIDFor(r.ID(), it.key.UserKey())
	if t.stopID != "" {
		r.SetStop(&platforms.StopControl{ReplyID: t.stopID, Label: text.T(it.lang, text.MsgStopButton)})
	}
	agentDone := b.agentBegin(it, log)
	t.converse(ctx)
	b.agentEnd(ctx, it, agentDone, log)
	// The session is saved at the end of the turn; an existing record is
	// kept (its inactivity TTL restarts) even without a session, so that
	// thread follow-ups are still answered.
	var rec *store.Conversation
	if t.session != "" || start.HasConversation {
		rec = &store.Conversation{Key: it.key, SessionID: t.session, LastActive: b.now(), Account: link.SecondMeUserID}
	}
	replyID := ""
	if !r.Failed() {
		replyID = r.ID() // a reply whose final state failed is left to the sweep
	}
	b.endTurn(ctx, c, rec, replyID, log)
}

// newRenderer returns the renderer of its reply (which starts the typing
// indicator).
func (b *Bridge) newRenderer(it *workItem) *render.Renderer {
	return render.New(b.renderEnv(), render.Request{
		Platform: it.p,
		Caps:     b.capsOf(it.p),
		To:       it.target,
		Lang:     it.lang,
		Key:      it.key,
		Log:      b.log.With("platform", it.key.Platform, "conversation", keyString(it.key)),
		Received: it.received,
		Locale:   it.ev.User.Locale,
		ReplyID:  it.entryID,
		Interval: b.tunables().EditInterval,
	})
}

// leaseDeps returns what a conversation's lease needs.
func (b *Bridge) leaseDeps() *lease.Deps {
	return &lease.Deps{
		Store: b.st, Owner: b.owner, Log: b.log, Work: b.work, SessionTTL: b.cfg.SessionTTL,
		TTL: b.tim.leaseTTL, Poll: b.tim.leasePoll, WaitMax: b.tim.leaseWaitMax,
	}
}

// renderEnv returns what the renderers of this bridge share.
func (b *Bridge) renderEnv() *render.Env {
	return &render.Env{
		Work:     b.work,
		Now:      b.now,
		Pacer:    b.out.Pacer,
		Metrics:  b.met,
		Observer: b.obs,
		PutRecord: func(ctx context.Context, rec store.InflightReply) error {
			return b.st.Replies().PutReply(ctx, rec)
		},
		Notice:          b.out.Reply,
		Owner:           b.owner,
		Active:          &b.active,
		RecordEvery:     b.tim.recordEvery,
		NativeFlushSize: b.tim.nativeFlushSize,
		FinalTimeout:    b.cfg.FinalTimeout,
	}
}

// sessionOf reports whether the stored conversation's session may be used
// with link: it was issued to the same SecondMe account (or its account is
// unknown, from an older version). A relink to another account drops the
// user's conversations; this also covers a turn of the old account that
// finished after the relink.
func sessionOf(c store.Conversation, link store.Link) bool {
	return c.Account == "" || c.Account == link.SecondMeUserID
}

// userLink returns the user's link read by Turns.Begin, refreshed if its
// token is close to expiry. Errors are the Linker's (linking.ErrNotLinked,
// linking.ErrLinkBroken, …).
func (b *Bridge) userLink(ctx context.Context, user store.UserKey, start store.TurnStart) (store.Link, error) {
	if !start.HasLink {
		return store.Link{}, linking.ErrNotLinked
	}
	link := start.Link
	if link.Key == (store.UserKey{}) {
		link.Key = user
	}
	return b.cfg.Linker.Fresh(ctx, link)
}

// endTurn finishes the turn (conv.finish) and logs a failure.
func (b *Bridge) endTurn(ctx context.Context, c *lease.Conv, rec *store.Conversation, replyID string, log *slog.Logger) {
	ctx, cancel := lease.FinishCtx(ctx)
	defer cancel()
	switch err := c.Finish(ctx, rec, replyID); {
	case err == nil:
	case errors.Is(err, store.ErrStaleFence):
		log.Warn("conversation lease lost: another replica took over; session not saved", "error", err)
	default:
		log.Warn("save conversation session", "error", err)
	}
}

// turn is one question to the avatar and its reply, with its retries.
type turn struct {
	b       *Bridge
	c       *lease.Conv
	it      *workItem
	r       *render.Renderer
	log     *slog.Logger
	link    store.Link
	session string
	stopID  string // the reply's Stop button id ("" when it has none)

	newSession, refreshed, retried bool
}

// converse streams the reply, retrying before any text: once with a new
// session when the stored one is gone, once with a refreshed token when the
// token was refused, once for a transient failure.
//
// A Stop by the person who asked (stop.go) cancels the stream with
// errStopped: the reply ends with the text so far and the stopped notice,
// and the session is kept.
func (t *turn) converse(ctx context.Context) {
	b := t.b
	tctx, cancel := context.WithTimeout(ctx, b.cfg.StreamTimeout)
	defer cancel()
	sctx, stop := context.WithCancelCause(tctx)
	defer stop(nil)
	defer b.stops.add(&runningReply{stopID: t.stopID, convID: convStopID(t.it.key), cancel: stop})()
	stopped := func() bool { return errors.Is(context.Cause(sctx), errStopped) }
	for {
		req := secondme.ChatRequest{
			Message:   t.it.text,
			SessionID: t.session,
			AppID:     b.cfg.AppID,
			Model:     b.cfg.Model,
			MaxTokens: b.cfg.MaxTokens,
		}
		if t.session == "" {
			req.SystemPrompt = b.tunables().SystemPrompt
		}
		stream, err := b.cfg.SecondMe.ChatStream(sctx, t.link.Token.AccessToken, req)
		started := err == nil
		if started {
			t.r.Begin()
			err = t.consume(stream)
			t.r.End()
			if err == nil {
				t.r.Finish("")
				return
			}
			if stopped() {
				break
			}
			if t.r.HasText() {
				t.interrupted(ctx, sctx, err)
				return
			}
			t.r.Reset()
		}
		if stopped() {
			break
		}
		if !t.again(ctx, sctx, err, started) {
			return
		}
	}
	// Stopped: what was shown stays (or the notice alone), with the notice.
	t.log.Info("reply stopped by the person who asked")
	t.r.Finish(text.MsgStopped)
}

// consume reads the stream into the renderer and returns its error (nil
// when it completed).
func (t *turn) consume(stream *secondme.Stream) error {
	defer stream.Close()
	for stream.Next() {
		ev := stream.Current()
		switch ev.Type {
		case secondme.EventSession:
			if ev.SessionID != "" {
				t.session = ev.SessionID
				t.r.SetSession(ev.SessionID)
			}
		case secondme.EventDelta:
			t.r.Add(ev.Text)
		}
	}
	return stream.Err()
}

// interrupted finishes a reply whose stream failed after text was shown:
// the text stays, with a notice.
func (t *turn) interrupted(ctx, sctx context.Context, err error) {
	notice := text.MsgInterrupted
	switch {
	case ctx.Err() != nil:
		notice = text.MsgRestarted
	case sctx.Err() != nil:
		t.log.Warn("reply hit the stream timeout", "timeout", t.b.cfg.StreamTimeout)
	default:
		t.log.Warn("reply interrupted upstream", "error", err)
	}
	t.b.met.Errors.WithLabelValues(text.KindInterrupted).Inc()
	t.r.Finish(notice)
}

// again decides, after a failure before any text, whether to try once more
// (and prepares the retry), or tells the user and reports false. started
// tells that the stream had started (SecondMe took the message): then only
// the session and token refusals, which SecondMe answers before taking
// anything, are retried.
func (t *turn) again(ctx, sctx context.Context, err error, started bool) bool {
	b := t.b
	switch {
	case ctx.Err() != nil:
		t.r.Fail(text.NewUserError(text.KindInterrupted, text.MsgRestarted, err))
		return false
	case secondme.IsSessionInvalid(err) && !t.newSession:
		t.newSession = true
		t.log.Info("stored session is gone; starting a new one", "error", err)
		t.session = ""
		return true
	case secondme.IsTokenInvalid(err) && !t.refreshed:
		t.refreshed = true
		link, rerr := b.cfg.Linker.RefreshAfterFailure(ctx, t.it.key.UserKey(), t.link.Token.AccessToken)
		if rerr != nil {
			t.report(rerr)
			return false
		}
		t.link = link
		as, _ := b.personaFor(link) // the refresh also refreshed the profile
		t.r.SetPersona(as)
		return true
	}
	if !started && notTaken(err) && !t.retried && sctx.Err() == nil {
		t.retried = true
		t.log.Info("retrying the avatar after a transient failure", "error", err)
		select {
		case <-time.After(b.tim.retryDelay):
			return true
		case <-ctx.Done():
			t.r.Fail(text.NewUserError(text.KindInterrupted, text.MsgRestarted, ctx.Err()))
			return false
		}
	}
	t.report(err)
	return false
}

// report logs err at the right level and tells the user.
func (t *turn) report(err error) {
	ue := text.Classify(err)
	switch ue.Kind {
	case text.KindOperator, text.KindInternal:
		t.log.Error("avatar request failed", "kind", ue.Kind, "error", err)
	case text.KindMissingScope:
		t.log.Warn("user's link lacks a scope", "error", err)
	default:
		t.log.Warn("avatar request failed", "kind", ue.Kind, "error", err)
	}
	t.r.Fail(ue)
}

// notTaken reports whether a failure to start a chat stream proves that
// SecondMe did not take the message, so that sending it again cannot make
// the avatar answer it twice: the request never got through (connection
// refused, or broken before it was written), or the server turned it away
// with 503 before starting. A 429 is not retried here (the user is told
// how long to wait), nor anything the server may have acted on (other
// 5xx, a timeout, a stream that broke).
func notTaken(err error) bool {
	if secondme.NotSent(err) {
		return true
	}
	var ae *secondme.APIError
	return errors.As(err, &ae) && ae.HTTPStatus == http.StatusServiceUnavailable
}
