package bridge

import (
	"context"
	"strings"
	"time"

	"github.com/secondme-bridge/secondme-bridge/bridge/commands"
	"github.com/secondme-bridge/secondme-bridge/bridge/internal/lease"
	"github.com/secondme-bridge/secondme-bridge/bridge/text"
	"github.com/secondme-bridge/secondme-bridge/platforms"
	"github.com/secondme-bridge/secondme-bridge/store"
)

// handleCommand routes a command (bridge/commands declares them). Commands
// that ask the avatar (ask, askabout) and /new go through the
// conversation's queue; the others run at once in the background, those
// calling SecondMe admitted with a rate token. Private results are
// ephemeral (or in a DM).
func (b *Bridge) handleCommand(ctx context.Context, p platforms.Platform, ev platforms.Event) {
	c := &commands.Call{
		P:    p,
		Ev:   ev,
		To:   targetOf(ev),
		L:    text.Of(ev.User.Locale, p),
		User: userKey(ev),
		Args: strings.TrimSpace(ev.Command.Args),
	}
	cmd := commands.Lookup(ev.Command.Name)
	switch {
	case cmd != nil && cmd.Kind == commands.Question && c.Args != "":
		b.handleMessage(ctx, p, ev, c.To, cmd.Question(c.L, c.Args))
		return
	case cmd != nil && cmd.Kind == commands.Task && cmd.NeedsLink:
		if b.admit(ctx, p, ev, c.To) {
			b.background(c, cmd.Run)
		}
		return
	}
	if !b.claim(ctx, ev) {
		return
	}
	switch {
	case cmd == nil:
		b.background(c, func(_ *commands.Deps, ctx context.Context, c *commands.Call) {
			b.out.TellPrivate(ctx, c.P, c.To, text.T(c.L, text.MsgUnknownCommand))
		})
	case cmd.Kind == commands.NewSession:
		b.submit(&workItem{kind: itemNew, p: p, ev: ev, key: conversationKey(ev), target: c.To, lang: c.L, received: b.now()})
	case cmd.Kind == commands.Question:
		b.background(c, func(_ *commands.Deps, ctx context.Context, c *commands.Call) {
			b.out.TellPrivate(ctx, c.P, c.To, text.T(c.L, cmd.Empty))
		})
	default:
		b.background(c, cmd.Run)
	}
}

// background runs a command as a tracked task with a deadline.
func (b *Bridge) background(c *commands.Call, run func(*commands.Deps, context.Context, *commands.Call)) {
	b.goTask(func(ctx context.Context) {
		ctx, cancel := context.WithTimeout(ctx, time.Minute)
		defer cancel()
		run(&commands.Deps{
			Linker: b.cfg.Linker, SecondMe: b.cfg.SecondMe, AppID: b.cfg.AppID, Out: b.out,
			Now: b.now, Log: b.log, Metrics: b.met, Persona: b.personaFor,
		}, ctx, c)
	})
}

// runNew forgets the conversation's session (in order with the
// conversation's messages, under its lease) and confirms. A stored
// conversation stays, with no session id, so that thread follow-ups are
// still answered.
func (b *Bridge) runNew(ctx context.Context, c *lease.Conv, it *workItem) {
	start, err := c.Begin(ctx, nil)
	if err == nil {
		var rec *store.Conversation
		if start.HasConversation {
			rec = &store.Conversation{Key: it.key, LastActive: b.now()}
		}
		fctx, cancel := lease.FinishCtx(ctx)
		err = c.Finish(fctx, rec, "")
		cancel()
	}
	if err != nil {
		b.log.Error("start new conversation", "conversation", c.Key(), "error", err)
		b.met.Errors.WithLabelValues(text.KindStore).Inc()
		b.out.TellPrivate(ctx, it.p, it.target, text.T(it.lang, text.MsgInternal))
		return
	}
	b.out.TellPrivate(ctx, it.p, it.target, text.T(it.lang, text.MsgNewSession))
}
