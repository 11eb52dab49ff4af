// Package discord is the Discord adapter of secondme-bridge, built on
// discordgo v0.28.1, the approved release.
//
// An Adapter connects to the Discord gateway (intents Guilds, GuildMessages,
// DirectMessages and, when the Developer Portal allows it, the privileged
// MessageContent), turns mentions, direct messages, replies to the bot,
// thread follow-ups and application commands into platforms.Event values,
// and posts the bridge's replies. It implements platforms.Platform and the
// optional Editor, Typer, Ephemeraler, Deleter and Budgeter capabilities; it
// has no native streaming (the bridge streams by editing).
//
// # Ordering and back-pressure
//
// Gateway handlers run synchronously on the session's reader; each message
// is queued on its channel's serial queue (internal/keyq), so that one
// channel's messages reach the bridge in order while channels run
// concurrently. The queue holds at most 1,024 messages; when it is full the
// reader waits for room (logged once per wait) instead of dropping, since
// Discord does not redeliver gateway events.
//
// # What discordgo v0.28.1 lacks
//
// Two parts of Discord's API the adapter uses are newer than discordgo
// v0.28.1, and the adapter does them itself. Application commands are
// registered with their contexts (guild channels and the DM with the
// bot) and integration types (guild install): Command, with
// InteractionContextType and ApplicationIntegrationType, sent by a bulk
// overwrite of its own on discordgo's endpoint and rate-limit bucket
// (commandwire.go). Forwards: MESSAGE_CREATE is taken from discordgo's
// raw event (an *discordgo.Event handler: the struct discordgo decoded
// and the raw data), and message_reference.type and message_snapshots
// (content and attachments) are read from the raw data with types of the
// adapter's own, only for a message with a message_reference that
// reaches the point where they matter, so other messages are decoded
// once (forwards.go). A malformed reference or snapshot is logged and
// the message handled with what could be read.
//
// # Routing
//
// Every REST call and the gateway lookup go to Config.APIURL through a
// base-rewriting http.RoundTripper on the session's client; discordgo's global
// endpoint variables are never touched, so several adapters (and parallel
// tests) can point at different servers.
//
// # Sharding
//
// Without Config.Sharding the adapter opens one unsharded gateway session.
// With it (shards.go), the shard count and max_concurrency come from GET
// /gateway/bot (or Sharding.Count), a ShardClaimer tells the adapter which
// shards this replica holds, and each held shard gets its own session
// (identify [id, count], one shared state cache), opened after the
// IdentifyGate admits it in its bucket (id % max_concurrency). A shard
// taken away is closed before the claimer releases its lease. Ready is true
// once the claimer has made its first claim and every held shard is
// connected, holding none included. Close code 4011 (sharding required)
// stops Run with an error that names discord.shards.
//
// # Conversations and targets
//
// In a guild text channel an event has Channel = channel id and Thread = "".
// In a thread, Channel = the thread's parent channel (when it can be learnt
// from the gateway state or GET /channels/{id}; otherwise the thread id) and
// Thread = the thread id. In a DM, Channel = the DM channel id and DM = true.
// On the way back, Send posts into Target.Thread when it is set (a Discord
// thread is a channel) and into Target.Channel otherwise; Target.ReplyTo
// becomes a soft message reference, except when it equals Target.Thread (the
// starter message of an auto-created thread lives in the parent channel).
// With auto_thread, a channel mention's event has Thread = the message id
// (the id the thread will have) and WantsThread set; the adapter opens no
// thread itself: the bridge calls OpenThread after admission.
//
// # Interactions
//
// Slash and context-menu commands are deferred (ephemerally for private
// commands) before the handler is called. Event.Interaction is an opaque
// handle that encodes the application id, the channel, the time the
// interaction arrived, the deferral's visibility and the interaction token,
// so it still works without this process's memory (for the /link follow-up
// stored in the shared store). It contains the 15-minute interaction token:
// treat it as a secret and never log it. Answers edit @original first and
// become follow-ups after that; an interaction reply that is still being
// edited after about 14 minutes moves to a normal channel message.
//
// A Stop control (platforms.Message.Stop) is a button on a row of its own
// (messageComponents, shared by channel, interaction and webhook
// messages) whose custom_id is "secondme:stop:<reply id>"; an edit
// without it removes it. A click (a MESSAGE_COMPONENT interaction) is
// acknowledged with a deferred update and delivered as EventStop, with a
// handle whose answers are private follow-ups; forged custom_ids are
// acknowledged and dropped.
//
// # Avatar webhooks
//
// A message under a persona (platforms.Message.As) in a guild channel goes
// through that channel's webhook of the bridge's application (webhooks.go):
// remembered per channel, else found in the guild's listing (guildhooks.go:
// one GET /guilds/{id}/webhooks serves every channel of the guild for 30 s)
// or, where that listing is refused or failed, in the channel's own, else
// created. A listing's "none" is trusted only to create a webhook (it may
// predate one another replica made: at worst the channel gets a second);
// a lookup for an existing message's webhook lists the channel first. Each listing and creation takes a token of the bot budget. A
// webhook's token is a secret: kept in memory only, never logged.
//
// # Rate limits
//
// discordgo's retry on 429 is off for the whole session: a 429 becomes a
// *platforms.RateLimitError with the server's retry_after, and the bridge
// decides. UpdateBudgets declares the shared budgets (per channel, per bot,
// per interaction token) that the bridge draws from before an interim edit.
// The bot budget keeps every second within Config.GlobalRate
// (discord.global_rate, default Discord's 50/s): its burst is a tenth of it
// and its rate the rest less a fiftieth (50/s: a burst of 5 and 44/s), as
// a token bucket allows its burst plus its rate (plus one) in a second; messages through an interaction draw only from
// their interaction's webhook budget, as Discord exempts them from the
// global limit. Under the budgets, the REST client's wire gate (wireGate)
// holds any call that would put more than GlobalRate calls under the
// global limit into 1.1 s as it leaves the process: calls granted in time
// can reach the transport bunched on saturated cores (GlobalHeld counts
// the calls held).
//
// The fake Discord used by the tests is in the discordtest subpackage.
package discord
