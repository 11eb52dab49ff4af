package bridge

import (
	"context"
	"log/slog"
	"time"

	"github.com/secondme-bridge/secondme-bridge/bridge/render"
	"github.com/secondme-bridge/secondme-bridge/bridge/text"
	"github.com/secondme-bridge/secondme-bridge/platforms"
	"github.com/secondme-bridge/secondme-bridge/store"
)

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
	b.out.TellPrivate(ctx, it.p, it.target, ue.Text(it.lang))
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
		Workspace:   platforms.WorkspaceID(pl.User.Workspace),
		Channel:     platforms.ChannelID(pl.Channel),
		Thread:      platforms.ThreadID(pl.Thread),
		DM:          pl.DM,
		User:        platforms.UserID(pl.User.User),
		Interaction: pl.Interaction,
		Ephemeral:   true,
	}
	b.out.TellPrivate(ctx, p, to, msg)
}
