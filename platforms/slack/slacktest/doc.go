// Package slacktest is a fake Slack for tests: one httptest server on
// 127.0.0.1 that the real slack-go client talks to.
//
// It speaks the parts of Slack the bridge uses:
//
//   - the Web API as form POSTs at /api/{method}: auth.test, users.info (with
//     locale), chat.postMessage, chat.update, chat.delete, chat.postEphemeral,
//     chat.startStream, chat.appendStream, chat.stopStream,
//     assistant.threads.setStatus, and apps.connections.open (a JSON POST with
//     the app-level token as Bearer) returning ws://127.0.0.1:PORT/link/;
//   - response_url endpoints it hands out itself (NewResponseURL), limited to
//     five uses like Slack's;
//   - the Socket Mode websocket: hello first, envelopes, acks, ping frames,
//     {"type":"disconnect"} and the client's reconnect;
//   - HTTP-mode delivery: the same events, slash commands and shortcuts, POSTed
//     to an adapter's /slack/events, /slack/commands and /slack/interactivity
//     and signed with a signing secret (Sign, SignRequest).
//
// Every call is recorded (Calls). Messages keep their state (text, edits,
// stream appends, stopped, deleted), so tests can ask for the text of the
// bot's reply in a thread (ReplyText, WaitReplyText) and check that
// nothing the bot posted can ping anyone (AssertNoPings). Rate limits (429 with
// Retry-After, RateLimit), injected Slack errors (FailMethod) and native
// streaming per team (SetNativeStreaming) are scriptable.
//
// The high-level helpers (Mention, DM, Say, SendSlashCommand, SendShortcut)
// simulate a user and deliver over whichever transport is active: Socket Mode
// by default, HTTP after DeliverOverHTTP. A Server is safe for concurrent use
// and shuts down through t.Cleanup; Start makes one outside a test, which
// the caller closes.
package slacktest
