// Package bridge is the conversation engine of secondme-bridge: a message
// in from a chat platform, the user's SecondMe avatar's streamed reply out.
//
// It owns intake and the order of work: Bridge.HandleEvent (a
// platforms.Handler) claims every event once in the store, applies the
// per-user rate limit and the input limit (admission), composes the prompt
// from the message's text, its quoted messages and its read attachments
// (bridge/inputs; the user is told privately about files not read), and queues
// the message on its conversation's durable inbox and bounded in-process
// queue, drained by one worker, so replies in one conversation never
// interleave; a store lease (bridge/internal/lease) makes one replica the
// conversation's writer for a turn. The turn decides who the reply is
// posted as (bridge.reply_as: the user's avatar from the link's cached
// SecondMe profile, or the bot; persona.go), streams the avatar's reply
// into a renderer (bridge/internal/turn; bridge/render, paced by
// bridge/budget) and ends it, saving the session. The recovery sweep takes over what stopped processes
// left (their in-flight replies and inbox entries, their sessions through
// bridge/internal/orphan), told by the liveness records
// (bridge/internal/liveness). A Stop (stop.go) cancels a streaming
// reply for the person who asked, directly when it streams here, otherwise
// through the store's announced stop requests (bridge/internal/stops); a
// DM reply is also an agent session whose status and title are set
// (agent.go, bridge/internal/turn). Commands are declared in bridge/commands and routed here;
// wording is bridge/text's.
//
// It must not render replies, pace updates or word messages itself, and it
// reads a platform's abilities only through the platforms.Caps resolved
// once in AddPlatform. The README's Architecture section follows a Discord
// message through these rooms to its final edit.
package bridge
