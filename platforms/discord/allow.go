package discord

// allowLists are the guilds and channels the bot answers in (nil = all).
// They are replaced whole by SetAllowLists, never modified.
type allowLists struct {
	guilds, chans map[string]bool
}

func newAllowLists(guilds, channels []string) *allowLists {
	return &allowLists{guilds: set(guilds), chans: set(channels)}
}

// SetAllowLists replaces the allowed guilds and channels (empty = all)
// while the adapter runs; events received afterwards are judged by the new
// lists. It is safe to call concurrently with everything else.
func (a *Adapter) SetAllowLists(guilds, channels []string) {
	a.allow.Store(newAllowLists(guilds, channels))
}

// allowedChannels returns the channel allow-list (nil = every channel).
func (a *Adapter) allowedChannels() map[string]bool { return a.allow.Load().chans }

func (a *Adapter) guildAllowed(id string) bool {
	g := a.allow.Load().guilds
	return g == nil || g[id]
}

func (a *Adapter) channelAllowed(id string) bool {
	c := a.allowedChannels()
	return c == nil || c[id]
}
