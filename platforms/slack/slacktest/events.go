package slacktest

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"
)

// InnerEvent is the "event" of an Events API callback: an app_mention or a
// message (any field Slack may send that the bridge looks at).
type InnerEvent struct {
	Type        string `json:"type"` // "app_mention", "message", …
	Subtype     string `json:"subtype,omitempty"`
	User        string `json:"user,omitempty"`
	BotID       string `json:"bot_id,omitempty"`
	Text        string `json:"text"`
	Channel     string `json:"channel"`
	ChannelType string `json:"channel_type,omitempty"` // message events: channel, group, im, mpim
	TS          string `json:"ts"`
	ThreadTS    string `json:"thread_ts,omitempty"`
	EventTS     string `json:"event_ts"`
	Team        string `json:"team,omitempty"`
	// Edited marks an edited message (app_mention for an edit).
	Edited *Edited `json:"edited,omitempty"`
	// Message is the new message of a message_changed event.
	Message json.RawMessage `json:"message,omitempty"`
	// Tab is app_home_opened's tab ("home", "messages").
	Tab string `json:"tab,omitempty"`
	// StreamingMessageTS lists, in agent_session_stopped, the streams Slack
	// halted (an empty list when none was active).
	StreamingMessageTS []string `json:"streaming_message_ts,omitempty"`
	// Context is app_context_changed's (and app_home_opened's) view context.
	Context json.RawMessage `json:"context,omitempty"`
	// Files are attached files (Subtype "file_share" on message events).
	Files []File `json:"files,omitempty"`
	// Attachments are message attachments: a forwarded message is one with
	// IsShare.
	Attachments []Share `json:"attachments,omitempty"`
}

// Share is the attachment Slack adds to a message that forwards another
// ("Share message"), with the forwarded text, author and files.
type Share struct {
	IsShare     bool   `json:"is_share,omitempty"`
	IsMsgUnfurl bool   `json:"is_msg_unfurl,omitempty"`
	AuthorName  string `json:"author_name,omitempty"`
	Text        string `json:"text,omitempty"`
	Fallback    string `json:"fallback,omitempty"`
	Files       []File `json:"files,omitempty"`
}

// Edited is the "edited" field of a message.
type Edited struct {
	User string `json:"user"`
	TS   string `json:"ts"`
}

// ChannelType is the channel_type Slack gives a message in channel, from the
// id's first letter.
func ChannelType(channel string) string {
	switch {
	case strings.HasPrefix(channel, "D"):
		return "im"
	case strings.HasPrefix(channel, "G"):
		return "group"
	default:
		return "channel"
	}
}

// EventCallback builds the Events API event_callback body for inner.
func EventCallback(teamID, appID, eventID string, inner any) json.RawMessage {
	b, _ := json.Marshal(map[string]any{
		"token": "verification-token-unused", "team_id": teamID, "api_app_id": appID,
		"type": "event_callback", "event_id": eventID, "event_time": time.Now().Unix(),
		"event": inner, "authorizations": []map[string]any{{"team_id": teamID, "is_bot": true}},
	})
	return b
}

// SendEvent delivers ev as a new Events API event (fresh event_id) and
// returns the ack.
func (s *Server) SendEvent(ctx context.Context, ev InnerEvent) (Ack, error) {
	return s.SendEventID(ctx, s.nextID("Ev"), ev, 0)
}

// SendEventID delivers ev with the given event_id; retryAttempt > 0 marks a
// redelivery (Socket Mode retry_attempt, HTTP X-Slack-Retry-Num).
func (s *Server) SendEventID(ctx context.Context, eventID string, ev InnerEvent, retryAttempt int) (Ack, error) {
	if ev.EventTS == "" {
		ev.EventTS = ev.TS
	}
	return s.deliver(ctx, "events_api", EventCallback(s.opts.TeamID, s.opts.AppID, eventID, ev), retryAttempt)
}

// SlashCommand is a slash command invocation. Empty fields get defaults:
// Command "/secondme", a fresh ResponseURL and TriggerID, UserName from User.
type SlashCommand struct {
	User        string
	UserName    string
	Channel     string
	ChannelName string
	Command     string
	Text        string
	ResponseURL string
	TriggerID   string
	// Team is the workspace (default the fake's own team).
	Team string
}

func (s *Server) slashFields(c SlashCommand) map[string]string {
	if c.Team == "" {
		c.Team = s.opts.TeamID
	}
	domain := c.Team
	if c.Team == s.opts.TeamID {
		domain = s.opts.TeamName
	}
	if c.Command == "" {
		c.Command = "/secondme"
	}
	if c.ResponseURL == "" {
		c.ResponseURL = s.NewResponseURL()
	}
	if c.TriggerID == "" {
		c.TriggerID = s.nextID("trig-")
	}
	if c.UserName == "" {
		c.UserName = strings.ToLower(c.User)
	}
	if c.ChannelName == "" {
		c.ChannelName = "general"
		if strings.HasPrefix(c.Channel, "D") {
			c.ChannelName = "directmessage"
		}
	}
	return map[string]string{
		"token": "verification-token-unused", "team_id": c.Team, "team_domain": strings.ToLower(domain),
		"channel_id": c.Channel, "channel_name": c.ChannelName, "user_id": c.User, "user_name": c.UserName,
		"command": c.Command, "text": c.Text, "response_url": c.ResponseURL, "trigger_id": c.TriggerID,
		"api_app_id": s.opts.AppID, "is_enterprise_install": "false",
	}
}

// SendSlashCommand delivers a slash command and returns the ack; the
// ack's ResponseURL is the command's response_url.
func (s *Server) SendSlashCommand(ctx context.Context, c SlashCommand) (Ack, error) {
	fields := s.slashFields(c)
	b, err := json.Marshal(fields)
	if err != nil {
		return Ack{}, fmt.Errorf("marshal slash command: %w", err)
	}
	a, err := s.deliver(ctx, "slash_commands", b, 0)
	a.ResponseURL = fields["response_url"]
	return a, err
}

// Shortcut is a message shortcut invocation on a message.
type Shortcut struct {
	User        string
	CallbackID  string // "save_to_secondme", "ask_my_avatar"
	Channel     string
	MessageTS   string
	MessageText string
	MessageUser string // author of the message (default: User)
	ThreadTS    string // the message's thread, if it is a reply
	ResponseURL string
	TriggerID   string
}

// ShortcutPayload builds the interactive payload of a message shortcut.
func (s *Server) ShortcutPayload(sc Shortcut) json.RawMessage {
	if sc.MessageUser == "" {
		sc.MessageUser = sc.User
	}
	msg := map[string]any{"type": "message", "user": sc.MessageUser, "text": sc.MessageText, "ts": sc.MessageTS}
	if sc.ThreadTS != "" {
		msg["thread_ts"] = sc.ThreadTS
	}
	b, _ := json.Marshal(map[string]any{
		"type": "message_action", "token": "verification-token-unused", "action_ts": "1700000000.1",
		"callback_id": sc.CallbackID, "trigger_id": sc.TriggerID, "response_url": sc.ResponseURL,
		"team":    map[string]any{"id": s.opts.TeamID, "domain": strings.ToLower(s.opts.TeamName)},
		"channel": map[string]any{"id": sc.Channel, "name": "general"},
		"user":    map[string]any{"id": sc.User, "name": strings.ToLower(sc.User), "team_id": s.opts.TeamID},
		"message": msg, "message_ts": sc.MessageTS,
	})
	return b
}

// SendShortcut delivers a message shortcut and returns the ack (with its
// ResponseURL).
func (s *Server) SendShortcut(ctx context.Context, sc Shortcut) (Ack, error) {
	return s.deliverInteractive(ctx, &sc.ResponseURL, &sc.TriggerID, func() json.RawMessage { return s.ShortcutPayload(sc) })
}

// deliverInteractive fills in a fresh response_url and trigger id where
// they are empty, delivers the interactive payload made after that and
// returns the ack, with its ResponseURL.
func (s *Server) deliverInteractive(ctx context.Context, responseURL, triggerID *string, payload func() json.RawMessage) (Ack, error) {
	if *responseURL == "" {
		*responseURL = s.NewResponseURL()
	}
	if *triggerID == "" {
		*triggerID = s.nextID("trig-")
	}
	a, err := s.deliver(ctx, "interactive", payload(), 0)
	a.ResponseURL = *responseURL
	return a, err
}

// Posted is a message a simulated user posted.
type Posted struct {
	Channel  string
	TS       string
	ThreadTS string
	EventIDs []string // one per delivered event (two for a mention)
	Events   []InnerEvent
	Acks     []Ack
}

// ReplyThread is the thread the bot answers in: the message's thread, or the
// message itself when it is top-level.
func (p Posted) ReplyThread() string {
	if p.ThreadTS != "" {
		return p.ThreadTS
	}
	return p.TS
}

// Redeliver sends the i-th event of p again with its original event_id, as a
// Slack retry with retry attempt n.
func (s *Server) Redeliver(ctx context.Context, p Posted, i, attempt int) (Ack, error) {
	return s.SendEventID(ctx, p.EventIDs[i], p.Events[i], attempt)
}

func (s *Server) post(ctx context.Context, user, channel, threadTS, text string, events ...string) (Posted, error) {
	return s.postIn(ctx, s.opts.TeamID, user, channel, threadTS, text, events...)
}

// postIn is post in team.
func (s *Server) postIn(ctx context.Context, team, user, channel, threadTS, text string, events ...string) (Posted, error) {
	ts := s.NewTS()
	s.mu.Lock()
	s.addMessage(&Message{Channel: channel, TS: ts, ThreadTS: threadTS, User: user, Text: text})
	s.mu.Unlock()
	p := Posted{Channel: channel, TS: ts, ThreadTS: threadTS}
	for _, typ := range events {
		ev := InnerEvent{Type: typ, User: user, Text: text, Channel: channel, TS: ts, ThreadTS: threadTS, Team: team}
		if typ == "message" {
			ev.ChannelType = ChannelType(channel)
		}
		id := s.nextID("Ev")
		ev.EventTS = ev.TS
		a, err := s.deliver(ctx, "events_api", EventCallback(team, s.opts.AppID, id, ev), 0)
		p.EventIDs, p.Events, p.Acks = append(p.EventIDs, id), append(p.Events, ev), append(p.Acks, a)
		if err != nil {
			return p, err
		}
	}
	return p, nil
}

// Mention simulates user writing "<@BOT> text" in channel (in threadTS, if
// set). Like Slack, it delivers both an app_mention and the message event.
func (s *Server) Mention(ctx context.Context, user, channel, threadTS, text string) (Posted, error) {
	return s.post(ctx, user, channel, threadTS, "<@"+s.opts.BotUserID+"> "+text, "app_mention", "message")
}

// MentionIn is Mention in an installed workspace (see AddWorkspace): the
// events carry team and mention that workspace's bot user.
func (s *Server) MentionIn(ctx context.Context, team, user, channel, threadTS, text string) (Posted, error) {
	s.mu.Lock()
	bot := "UBOT" + team
	if st := s.teams[team]; st != nil {
		bot = st.ws.BotUserID
	}
	s.mu.Unlock()
	return s.postIn(ctx, team, user, channel, threadTS, "<@"+bot+"> "+text, "app_mention", "message")
}

// DM simulates user writing text to the bot in their DM (in threadTS, if
// set); the DM channel is DMChannel(user).
func (s *Server) DM(ctx context.Context, user, threadTS, text string) (Posted, error) {
	return s.post(ctx, user, s.DMChannel(user), threadTS, text, "message")
}

// Say simulates user writing text in channel without mentioning the bot (a
// thread follow-up when threadTS is set).
func (s *Server) Say(ctx context.Context, user, channel, threadTS, text string) (Posted, error) {
	return s.post(ctx, user, channel, threadTS, text, "message")
}
