package platforms

import "context"

// StopControl asks the adapter to show a Stop button on a streaming
// message (Message.Stop). The bridge sets it on every edit while the reply
// streams and leaves it nil on the final edit: an adapter then removes the
// button, so it never outlives the stream. An adapter that cannot show
// controls ignores it.
type StopControl struct {
	// ReplyID names the reply the button stops. It travels in the button's
	// payload (Discord custom_id, Slack button value), so it must carry no
	// secret: the bridge's random reply id, 1..64 bytes of [A-Za-z0-9._-].
	ReplyID string
	// Label is the button's text, localized by the bridge ("Stop", "停止").
	Label string
}

// Stop is the payload of an EventStop: someone asked a streaming reply to
// stop. The adapter has already acknowledged the click to the platform;
// Event.User is who asked (the bridge refuses anyone but the person the
// reply answers) and Event.Interaction, when set, lets the bridge answer
// them privately (SendEphemeral with Target.Interaction).
type Stop struct {
	// ReplyID is the StopControl.ReplyID of the clicked button. It is ""
	// for a native stop (Slack's agent view stop, agent_session_stopped),
	// which names a conversation, not a reply: the bridge then stops the
	// reply streaming in Event's Channel and Thread for Event.User.
	ReplyID string
	// Native is true when the platform's own stop control fired rather
	// than the bridge's button.
	Native bool
}

// StopReplyIDMaxLen is the longest StopControl.ReplyID an adapter accepts
// back from a button payload; anything longer is a forged payload.
const StopReplyIDMaxLen = 64

// ValidStopReplyID reports whether id may be a StopControl.ReplyID (1..64
// bytes of [A-Za-z0-9._-]). Adapters check a button's payload with it and
// drop anything else before it reaches the bridge.
func ValidStopReplyID(id string) bool {
	if id == "" || len(id) > StopReplyIDMaxLen {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '.' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

// AgentSessions is a platform's agent session surface (Slack's agent view
// and the app's Messages tab): a conversation thread is a session with a
// status (Slack shows a native stop button while it is processing) and a
// title. The bridge marks the session SessionProcessing when a reply
// starts and SessionActive when it ends (stopped or not), and titles it
// from the first message of a conversation. An adapter whose workspace
// lacks the surface returns nil and does nothing (it latches the surface
// off by itself, as native streaming does), so the bridge never needs to
// tell the cases apart; only transient failures and 429s are returned.
type AgentSessions interface {
	// SetSessionStatus sets the status of the session of `to` (its
	// Channel and Thread; nothing happens without a thread).
	SetSessionStatus(ctx context.Context, to Target, status SessionStatus) error
	// SetSessionTitle titles the session of `to`; the adapter shortens a
	// title beyond the platform's limit.
	SetSessionTitle(ctx context.Context, to Target, title string) error
}

// SessionStatus is an agent session's lifecycle status.
type SessionStatus int

// Session statuses.
const (
	// SessionActive: the session is open and the avatar is not working.
	SessionActive SessionStatus = iota
	// SessionProcessing: the avatar is answering (Slack shows its stop
	// button).
	SessionProcessing
)
