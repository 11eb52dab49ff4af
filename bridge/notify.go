package bridge

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/secondme-bridge/secondme-bridge/bridge/format"
	"github.com/secondme-bridge/secondme-bridge/platforms"
	"github.com/secondme-bridge/secondme-bridge/store"
)

// errNoPrivate is returned by sendPrivate when the platform cannot show a
// message to one user only at that target.
var errNoPrivate = errors.New("no private channel to the user")

// reply posts a short public message (a notice, an error) to the target,
// through 429s and budgets. Failures are logged.
func (b *Bridge) reply(ctx context.Context, p platforms.Platform, to platforms.Target, text string) {
	m := platforms.Message{Text: format.NeutralizeMentions(text)}
	err := b.deliver(ctx, p, sendBudgetsOf(p, to), func(ctx context.Context) error {
		_, err := p.Send(ctx, to, m)
		return err
	})
	if err != nil {
		b.met.errors.WithLabelValues(kindPlatform).Inc()
		b.log.Warn("send notice", "platform", p.Name(), "error", err)
	}
}

// canPrivate reports whether a message can reach only the user at to.
func canPrivate(p platforms.Platform, to platforms.Target) bool {
	return platforms.ResolveCaps(p).Ephemeraler != nil || to.DM || to.Interaction != ""
}

// sendPrivate sends m so that only the user sees it: ephemerally
// (platforms.Ephemeraler, which also answers an interaction privately), as
// a private interaction answer, or in a DM. It returns errNoPrivate when
// none is possible.
func (b *Bridge) sendPrivate(ctx context.Context, p platforms.Platform, to platforms.Target, m platforms.Message) error {
	to.Ephemeral = true
	m.Text = format.NeutralizeMentions(m.Text)
	if ep := platforms.ResolveCaps(p).Ephemeraler; ep != nil {
		return b.deliver(ctx, p, nil, func(ctx context.Context) error { return ep.SendEphemeral(ctx, to, m) })
	}
	if !to.DM && to.Interaction == "" {
		return errNoPrivate
	}
	return b.deliver(ctx, p, nil, func(ctx context.Context) error {
		_, err := p.Send(ctx, to, m)
		return err
	})
}

// tellPrivate sends a private text, falling back to a public one (for
// texts that are fine to show, like errors and invitations).
func (b *Bridge) tellPrivate(ctx context.Context, p platforms.Platform, to platforms.Target, text string) {
	err := b.sendPrivate(ctx, p, to, platforms.Message{Text: text})
	if errors.Is(err, errNoPrivate) {
		b.reply(ctx, p, to, text)
		return
	}
	if err != nil {
		b.met.errors.WithLabelValues(kindPlatform).Inc()
		b.log.Warn("send private notice", "platform", p.Name(), "error", err)
	}
}

// tellTokenError answers a message whose user has no usable token: the
// invitation to /link (privately when possible), the relink request, or
// the error.
func (b *Bridge) tellTokenError(ctx context.Context, it *workItem, err error, log *slog.Logger) {
	ue := classify(err)
	b.met.countFailure(ue.kind)
	switch ue.kind {
	case kindNotLinked, kindLinkBroken:
		log.Debug("user has no usable link", "kind", ue.kind)
	default:
		log.Error("get user token", "error", err)
	}
	ctx, cancel := ctxOr(ctx, 30*time.Second)
	defer cancel()
	b.tellPrivate(ctx, it.p, it.target, ue.text(it.lang))
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
	l := langOf(pl.Locale, p)
	text := tr(l, msgLinked, displayName(link, l))
	if replaced != nil {
		text = tr(l, msgLinkedReplaced, displayName(link, l), displayName(*replaced, l))
	}
	to := platforms.Target{
		Workspace:   platforms.WorkspaceID(pl.User.Workspace),
		Channel:     platforms.ChannelID(pl.Channel),
		Thread:      platforms.ThreadID(pl.Thread),
		DM:          pl.DM,
		User:        platforms.UserID(pl.User.User),
		Interaction: pl.Interaction,
		Ephemeral:   true,
	}
	b.tellPrivate(ctx, p, to, text)
}

// displayName is how a SecondMe account is named to the user.
func displayName(link store.Link, l lang) string {
	switch {
	case link.Name != "":
		return link.Name
	case link.SecondMeUserID != "":
		return link.SecondMeUserID
	}
	return tr(l, msgWhoamiUnnamed)
}
