package bridge

import (
	"context"
	"errors"
	"log/slog"

	"github.com/secondme-bridge/secondme-bridge/bridge/internal/keys"
	"github.com/secondme-bridge/secondme-bridge/bridge/internal/lease"
	"github.com/secondme-bridge/secondme-bridge/bridge/internal/turn"
	"github.com/secondme-bridge/secondme-bridge/bridge/linking"
	"github.com/secondme-bridge/secondme-bridge/bridge/render"
	"github.com/secondme-bridge/secondme-bridge/bridge/text"
	"github.com/secondme-bridge/secondme-bridge/platforms"
	"github.com/secondme-bridge/secondme-bridge/store"
)

// runChat answers one message: it takes the conversation's lease (which
// also reads the session and the user's link), shows the typing indicator,
// streams the avatar's reply, leaves it in a final state whatever happens,
// and ends the turn, saving the session. Its own frame stays small (the
// work before the stream has a frame of its own), so that a streaming
// worker's stack is used little enough for the GC to shrink it.
func (b *Bridge) runChat(ctx context.Context, c *lease.Conv, it *workItem) {
	t, hadConv := b.beginChat(ctx, c, it)
	if t == nil {
		return
	}
	agent := b.beginAgent(it, t.Log)
	t.Converse(ctx)
	agent.End(ctx)
	// The session is saved; an existing record is kept (its TTL restarts)
	// even without one, so that thread follow-ups are still answered.
	var rec *store.Conversation
	if t.Session != "" || hadConv {
		rec = &store.Conversation{Key: it.key, SessionID: t.Session, LastActive: b.now(), Account: t.Link.SecondMeUserID}
	}
	replyID := ""
	if !t.R.Failed() {
		replyID = t.R.ID() // a reply whose final state failed is left to the sweep
	}
	b.endTurn(ctx, c, rec, replyID, t.Log)
}

// beginChat returns the turn ready to stream (lease and link taken) and
// whether the conversation had a record; nil when it answered otherwise.
//
// Its frame stays small, and so do its callees' on the way to a store or
// platform call (the TurnStart, the link and the in-flight record go by
// pointer), so that with the clients' frames below them the worker's
// stack fits 8 KiB: one byte over and the runtime doubles it, for every
// conversation that begins at once (TestWorkerStackStaysSmall).
func (b *Bridge) beginChat(ctx context.Context, c *lease.Conv, it *workItem) (*turn.Turn, bool) {
	log := b.log.With("platform", it.key.Platform, "conversation", c.Key())
	var r *render.Renderer
	// While another replica answers this conversation, the user sees the
	// typing indicator already.
	start, err := c.Begin(ctx, func() { r = b.newRenderer(it) })
	if err != nil {
		b.leaseFailed(ctx, it, r, err, log)
		return nil, false
	}
	link, err := b.cfg.Linker.TurnLink(ctx, it.key.UserKey(), start)
	if err != nil {
		if r != nil {
			r.StopTyping()
		}
		b.endTurn(ctx, c, nil, it.entryID, log)
		b.tellTokenError(ctx, it, err, log)
		return nil, false
	}
	if b.openThread(ctx, it, log) && r != nil {
		r.StopTyping() // shown in the channel; the reply goes to the thread
		r = nil
	}
	if r == nil {
		r = b.newRenderer(it)
	}
	t := b.newTurn(it, r, link, start, log)
	r.WriteAhead(ctx)
	return t, start.HasConversation
}

// leaseFailed answers an item whose conversation lease could not be taken:
// at shutdown it is left to the next process (or its user told to send it
// again); otherwise the user is told of the failure.
func (b *Bridge) leaseFailed(ctx context.Context, it *workItem, r *render.Renderer, err error, log *slog.Logger) {
	if r != nil {
		r.StopTyping()
	}
	if ctx.Err() != nil {
		// Shutdown while waiting for the lease: a message in the inbox is
		// answered by the next process; another one is told.
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
}

// newTurn dresses r for link (account, persona, session, Stop) and returns
// the turn; it calls no store or platform (noinline: its frame is not
// beginChat's).
//
//go:noinline
func (b *Bridge) newTurn(it *workItem, r *render.Renderer, link *store.Link, start *store.TurnStart, log *slog.Logger) *turn.Turn {
	r.SetAccount(link.SecondMeUserID)
	as, _ := b.personaFor(*link)
	r.SetPersona(as)
	session := ""
	if start.HasConversation && linking.SessionUsable(&start.Conversation, link) {
		session = start.Conversation.SessionID
	}
	t := &turn.Turn{Deps: b.turnDeps(), User: it.key.UserKey(), Text: it.text, R: r, Log: log, Link: *link, Session: session, ConvID: convStopID(it.key)}
	r.SetSession(session)
	t.StopID = stopIDFor(r.ID(), it.key.UserKey())
	if t.StopID != "" {
		r.SetStop(&platforms.StopControl{ReplyID: t.StopID, Label: text.T(it.lang, text.MsgStopButton)})
	}
	return t
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
		Log:      b.log.With("platform", it.key.Platform, "conversation", keys.Conv(it.key)),
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
		Typist:   b.typist,
		Metrics:  b.met,
		Observer: b.obs,
		PutRecord: func(ctx context.Context, rec *store.InflightReply) error {
			return b.st.Replies().PutReply(ctx, *rec)
		},
		Notice:          b.out.Reply,
		Owner:           b.owner,
		Active:          &b.active,
		RecordEvery:     b.tim.recordEvery,
		NativeFlushSize: b.tim.nativeFlushSize,
		FinalTimeout:    b.cfg.FinalTimeout,
	}
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

// turnDeps is what a turn needs from the engine.
func (b *Bridge) turnDeps() *turn.Deps {
	return &turn.Deps{
		SecondMe:      b.cfg.SecondMe,
		Refresh:       b.cfg.Linker.RefreshAfterFailure,
		Persona:       func(l store.Link) *platforms.Persona { as, _ := b.personaFor(l); return as },
		SystemPrompt:  func() string { return b.tunables().SystemPrompt },
		AppID:         b.cfg.AppID,
		Model:         b.cfg.Model,
		MaxTokens:     b.cfg.MaxTokens,
		StreamTimeout: b.cfg.StreamTimeout,
		RetryDelay:    b.tim.retryDelay,
		Stops:         &b.stops,
		Metrics:       b.met,
	}
}
