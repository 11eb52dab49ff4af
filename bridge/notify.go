package bridge

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/secondme-bridge/secondme-bridge/bridge/budget"
	"github.com/secondme-bridge/secondme-bridge/bridge/format"
	"github.com/secondme-bridge/secondme-bridge/bridge/render"
	"github.com/secondme-bridge/secondme-bridge/bridge/text"
	"github.com/secondme-bridge/secondme-bridge/platforms"
	"github.com/secondme-bridge/secondme-bridge/store"
)

// errNoPrivate is returned by sendPrivate when the platform cannot show a
// message to one user only at that target.
var errNoPrivate = errors.New("no private channel to the user")

// reply posts a short public message (a notice, an error) to the target,
// through 429s and budgets. Failures are logged.
func (b *Bridge) reply(ctx context.Context, p platforms.Platform, to platforms.Target, msg string) {
	m := platforms.Message{Text: format.NeutralizeMentions(msg)}
	err := b.pacer.Deliver(ctx, p.Name(), budget.SendBudgets(b.capsOf(p).Budgeter, to), func(ctx context.Context) error {
		_, err := p.Send(ctx, to, m)
		return err
	})
	if err != nil {
		b.met.Errors.WithLabelValues(text.KindPlatform).Inc()
		b.log.Warn("send notice", "platform", p.Name(), "error", err)
	}
}

// canPrivate reports whether a message can reach only the user at to.
func (b *Bridge) canPrivate(p platforms.Platform, to platforms.Target) bool {
	return b.capsOf(p).Ephemeraler != nil || to.DM || to.Interaction != ""
}

// sendPrivate sends m so that only the user sees it: ephemerally
// (platforms.Ephemeraler, which also answers an interaction privately), as
// a private interaction answer, or in a DM. It returns errNoPrivate when
// none is possible.
func (b *Bridge) sendPrivate(ctx context.Context, p platforms.Platform, to platforms.Target, m platforms.Message) error {
	to.Ephemeral = true
	m.Text = format.NeutralizeMentions(m.Text)
	if ep := b.capsOf(p).Ephemeraler; ep != nil {
		return b.pacer.Deliver(ctx, p.Name(), nil, func(ctx context.Context) error { return ep.SendEphemeral(ctx, to, m) })
	}
	if !to.DM && to.Interaction == "" {
		return errNoPrivate
	}
	return b.pacer.Deliver(ctx, p.Name(), nil, func(ctx context.Context) error {
		_, err := p.Send(ctx, to, m)
		return err
	})
}

// tellPrivate sends a private msg, falling back to a public one (for
// texts that are fine to show, like errors and invitations).
func (b *Bridge) tellPrivate(ctx context.Context, p platforms.Platform, to platforms.Target, msg string) {
	err := b.sendPrivate(ctx, p, to, platforms.Message{Text: msg})
	if errors.Is(err, errNoPrivate) {
		b.reply(ctx, p, to, msg)
		return
	}
	if err != nil {
		b.met.Errors.WithLabelValues(text.KindPlatform).Inc()
		b.log.Warn("send private notice", "platform", p.Name(), "error", err)
	}
}

// tellTokenError answers a message whose user has no usable token: the
// invitation to /link (privately when possible), the relink request, or
// the error.
func (b *Bridge) tellTokenError(ctx context.Context, it *workItem, err error, log *slog.Logger) {
	ue := text.Classify(err)
	b.met.CountFailure(ue.Kind)
	switch ue.Kind {
	case text.KindNotLinked, text.KindLinkBroken:
		log.Debug("user has no usable link", "kind", ue.Kind)
	default:
		log.Error("get user token", "error", err)
	}
	ctx, cancel := render.CtxOr(ctx, 30*time.Second)
	defer cancel()
	b.tellPrivate(ctx, it.p, it.target, ue.Text(it.lang))
}

// LinkCompleted implements linking.LinkNotifier: it tells the user, where
// they ran /link and privately, which SecondMe account they are now linked
// to (and which one it replaced).
func (b *Bridge) LinkCompleted(ctx context.Context, pl store.PendingLink, link store.Link, replaced *store.Link) {
	p := b.platform(pl.User.Platform)
	if p == nil {
		b.log.Warn("link completed for an unknown platform", "platform", pl.User.Platform)
		return
	}
	l := text.Of(pl.Locale, p)
	msg := text.T(l, text.MsgLinked, text.DisplayName(link, l))
	if replaced != nil {
		msg = text.T(l, text.MsgLinkedReplaced, text.DisplayName(link, l), text.DisplayName(*replaced, l))
	}
	to := platforms.Target{
		Workspace:   pl.User.Workspace,
		Channel:     pl.Channel,
		Thread:      pl.Thread,
		DM:          pl.DM,
		User:        pl.User.User,
		Interaction: pl.Interaction,
		Ephemeral:   true,
	}
	b.tellPrivate(ctx, p, to, msg)
}
