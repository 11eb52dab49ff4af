// Package discordtest is a fake Discord for tests: an httptest server on
// 127.0.0.1 that speaks the REST routes and the gateway websocket the
// Discord adapter (through the real discordgo client) uses.
//
// Point the adapter at it with Config{APIURL: srv.APIURL(), Token:
// srv.Token(), ApplicationID: srv.AppID()}: the gateway lookup returns the
// fake's own ws:// URL. Then drive it like a user would:
//
//	srv := discordtest.New(t)
//	// … start the adapter's Run in a goroutine, then:
//	srv.WaitReady(ctx)
//	trigger, _ := srv.Mention(discordtest.DefaultGuildID, discordtest.DefaultChannelID, discordtest.DefaultUser, "hello")
//	reply, _ := srv.WaitReply(ctx, trigger.ID, func(m discordtest.Message) bool { return m.Content == "Hi!" })
//	srv.AssertNoPings(t)
//
// What it speaks:
//
//   - REST (under /api/v9): channel messages (create, edit, delete, get),
//     typing, threads from a message, GET /channels/{id}, DM channels,
//     interaction callbacks, interaction webhooks (@original and follow-ups,
//     get, edit, delete), command bulk overwrite (global and per guild,
//     stored as Command: with contexts and integration_types),
//     GET /users/@me and GET /gateway[/bot]. Bodies are validated like
//     Discord does where it matters (2000-character content, empty
//     messages, link buttons, command names, localizations, contexts and
//     integration types).
//   - The gateway at /gw/ (the trailing slash matters to discordgo): HELLO,
//     IDENTIFY (token and intents checked and recorded), READY with user,
//     application and session id, GUILD_CREATE for the configured guilds,
//     heartbeat ACKs, RESUME answered with RESUMED, and dispatches with an
//     increasing sequence number.
//   - Faults: per-route rate limits (RateLimit) and one-shot failures
//     (FailNext), answered like Discord with a JSON retry_after, dropped
//     gateway connections (DropConnections), expired interaction tokens
//     (ExpireInteraction), and a Developer Portal without the Message
//     Content intent (WithoutMessageContentIntent).
//
// Every REST call is recorded (Calls, CallsTo, CountCalls); the messages the
// bot posted are kept with their edit history and every allowed_mentions
// they were sent with (Messages, Message, MessagesIn, OriginalResponse,
// Followups, AssertNoPings). A user's message is dispatched as Discord
// sends it, with what discordgo v0.28.1's Message cannot carry in wire
// types of the fake's own: a message_reference with its type (a reply's
// 0), and for a forward (SendMessageCreateWith) type 1 with
// message_snapshots. For end-to-end tests, Mention, Say, DM, Reply,
// SlashCommand, MessageCommand and Click (a button click: INTERACTION_CREATE
// type 3, answered with a deferred update) act as a user; WaitButtons
// waits for a message's buttons; WaitReply, RepliesTo,
// WaitQuiet and MentionAndWait wait for the bot's (possibly multi-part)
// answer; WaitCallback returns an interaction's acknowledgement.
//
// A Server is safe for concurrent use. New registers t.Cleanup(srv.Close).
// Stop the client (the adapter's Run) before the server closes, or it will
// try to reconnect.
package discordtest
