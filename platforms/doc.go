// Package platforms declares the contract between the bridge and a chat
// platform adapter (Discord, Slack), in the spirit of matterbridge's Bridger
// and mautrix bridgev2's network interfaces.
//
// An adapter implements the small required interface Platform (name, limits,
// run, readiness, send) and any of the optional capabilities Editor, Streamer,
// Typer, Ephemeraler, Deleter, Budgeter and ThreadOpener. The bridge
// resolves them once into a Caps value (ResolveCaps): by type assertion, or
// from Caps() for a platform whose abilities depend on its configuration
// (CapsReporter). Ids are typed (ids.go): UserID, ScopeID (the namespace of
// a user id, the scope of the store keys), WorkspaceID, ChannelID, ThreadID
// and MessageID.
//
// Thread creation is behind the bridge's admission: an adapter that wants
// the answer in a new thread (Discord's auto_thread) sets Event.WantsThread
// and announces the thread's id in Event.Thread, and the bridge opens it
// (ThreadOpener) only for an admitted message of a linked user. Adapters deliver incoming messages and commands to the bridge
// through one Handler with a platform-neutral Event; they never import the
// bridge, the store or the SecondMe client.
//
// Adapters own platform rules the bridge cannot know: they never ping anyone
// (Discord AllowedMentions empty, Slack special mentions neutralized), they
// report 429s as *RateLimitError instead of retrying them, and they declare
// their message limits (Limits) and the shared rate budgets an update draws
// from (Budgeter). The bridge owns everything else: ordering, throttling,
// splitting, wording.
//
// Controls (control.go): a streaming message may carry a Stop button
// (Message.Stop); a click, or a platform's native stop, reaches the bridge
// as an EventStop. AgentSessions is the optional agent session surface
// (Slack's agent view: session status and title).
//
// Subpackages: discord and slack are the adapters; platformtest is an
// in-memory fake platform for the bridge's tests; discord/discordtest and
// slack/slacktest are fake platform servers that the real SDK clients talk to.
package platforms
