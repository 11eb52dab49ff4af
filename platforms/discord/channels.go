package discord

import (
	"context"
	"sync"
	"time"

	"github.com/bwmarrin/discordgo"
)

// chanInfo is what the adapter needs to know about a channel.
type chanInfo struct {
	typ    discordgo.ChannelType
	parent string
}

func (c chanInfo) isThread() bool {
	switch c.typ {
	case discordgo.ChannelTypeGuildPublicThread, discordgo.ChannelTypeGuildPrivateThread, discordgo.ChannelTypeGuildNewsThread:
		return true
	}
	return false
}

// channelCache is a bounded map of channels learnt through REST (the gateway
// state holds the rest). When full it is emptied: entries are cheap to
// fetch again.
type channelCache struct {
	mu  sync.Mutex
	max int
	m   map[string]chanInfo
}

func newChannelCache(maxEntries int) *channelCache {
	return &channelCache{max: maxEntries, m: make(map[string]chanInfo)}
}

func (c *channelCache) get(id string) (chanInfo, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	info, ok := c.m[id]
	return info, ok
}

func (c *channelCache) put(id string, info chanInfo) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.m) >= c.max {
		clear(c.m)
	}
	c.m[id] = info
}

// channelLookupTimeout bounds the REST lookup of an unknown channel.
const channelLookupTimeout = 2 * time.Second

// channel returns what is known about a guild channel: from the gateway
// state, the cache, or GET /channels/{id}. On failure it returns an unknown
// channel (treated as a plain text channel).
func (a *Adapter) channel(ctx context.Context, id string) chanInfo {
	if a.s.State != nil {
		if c, err := a.s.State.Channel(id); err == nil && c != nil {
			return chanInfo{typ: c.Type, parent: c.ParentID}
		}
	}
	if info, ok := a.cache.get(id); ok {
		return info
	}
	ctx, cancel := context.WithTimeout(ctx, channelLookupTimeout)
	defer cancel()
	c, err := a.s.Channel(id, discordgo.WithContext(ctx))
	if err != nil || c == nil {
		a.log.WarnContext(ctx, "look up discord channel failed", "channel", id, "error", apiError("get channel", err))
		return chanInfo{}
	}
	info := chanInfo{typ: c.Type, parent: c.ParentID}
	a.cache.put(id, info)
	return info
}

// place is where an event happened, in the bridge's terms.
type place struct {
	channel, thread string
	inThread        bool
}

// placeOf maps a guild channel to the event's Channel/Thread and reports
// whether the allow-lists permit it.
func (a *Adapter) placeOf(ctx context.Context, channelID string) (place, bool) {
	info := a.channel(ctx, channelID)
	if info.isThread() {
		p := place{channel: channelID, thread: channelID, inThread: true}
		if info.parent != "" {
			p.channel = info.parent
		}
		return p, a.channelAllowed(channelID) || (info.parent != "" && a.channelAllowed(info.parent))
	}
	return place{channel: channelID}, a.channelAllowed(channelID)
}

// guildName returns the guild's name from the gateway state, or "".
func (a *Adapter) guildName(guildID string) string {
	if a.s.State == nil || guildID == "" {
		return ""
	}
	g, err := a.s.State.Guild(guildID)
	if err != nil || g == nil {
		return ""
	}
	return g.Name
}

// guildLocale returns the guild's preferred locale from the gateway state.
func (a *Adapter) guildLocale(guildID string) string {
	if a.s.State == nil || guildID == "" {
		return ""
	}
	g, err := a.s.State.Guild(guildID)
	if err != nil || g == nil {
		return ""
	}
	return string(g.PreferredLocale)
}
