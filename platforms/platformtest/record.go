package platformtest

import (
	"time"

	"github.com/secondme-bridge/secondme-bridge/platforms"
)

// CallKind names a platform call.
type CallKind string

// Call kinds, one per platform method that does I/O.
const (
	CallSend         CallKind = "send"
	CallEdit         CallKind = "edit"
	CallStartStream  CallKind = "start_stream"
	CallAppendStream CallKind = "append_stream"
	CallStopStream   CallKind = "stop_stream"
	CallTyping       CallKind = "typing"
	CallEphemeral    CallKind = "ephemeral"
	CallDelete       CallKind = "delete"
	CallOpenThread   CallKind = "open_thread"
	// Agent session surface (Options.AgentSessions).
	CallSessionStatus CallKind = "session_status"
	CallSessionTitle  CallKind = "session_title"
)

// Call is one recorded platform call, successful or not.
type Call struct {
	// Seq numbers the calls from 1, in the order they completed.
	Seq  int
	Kind CallKind
	// Target is set for Send, StartStream, Typing, SendEphemeral,
	// OpenThread and the session calls.
	Target platforms.Target
	// Ref is the message acted on; for a successful Send or StartStream,
	// the new message.
	Ref platforms.MessageRef
	// Thread is the id a successful OpenThread returned.
	Thread platforms.ThreadID
	// Status is the status SetSessionStatus set.
	Status platforms.SessionStatus
	// MovedTo is the ref a successful Edit returned when it moved the
	// message (Options.MoveOnEdit), else zero.
	MovedTo platforms.MessageRef
	// Text is the message text, the delta for AppendStream, the name
	// asked for OpenThread, or the title SetSessionTitle set.
	Text    string
	Buttons []platforms.LinkButton
	// Stop is the Stop control the message carried (Send, Edit).
	Stop *platforms.StopControl
	// As is the persona the call asked for (Send, Edit: Message.As;
	// StartStream: StartStreamAs), nil for the bot.
	As *platforms.Persona
	// At is when the call completed (after Options.Latency).
	At time.Time
	// Err is what the call returned.
	Err error
}

// StreamState is the native-stream state of a message.
type StreamState int

// Stream states.
const (
	// StreamNone: the message was posted with Send, not streamed.
	StreamNone StreamState = iota
	// StreamOpen: StartStream succeeded, StopStream not yet.
	StreamOpen
	// StreamClosed: StopStream succeeded.
	StreamClosed
)

// String returns "none", "open" or "closed".
func (s StreamState) String() string {
	switch s {
	case StreamOpen:
		return "open"
	case StreamClosed:
		return "closed"
	}
	return "none"
}

// Message is the current state of a posted message.
type Message struct {
	Ref     platforms.MessageRef
	Target  platforms.Target
	Text    string // the latest full text (for a stream, all deltas so far)
	Buttons []platforms.LinkButton
	// Stop is the Stop button the message shows now (nil: none; the final
	// edit must remove it).
	Stop *platforms.StopControl
	// As is the persona the message was posted under (nil: the bot). Like
	// Discord's webhook messages and Slack's, it keeps that identity
	// whatever later edits ask for; Call.As records what they asked.
	As      *platforms.Persona
	Edits   int // successful Edit calls
	Appends int // successful AppendStream calls
	Deleted bool
	Stream  StreamState
	Created time.Time
	Updated time.Time
}
