package platforms

import "context"

// Handler receives platform events. Adapters call it; the bridge implements
// it. HandleEvent may be called concurrently from several goroutines. It must
// return quickly (it claims the event and queues the work; it does not wait
// for the reply), so adapters may call it before or after acknowledging the
// platform, but never hold the platform's 3-second deadline on it for more
// than a store round trip or two.
type Handler interface {
	HandleEvent(ctx context.Context, ev Event)
}

// HandlerFunc adapts a function to Handler.
type HandlerFunc func(ctx context.Context, ev Event)

// HandleEvent calls f(ctx, ev).
func (f HandlerFunc) HandleEvent(ctx context.Context, ev Event) { f(ctx, ev) }

// EventKind says what an Event is.
type EventKind int

// Event kinds.
const (
	// EventMessage is a chat message (a mention, a DM, a reply to the bot,
	// a thread follow-up).
	EventMessage EventKind = iota
	// EventCommand is a slash command, a context-menu command or a
	// shortcut; Command is set.
	EventCommand
	EventStop // a Stop button or the platform's native stop; Stop is set (control.go)
)

// Event is a platform-neutral incoming event.
type Event struct {
	Kind EventKind
	// Platform is the adapter's Name().
	Platform string
	// DedupeIDs are the identities under which this event is claimed,
	// each prefixed by nothing: the bridge prefixes the platform. The event
	// is handled only if every id is claimed for the first time; a retried
	// or double delivery (Slack app_mention + message) then shares at least
	// one id. Example: {"ev:Ev123", "msg:T1:C1:1700000000.000100"}.
	DedupeIDs []string

	// Who.
	User User
	// Where. Workspace is the guild or Slack team the event happened in;
	// the scope of the user's store keys is User.Scope, not Workspace.
	Workspace WorkspaceID
	// WorkspaceName is the server's or workspace's name when the adapter
	// knows it (commands only; "" otherwise): the link confirmation page
	// names it.
	WorkspaceName string
	Channel       ChannelID
	// Thread is the thread id ("" when not in a thread). It is part of the
	// conversation key, except in a DM: a DM channel is one conversation,
	// and Thread there only says where the answer goes.
	Thread ThreadID
	DM     bool
	// WantsThread asks for the answer in a new thread on this message
	// (Discord's auto_thread on a channel mention). The adapter does not
	// open the thread: Thread already holds the id it will have, so that
	// the conversation is the thread's from its first message, and the
	// bridge opens it (Caps.ThreadOpener) only once the message is
	// admitted and its user linked. Until then, and when opening fails,
	// the bridge answers in Channel.
	WantsThread bool

	// What.
	Text      string    // plain text with the bot mention removed
	MessageID MessageID // the triggering message ("" for commands)
	ReplyToID MessageID // the message it replies to, if any
	// Inputs are the attachments and quoted messages the message carries.
	Inputs Inputs
	// Addressed is true when the message was explicitly meant for the bot:
	// a mention, a DM, a reply to one of the bot's messages. A message that
	// is not addressed (a thread follow-up without a mention) is answered
	// only if the user already has a conversation in that thread.
	Addressed bool
	// HumanTrigger is false when the message came from a workflow or an
	// integration rather than a person (Slack native streaming needs a
	// human recipient).
	HumanTrigger bool

	// Command is set for EventCommand.
	Command *Command
	Stop    *Stop // set for EventStop (control.go)

	// Interaction is an adapter-private handle: pass it back in
	// Target.Interaction to answer this interaction.
	Interaction string
}

// User is the person who sent an event.
type User struct {
	ID UserID
	// Scope is the namespace of ID and the scope of the user's store keys
	// (see ScopeID): "" on Discord, the team id on Slack.
	Scope       ScopeID
	DisplayName string
	Locale      string // BCP 47 tag from the platform ("en-US", "zh-CN"), or ""
}

// Command is a platform-neutral command. Name is one of the bridge's command
// names: "link", "unlink", "new", "ask", "whoami", "memory", "note",
// "save" (save a message as a note), "askabout" (ask about a message),
// "sessions", "help". Args is the free text argument (the ask message, the
// memory keyword, the note text, or the text of the message a context-menu
// command targets).
type Command struct {
	Name string
	Args string
}
