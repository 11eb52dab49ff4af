package bridge

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/secondme-bridge/secondme-bridge/bridge/linking"
	"github.com/secondme-bridge/secondme-bridge/platforms"
	"github.com/secondme-bridge/secondme-bridge/secondme"
	"github.com/secondme-bridge/secondme-bridge/store"
)

// command is one command invocation.
type command struct {
	p    platforms.Platform
	ev   platforms.Event
	to   platforms.Target
	l    lang
	user store.UserKey
	args string
}

// handleCommand routes a command. Commands that ask the avatar (ask,
// askabout) and /new go through the conversation's queue; the others run
// at once in the background. Private results are ephemeral (or in a DM).
func (b *Bridge) handleCommand(ctx context.Context, p platforms.Platform, ev platforms.Event) {
	c := &command{
		p:    p,
		ev:   ev,
		to:   targetOf(ev),
		l:    langOf(ev.User.Locale, p),
		user: userKey(ev),
		args: strings.TrimSpace(ev.Command.Args),
	}
	name := strings.ToLower(strings.TrimPrefix(strings.TrimSpace(ev.Command.Name), "/"))
	// Commands that call SecondMe take a rate token with their claim.
	switch {
	case name == "ask" && c.args != "":
		b.handleMessage(ctx, p, ev, c.to, c.args)
		return
	case name == "askabout" && c.args != "":
		b.handleMessage(ctx, p, ev, c.to, tr(c.l, msgAskAboutPrompt, quote(c.args)))
		return
	}
	if run := map[string]func(context.Context, *command){
		"whoami": b.cmdWhoami, "memory": b.cmdMemory, "note": b.cmdNote, "save": b.cmdNote, "sessions": b.cmdSessions,
	}[name]; run != nil {
		if b.admit(ctx, p, ev, c.to) {
			b.background(c, run)
		}
		return
	}
	if !b.claim(ctx, ev) {
		return
	}
	switch name {
	case "help":
		b.background(c, b.cmdHelp)
	case "link":
		b.background(c, b.cmdLink)
	case "unlink":
		b.background(c, b.cmdUnlink)
	case "new":
		b.submit(&workItem{kind: itemNew, p: p, ev: ev, key: conversationKey(ev), target: c.to, lang: c.l, received: b.now()})
	case "ask":
		b.background(c, func(ctx context.Context, c *command) { b.tellPrivate(ctx, c.p, c.to, tr(c.l, msgAskUsage)) })
	case "askabout":
		b.background(c, func(ctx context.Context, c *command) { b.tellPrivate(ctx, c.p, c.to, tr(c.l, msgAskAboutEmpty)) })
	default:
		b.background(c, func(ctx context.Context, c *command) { b.tellPrivate(ctx, c.p, c.to, tr(c.l, msgUnknownCommand)) })
	}
}

// background runs a command handler as a tracked task with a deadline.
func (b *Bridge) background(c *command, f func(context.Context, *command)) {
	b.goTask(func(ctx context.Context) {
		ctx, cancel := context.WithTimeout(ctx, time.Minute)
		defer cancel()
		f(ctx, c)
	})
}

func (b *Bridge) cmdHelp(ctx context.Context, c *command) {
	b.tellPrivate(ctx, c.p, c.to, tr(c.l, msgHelp))
}

// cmdLink sends the user a one-time link to connect their SecondMe
// account, privately only: whoever opens the link links their account to
// this platform user.
func (b *Bridge) cmdLink(ctx context.Context, c *command) {
	if !canPrivate(c.p, c.to) {
		b.reply(ctx, c.p, c.to, tr(c.l, msgPrivateOnly))
		return
	}
	url, err := b.linker.StartLink(ctx, store.PendingLink{
		User:        c.user,
		Locale:      c.ev.User.Locale,
		Channel:     string(c.ev.Channel),
		Thread:      string(c.ev.Thread),
		DM:          c.ev.DM,
		Interaction: c.ev.Interaction,
		CreatedAt:   b.now(),
		// The confirmation page names the account being linked.
		UserName:      c.ev.User.DisplayName,
		WorkspaceName: c.ev.WorkspaceName,
	})
	switch {
	case errors.Is(err, linking.ErrLinkRateLimited):
		b.tellPrivate(ctx, c.p, c.to, tr(c.l, msgLinkRateLimited))
		return
	case err != nil:
		b.log.Error("start link", "platform", c.user.Platform, "error", err)
		b.met.errors.WithLabelValues(kindInternal).Inc()
		b.tellPrivate(ctx, c.p, c.to, tr(c.l, msgInternal))
		return
	}
	m := platforms.Message{
		Text:    tr(c.l, msgLinkPrompt),
		Buttons: []platforms.LinkButton{{Label: tr(c.l, msgLinkButton), URL: url}},
	}
	if err := b.sendPrivate(ctx, c.p, c.to, m); err != nil {
		b.log.Warn("send link", "platform", c.user.Platform, "error", err)
	}
}

// cmdUnlink removes the user's link, tokens and conversations.
func (b *Bridge) cmdUnlink(ctx context.Context, c *command) {
	link, err := b.linker.Unlink(ctx, c.user)
	switch {
	case errors.Is(err, linking.ErrNotLinked):
		b.tellPrivate(ctx, c.p, c.to, tr(c.l, msgUnlinkNone))
	case err != nil:
		b.log.Error("unlink", "platform", c.user.Platform, "error", err)
		b.tellPrivate(ctx, c.p, c.to, tr(c.l, msgInternal))
	default:
		b.tellPrivate(ctx, c.p, c.to, tr(c.l, msgUnlinked, displayName(link, c.l)))
	}
}

// runNew forgets the conversation's session (in order with the
// conversation's messages, under its lease) and confirms. A stored
// conversation stays, with no session id, so that thread follow-ups are
// still answered.
func (b *Bridge) runNew(ctx context.Context, c *conv, it *workItem) {
	start, err := c.begin(ctx, nil)
	if err == nil {
		var rec *store.Conversation
		if start.HasConversation {
			rec = &store.Conversation{Key: it.key, LastActive: b.now()}
		}
		fctx, cancel := finishCtx(ctx)
		err = c.finish(fctx, rec, "")
		cancel()
	}
	if err != nil {
		b.log.Error("start new conversation", "conversation", c.ks, "error", err)
		b.met.errors.WithLabelValues(kindStore).Inc()
		b.tellPrivate(ctx, it.p, it.target, tr(it.lang, msgInternal))
		return
	}
	b.tellPrivate(ctx, it.p, it.target, tr(it.lang, msgNewSession))
}

// withToken runs f with the user's access token, refreshing it once if
// SecondMe refuses it.
func (b *Bridge) withToken(ctx context.Context, user store.UserKey, f func(token string) error) error {
	link, err := b.linker.Token(ctx, user)
	if err != nil {
		return err
	}
	err = f(link.Token.AccessToken)
	if !secondme.IsTokenInvalid(err) {
		return err
	}
	link, rerr := b.linker.RefreshAfterFailure(ctx, user, link.Token.AccessToken)
	if rerr != nil {
		return rerr
	}
	return f(link.Token.AccessToken)
}

// tellError tells the user why a command failed, privately, and logs it.
func (b *Bridge) tellError(ctx context.Context, c *command, what string, err error) {
	ue := classify(err)
	b.met.countFailure(ue.kind)
	switch ue.kind {
	case kindNotLinked, kindLinkBroken:
	case kindInternal, kindOperator:
		b.log.Error(what, "platform", c.user.Platform, "error", err)
	default:
		b.log.Warn(what, "platform", c.user.Platform, "kind", ue.kind, "error", err)
	}
	if ue.kind == kindUpstream {
		ue = newUserError(kindUpstream, msgUnavailable, err)
	}
	b.tellPrivate(ctx, c.p, c.to, ue.text(c.l))
}

// quote renders text as a Markdown block quote.
func quote(text string) string {
	return "> " + strings.ReplaceAll(strings.TrimSpace(text), "\n", "\n> ")
}
