package platforms

// Typed ids. Each is the platform's own id, as the platform spells it; the
// bridge stores and compares them but never parses them. The types keep a
// channel id from being passed where a user id is expected, and say at each
// field which id it holds.

// UserID is a person's id on the platform: a Discord user snowflake (global),
// a Slack user id ("U…", "W…"), unique within its ScopeID.
type UserID string

// ScopeID is the namespace in which a UserID is unique, and therefore the
// scope part of every store key of a user (link, conversations, rate
// limits): "" on Discord, whose user ids are global, and the Slack team id
// ("T…") on Slack. It is not where an event happened (that is the
// WorkspaceID: on Discord the guild differs from the scope).
type ScopeID string

// WorkspaceID is the server or workspace an event happened in: the Discord
// guild id ("" in a direct message), the Slack team id.
type WorkspaceID string

// ChannelID is a channel: a Discord channel snowflake (a thread's parent
// channel for an event in a thread, the DM channel in a DM), a Slack
// conversation id ("C…", "D…", "G…").
type ChannelID string

// ThreadID is a thread: on Discord the thread's channel id (for a thread
// opened on a message, that message's id), on Slack the thread_ts of the
// thread's parent message.
type ThreadID string

// MessageID is a message: a Discord message snowflake, a Slack message ts.
type MessageID string
