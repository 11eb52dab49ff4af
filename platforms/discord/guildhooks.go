package discord

import (
	"context"
	"net/http"
	"sync"
	"time"

	"github.com/bwmarrin/discordgo"
)

// guildListFresh is how long a guild's webhook listing answers for its
// channels: within it a channel the listing found no webhook of the
// bridge in gets one created without listing the channel first. A webhook
// another replica created meanwhile is not seen, and the channel may then
// get a second one (harmless: the bridge uses the first it finds; a
// channel holds up to 15); kept short for that.
const guildListFresh = 30 * time.Second

// guildHooks is one guild's listing of webhooks (GET /guilds/{id}/webhooks,
// one bot call for every channel of the guild, where listing each channel
// costs one per channel: under a busy global limit, a thousand new
// channels' first avatar replies wait for a thousand calls fewer). mu is
// held while the listing is made, so that one is made at a time.
type guildHooks struct {
	mu   sync.Mutex
	at   time.Time       // when the listing was made (zero: never)
	ours map[string]hook // parent channel → the bridge's webhook listed
	// failedAt is when the listing last failed, and retryAfter how long
	// channels are then looked up on their own: hookRetryAfter when
	// Discord refused (no guild-wide Manage Webhooks, or no such guild),
	// guildListFresh after any other failure (a 429, a 5xx).
	failedAt   time.Time
	retryAfter time.Duration
}

// guild returns what is known about guild's webhooks.
func (w *webhooks) guild(guild string) *guildHooks {
	w.mu.Lock()
	defer w.mu.Unlock()
	g, ok := w.guilds[guild]
	if !ok {
		if len(w.guilds) >= maxHookSlots {
			clear(w.guilds)
		}
		g = &guildHooks{}
		w.guilds[guild] = g
	}
	return g
}

// gone records a webhook deleted under us, so that a listing made before
// its deletion does not hand it out again.
func (w *webhooks) gone(id string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.deleted) >= maxHookSlots {
		clear(w.deleted)
	}
	w.deleted[id] = true
}

func (w *webhooks) isGone(id string) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.deleted[id]
}

// fromGuild looks channel's webhook up in its guild's listing, made now
// when there is none younger than guildListFresh. listed reports whether a
// listing answered: then found is the bridge's webhook in channel, or nil
// when it has none. Without a guild, or when the listing failed (Discord
// refuses it when the bot may manage webhooks in some channels only), listed
// is false and the caller lists the channel; a failed listing is not tried
// again for a while (guildHooks.retryAfter), so that a failing one never
// adds a call to every channel's. err is set only when ctx ended.
func (a *Adapter) fromGuild(ctx context.Context, guild, channel string) (found *hook, listed bool, err error) {
	if guild == "" {
		return nil, false, nil
	}
	g := a.hooks.guild(guild)
	g.mu.Lock()
	defer g.mu.Unlock()
	now := a.now()
	if !g.failedAt.IsZero() && now.Sub(g.failedAt) < g.retryAfter {
		return nil, false, nil
	}
	if g.at.IsZero() || now.Sub(g.at) >= guildListFresh {
		if err := a.botCall(ctx); err != nil {
			return nil, false, err
		}
		list, err := a.s.GuildWebhooks(guild, restOpts(ctx)...)
		if err != nil {
			if ctx.Err() != nil {
				return nil, false, ctx.Err()
			}
			g.failedAt, g.retryAfter = a.now(), guildListFresh
			if forbidden(err) || restStatus(err) == http.StatusNotFound {
				g.retryAfter = hookRetryAfter
			}
			a.log.DebugContext(ctx, "list a guild's discord webhooks; listing channels on their own", "guild", guild, "retry_after", g.retryAfter, "error", apiError("list guild webhooks", err))
			return nil, false, nil
		}
		g.at, g.failedAt, g.ours = a.now(), time.Time{}, map[string]hook{}
		for _, w := range list {
			if a.ownHook(w) {
				if _, dup := g.ours[w.ChannelID]; !dup {
					g.ours[w.ChannelID] = hook{id: w.ID, token: w.Token}
				}
			}
		}
	}
	if h, ok := g.ours[channel]; ok && !a.hooks.isGone(h.id) {
		return &h, true, nil
	}
	return nil, true, nil
}

// ownHook reports whether w is an incoming webhook of the bridge's
// application that can post (it has a token).
func (a *Adapter) ownHook(w *discordgo.Webhook) bool {
	return w != nil && w.ID != "" && w.Token != "" && w.ApplicationID == a.cfg.ApplicationID &&
		w.Type == discordgo.WebhookTypeIncoming
}

// stateGuild is the guild of channel as the gateway state knows it ("" when
// unknown: the channel's webhook is then looked up on its own).
func (a *Adapter) stateGuild(channel string) string {
	if a.s.State == nil {
		return ""
	}
	if c, err := a.s.State.Channel(channel); err == nil && c != nil {
		return c.GuildID
	}
	return ""
}
