package bridge

import (
	"github.com/secondme-bridge/secondme-bridge/platforms"
	"github.com/secondme-bridge/secondme-bridge/store"
)

// conversationKey is the conversation an event belongs to. Its Workspace is
// the user's id scope (platforms.User.Scope: "" on Discord, the team id on
// Slack), not the guild, so that ConversationKey.UserKey() is the key of
// the user's link and unlinking finds every conversation of the user.
// Channel ids are unique within that scope on both platforms (Discord
// channel ids are global snowflakes). A direct message channel is one
// conversation whatever its threads: there ev.Thread only says where the
// answer goes (Slack answers each DM in its own thread, because native
// streams need one), so the user keeps one SecondMe session per DM.
func conversationKey(ev platforms.Event) store.ConversationKey {
	thread := ev.Thread
	if ev.DM {
		thread = ""
	}
	return store.ConversationKey{
		Platform:  ev.Platform,
		Workspace: string(ev.User.Scope),
		Channel:   string(ev.Channel),
		Thread:    string(thread),
		User:      string(ev.User.ID),
	}
}

// userKey is the key of the link of the event's user.
func userKey(ev platforms.Event) store.UserKey {
	return store.UserKey{Platform: ev.Platform, Workspace: string(ev.User.Scope), User: string(ev.User.ID)}
}

// targetOf is where the reply to ev goes: the same channel and thread,
// threaded to the triggering message, answering the interaction if any. A
// thread the event asks for does not exist yet: the target is the channel
// until openThread opens it.
func targetOf(ev platforms.Event) platforms.Target {
	to := platforms.Target{
		Workspace:   ev.Workspace,
		Channel:     ev.Channel,
		Thread:      ev.Thread,
		DM:          ev.DM,
		User:        ev.User.ID,
		ReplyTo:     ev.MessageID,
		Interaction: ev.Interaction,
	}
	if ev.WantsThread {
		to.Thread, to.WantsThread = "", true
	}
	return to
}
