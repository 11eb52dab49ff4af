package commands

import (
	"context"
	"errors"
	"strings"

	"github.com/secondme-bridge/secondme-bridge/bridge/linking"
	"github.com/secondme-bridge/secondme-bridge/bridge/text"
	"github.com/secondme-bridge/secondme-bridge/platforms"
	"github.com/secondme-bridge/secondme-bridge/secondme"
	"github.com/secondme-bridge/secondme-bridge/store"
)

// cmdHelp sends the command list.
func (d *Deps) cmdHelp(ctx context.Context, c *Call) {
	d.Out.TellPrivate(ctx, c.P, c.To, Help(c.L))
}

// cmdLink sends the user a one-time link to connect their SecondMe
// account, privately only: whoever opens the link links their account to
// this platform user.
func (d *Deps) cmdLink(ctx context.Context, c *Call) {
	if !d.Out.CanPrivate(c.P, c.To) {
		d.Out.Reply(ctx, c.P, c.To, text.T(c.L, text.MsgPrivateOnly))
		return
	}
	url, err := d.Linker.StartLink(ctx, store.PendingLink{
		User:        c.User,
		Locale:      c.Ev.User.Locale,
		Channel:     string(c.Ev.Channel),
		Thread:      string(c.Ev.Thread),
		DM:          c.Ev.DM,
		Interaction: c.Ev.Interaction,
		CreatedAt:   d.Now(),
		// The confirmation page names the account being linked.
		UserName:      c.Ev.User.DisplayName,
		WorkspaceName: c.Ev.WorkspaceName,
	})
	switch {
	case errors.Is(err, linking.ErrLinkRateLimited):
		d.Out.TellPrivate(ctx, c.P, c.To, text.T(c.L, text.MsgLinkRateLimited))
		return
	case err != nil:
		d.Log.Error("start link", "platform", c.User.Platform, "error", err)
		d.Metrics.Errors.WithLabelValues(text.KindInternal).Inc()
		d.Out.TellPrivate(ctx, c.P, c.To, text.T(c.L, text.MsgInternal))
		return
	}
	m := platforms.Message{
		Text:    text.T(c.L, text.MsgLinkPrompt),
		Buttons: []platforms.LinkButton{{Label: text.T(c.L, text.MsgLinkButton), URL: url}},
	}
	if err := d.Out.SendPrivate(ctx, c.P, c.To, m); err != nil {
		d.Log.Warn("send link", "platform", c.User.Platform, "error", err)
	}
}

// cmdUnlink removes the user's link, tokens and conversations.
func (d *Deps) cmdUnlink(ctx context.Context, c *Call) {
	link, err := d.Linker.Unlink(ctx, c.User)
	switch {
	case errors.Is(err, linking.ErrNotLinked):
		d.Out.TellPrivate(ctx, c.P, c.To, text.T(c.L, text.MsgUnlinkNone))
	case err != nil:
		d.Log.Error("unlink", "platform", c.User.Platform, "error", err)
		d.Out.TellPrivate(ctx, c.P, c.To, text.T(c.L, text.MsgInternal))
	default:
		d.Out.TellPrivate(ctx, c.P, c.To, text.T(c.L, text.MsgUnlinked, text.DisplayName(link, c.L)))
	}
}

// withToken runs f with the user's access token, refreshing it once if
// SecondMe refuses it.
func (d *Deps) withToken(ctx context.Context, user store.UserKey, f func(token string) error) error {
	_, err := d.withLink(ctx, user, f)
	return err
}

// withLink is withToken returning the user's link as it was last used.
func (d *Deps) withLink(ctx context.Context, user store.UserKey, f func(token string) error) (store.Link, error) {
	link, err := d.Linker.Token(ctx, user)
	if err != nil {
		return link, err
	}
	err = f(link.Token.AccessToken)
	if !secondme.IsTokenInvalid(err) {
		return link, err
	}
	link, rerr := d.Linker.RefreshAfterFailure(ctx, user, link.Token.AccessToken)
	if rerr != nil {
		return link, rerr
	}
	return link, f(link.Token.AccessToken)
}

// tellError tells the user why a command failed, privately, and logs it.
func (d *Deps) tellError(ctx context.Context, c *Call, what string, err error) {
	ue := text.Classify(err)
	d.Metrics.CountFailure(ue.Kind)
	switch ue.Kind {
	case text.KindNotLinked, text.KindLinkBroken:
	case text.KindInternal, text.KindOperator:
		d.Log.Error(what, "platform", c.User.Platform, "error", err)
	default:
		d.Log.Warn(what, "platform", c.User.Platform, "kind", ue.Kind, "error", err)
	}
	if ue.Kind == text.KindUpstream {
		ue = text.NewUserError(text.KindUpstream, text.MsgUnavailable, err)
	}
	d.Out.TellPrivate(ctx, c.P, c.To, ue.Text(c.L))
}

// quote renders text as a Markdown block quote.
func quote(text string) string {
	return "> " + strings.ReplaceAll(strings.TrimSpace(text), "\n", "\n> ")
}
