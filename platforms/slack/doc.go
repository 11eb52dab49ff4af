// Package slack is the Slack adapter of the bridge, built on slack-go.
//
// It implements platforms.Platform and the optional Editor, Streamer, Typer,
// Ephemeraler, Deleter, Budgeter and AgentSessions, and knows nothing of SecondMe or the
// store: it turns Slack deliveries into platforms.Event values for a
// platforms.Handler and posts what the bridge asks it to.
//
// Transports. Socket Mode (the default) connects out to Slack with the
// app-level token; no public URL is needed. HTTP mode serves the Events API,
// slash commands and interactivity on the bridge's HTTP server (Routes),
// verifying Slack's signature (5-minute window) before anything else; the
// requests it refuses (401) are logged as one summary line a minute, not
// one warning each (rejectlog.go). Both
// acknowledge within Slack's 3 seconds before the work starts, and hand
// events to the handler asynchronously, in order per user (a serial queue
// per user, internal/keyq). The queue holds at most 1,024 events: beyond
// that a delivery is not acknowledged (HTTP 503 with Retry-After, or no
// Socket Mode ack) and logged, and Slack retries it later.
//
// Stop and the agent surface (stop.go, agent.go). A Stop button
// (action_id secondme_stop, value the reply id) rides on post+update
// messages while they stream; its block_actions click, and
// agent_session_stopped (the agent view's native stop), become an
// EventStop. Opening the Messages tab (app_home_opened, tab "messages")
// pins Config.SuggestedPrompts; the adapter implements
// platforms.AgentSessions with agents.sessions.setStatus and rename. A
// workspace that refuses the agent surface has it latched off.
//
// Triggers. An app_mention in a channel is addressed to the bot and answered
// in that message's thread; every DM is addressed (a top-level DM opens a
// thread, so each DM thread is one conversation and can be streamed
// natively); a thread reply that does not mention the bot is delivered
// unaddressed (the bridge answers it only if the user already talks to their
// avatar there). Bots, edits, deletions and every message subtype are
// ignored. Each message carries the dedupe ids "ev:<event_id>" and
// "msg:<team>:<channel>:<ts>", so a retry or the app_mention/message double
// delivery is claimed once; the message twin of a mention is not even
// emitted.
//
// Commands. "/secondme link|unlink|ask|new|whoami|memory|note|sessions|help"
// and the message shortcuts "Save to SecondMe" (save_to_secondme → "save") and
// "Ask my avatar" (ask_my_avatar → "askabout") become command events. Their
// Interaction handle is sealed with a key derived from the bot token: it
// carries the response_url (a 30-minute capability) without exposing it.
//
// Workspaces. With Config.Install, any workspace installs the app through
// OAuth v2 (install.go: /slack/install sets a nonce cookie in the browser
// and sends it to Slack with a state signed over the nonce's hash; the
// callback checks both, claims the state once through OnceClaimer and
// exchanges the code with oauth.v2.access). Each workspace's bot token
// (and, with token rotation, its refresh token) lives in an InstallStore;
// every Web API call for a team uses that team's token and every delivery
// is translated with that team's bot identity (workspaces.go). Deliveries
// from a team with no install are dropped; app_uninstalled and
// tokens_revoked delete the install. Config.BotToken, when set, keeps
// serving its own team as before.
//
// Output. Messages are posted as a Markdown block plus fallback text with
// unfurls off, and every text is made ping-free (<!channel>, <!here>,
// <!everyone>, <!subteam^…>, <@U…>, <@W…> get a zero-width space). Native
// streaming uses chat.startStream/appendStream/stopStream with the recipient
// ids outside DMs; a permanent refusal latches it off for the workspace and
// returns platforms.ErrStreamUnsupported so the bridge falls back to
// chat.postMessage + chat.update. 429s become *platforms.RateLimitError and
// are never retried here. The "thinking" status uses
// assistant.threads.setStatus where Slack allows it.
//
// Check verifies the tokens (auth.test, apps.connections.open) and Manifest
// prints the app manifest to create the Slack app from.
package slack
