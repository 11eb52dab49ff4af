package slack

import (
	"cmp"
	"strings"

	slackapi "github.com/slack-go/slack"
	"github.com/slack-go/slack/slackevents"

	"github.com/secondme-bridge/secondme-bridge/platforms"
)

// isHumanUser reports whether id is a person's user id (U… or W…), which
// native streams need as recipient.
func isHumanUser(id string) bool {
	return len(id) > 1 && (id[0] == 'U' || id[0] == 'W')
}

func isDMChannel(channel string) bool { return strings.HasPrefix(channel, "D") }

// messageDedupeIDs are the identities of one Slack message delivery: the
// event itself and the message (shared by app_mention and its message twin).
func messageDedupeIDs(eventID, team, channel, ts string) []string {
	ids := make([]string, 0, 2)
	if eventID != "" {
		ids = append(ids, "ev:"+eventID)
	}
	return append(ids, "msg:"+team+":"+channel+":"+ts)
}

// translateEventsAPI turns an Events API callback into a bridge event. It
// reports false for everything the bridge must not see: bots (including
// ourselves), edits, deletions, any message subtype, channel messages that
// are neither a mention nor a thread reply, and the message twin of a
// mention. User.DisplayName and User.Locale are filled in later.
func translateEventsAPI(id identity, ev slackevents.EventsAPIEvent) (platforms.Event, bool) {
	cb, ok := ev.Data.(*slackevents.EventsAPICallbackEvent)
	if !ok || ev.Type != slackevents.CallbackEvent {
		return platforms.Event{}, false
	}
	team := cmp.Or(ev.TeamID, id.TeamID)
	switch inner := ev.InnerEvent.Data.(type) {
	case *slackevents.AppMentionEvent:
		return translateMention(id, team, cb.EventID, inner)
	case *slackevents.MessageEvent:
		return translateMessage(id, team, cb.EventID, inner)
	}
	return platforms.Event{}, false
}

// fromBot reports whether a message was posted by a bot (any bot_id, our own
// included) or by no user, or by our own bot user.
func fromBot(id identity, user, botID string) bool {
	return botID != "" || user == "" || user == id.UserID
}

func translateMention(id identity, team, eventID string, m *slackevents.AppMentionEvent) (platforms.Event, bool) {
	if fromBot(id, m.User, m.BotID) || m.Edited != nil || m.Channel == "" || m.TimeStamp == "" {
		return platforms.Event{}, false
	}
	thread := m.ThreadTimeStamp
	if thread == "" {
		thread = m.TimeStamp
	}
	return platforms.Event{
		Kind:         platforms.EventMessage,
		Platform:     Name,
		DedupeIDs:    messageDedupeIDs(eventID, team, m.Channel, m.TimeStamp),
		User:         platforms.User{ID: m.User, Scope: team},
		Workspace:    team,
		Channel:      m.Channel,
		Thread:       thread,
		DM:           isDMChannel(m.Channel),
		Text:         plainText(m.Text, id.UserID),
		MessageID:    m.TimeStamp,
		ReplyToID:    m.ThreadTimeStamp,
		Addressed:    true,
		HumanTrigger: isHumanUser(m.User),
	}, true
}

func translateMessage(id identity, team, eventID string, m *slackevents.MessageEvent) (platforms.Event, bool) {
	if (m.SubType != "" && m.SubType != subtypeFileShare) || fromBot(id, m.User, m.BotID) || m.Channel == "" || m.TimeStamp == "" {
		return platforms.Event{}, false
	}
	if m.Message != nil && ((m.Message.SubType != "" && m.Message.SubType != subtypeFileShare) || m.Message.Edited != nil) {
		return platforms.Event{}, false
	}
	ev := platforms.Event{
		Kind:         platforms.EventMessage,
		Platform:     Name,
		DedupeIDs:    messageDedupeIDs(eventID, team, m.Channel, m.TimeStamp),
		User:         platforms.User{ID: m.User, Scope: team},
		Workspace:    team,
		Channel:      m.Channel,
		Text:         plainText(m.Text, id.UserID),
		MessageID:    m.TimeStamp,
		ReplyToID:    m.ThreadTimeStamp,
		HumanTrigger: isHumanUser(m.User),
	}
	isReply := m.ThreadTimeStamp != "" && m.ThreadTimeStamp != m.TimeStamp
	if m.ChannelType == "im" || (m.ChannelType == "" && isDMChannel(m.Channel)) {
		// Every DM is for the bot. A top-level DM opens a thread on itself:
		// the answer goes there (native streams need a thread) and the thread
		// is the conversation.
		ev.DM, ev.Addressed, ev.Thread = true, true, m.TimeStamp
		if isReply {
			ev.Thread = m.ThreadTimeStamp
		}
		return ev, true
	}
	if mentionsUser(m.Text, id.UserID) {
		// The app_mention twin of this message carries it (same "msg:" id).
		return platforms.Event{}, false
	}
	if !isReply {
		return platforms.Event{}, false
	}
	ev.Thread = m.ThreadTimeStamp // a follow-up: answered only in a conversation
	return ev, true
}

// commandNames maps the /secondme subcommands to the bridge's command names.
var commandNames = map[string]string{
	"link": "link", "unlink": "unlink", "ask": "ask", "new": "new", "whoami": "whoami",
	"memory": "memory", "note": "note", "sessions": "sessions", "help": "help",
}

// parseCommand splits "/secondme <sub> <args>" text into a command; an empty
// or unknown subcommand is "help".
func parseCommand(text, botUserID string) platforms.Command {
	text = strings.TrimSpace(text)
	sub, rest, _ := strings.Cut(text, " ")
	if i := strings.IndexAny(sub, "\n\t"); i >= 0 {
		sub, rest = sub[:i], sub[i+1:]+" "+rest
	}
	name, ok := commandNames[strings.ToLower(sub)]
	if !ok {
		return platforms.Command{Name: "help"}
	}
	return platforms.Command{Name: name, Args: plainText(rest, botUserID)}
}

// Message shortcut callback ids.
const (
	CallbackSave = "save_to_secondme"
	CallbackAsk  = "ask_my_avatar"
)

var shortcutCommands = map[string]string{CallbackSave: "save", CallbackAsk: "askabout"}

// translateSlash turns a slash command into a command event (Interaction is
// set by the caller).
func translateSlash(id identity, c slackapi.SlashCommand) (platforms.Event, bool) {
	if c.UserID == "" || c.ChannelID == "" {
		return platforms.Event{}, false
	}
	team := cmp.Or(c.TeamID, id.TeamID)
	cmd := parseCommand(c.Text, id.UserID)
	dedupe := "cmd:" + team + ":" + c.TriggerID
	if c.TriggerID == "" {
		dedupe = "cmd:" + team + ":" + c.ChannelID + ":" + c.UserID + ":" + c.Text
	}
	return platforms.Event{
		Kind:          platforms.EventCommand,
		Platform:      Name,
		DedupeIDs:     []string{dedupe},
		User:          platforms.User{ID: c.UserID, Scope: team, DisplayName: c.UserName},
		Workspace:     team,
		WorkspaceName: c.TeamDomain,
		Channel:       c.ChannelID,
		DM:            isDMChannel(c.ChannelID) || c.ChannelName == "directmessage",
		Text:          cmd.Args,
		Addressed:     true,
		HumanTrigger:  isHumanUser(c.UserID),
		Command:       &cmd,
	}, true
}

// translateShortcut turns a message shortcut into a command event; other
// interactions (button clicks on link buttons, …) report false.
func translateShortcut(id identity, cb slackapi.InteractionCallback) (platforms.Event, bool) {
	name, ok := shortcutCommands[cb.CallbackID]
	if cb.Type != slackapi.InteractionTypeMessageAction || !ok || cb.User.ID == "" || cb.Channel.ID == "" {
		return platforms.Event{}, false
	}
	team := cmp.Or(cb.Team.ID, id.TeamID)
	msgTS := cmp.Or(cb.Message.Timestamp, cb.MessageTs)
	thread := cmp.Or(cb.Message.ThreadTimestamp, msgTS)
	cmd := platforms.Command{Name: name, Args: plainText(cb.Message.Text, id.UserID)}
	dedupe := "act:" + team + ":" + cb.TriggerID
	if cb.TriggerID == "" {
		dedupe = "act:" + team + ":" + cb.Channel.ID + ":" + msgTS + ":" + cb.User.ID + ":" + name
	}
	return platforms.Event{
		Kind:         platforms.EventCommand,
		Platform:     Name,
		DedupeIDs:    []string{dedupe},
		User:         platforms.User{ID: cb.User.ID, Scope: team, DisplayName: cb.User.Name},
		Workspace:    team,
		Channel:      cb.Channel.ID,
		Thread:       thread,
		DM:           isDMChannel(cb.Channel.ID),
		Text:         cmd.Args,
		ReplyToID:    msgTS,
		Addressed:    true,
		HumanTrigger: isHumanUser(cb.User.ID),
		Command:      &cmd,
	}, true
}
