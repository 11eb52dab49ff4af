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
	case *slackevents.AgentSessionStoppedEvent:
		return translateSessionStopped(team, cb.EventID, agentSessionStopped{
			Channel: inner.Channel, ThreadTS: inner.ThreadTimestamp, User: inner.User, EventTS: inner.EventTimestamp,
		})
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
		User:         platforms.User{ID: platforms.UserID(m.User), Scope: platforms.ScopeID(team)},
		Workspace:    platforms.WorkspaceID(team),
		Channel:      platforms.ChannelID(m.Channel),
		Thread:       platforms.ThreadID(thread),
		DM:           isDMChannel(m.Channel),
		Text:         plainText(m.Text, id.UserID),
		MessageID:    platforms.MessageID(m.TimeStamp),
		ReplyToID:    platforms.MessageID(m.ThreadTimeStamp),
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
		User:         platforms.User{ID: platforms.UserID(m.User), Scope: platforms.ScopeID(team)},
		Workspace:    platforms.WorkspaceID(team),
		Channel:      platforms.ChannelID(m.Channel),
		Text:         plainText(m.Text, id.UserID),
		MessageID:    platforms.MessageID(m.TimeStamp),
		ReplyToID:    platforms.MessageID(m.ThreadTimeStamp),
		HumanTrigger: isHumanUser(m.User),
	}
	isReply := m.ThreadTimeStamp != "" && m.ThreadTimeStamp != m.TimeStamp
	if m.ChannelType == "im" || (m.ChannelType == "" && isDMChannel(m.Channel)) {
		// Every DM is for the bot. A top-level DM opens a thread on itself:
		// the answer goes there (native streams need a thread) and the thread
		// is the conversation.
		ev.DM, ev.Addressed, ev.Thread = true, true, platforms.ThreadID(m.TimeStamp)
		if isReply {
			ev.Thread = platforms.ThreadID(m.ThreadTimeStamp)
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
	ev.Thread = platforms.ThreadID(m.ThreadTimeStamp) // a follow-up: answered only in a conversation
	return ev, true
}

// commandSet is what the adapter derives from Config.Commands: the
// /secondme subcommands and the message shortcuts (by callback id), each
// mapped to the bridge's command name.
type commandSet struct {
	names     map[string]string
	shortcuts map[string]string
}

func newCommandSet(specs []platforms.CommandSpec) commandSet {
	cs := commandSet{names: map[string]string{}, shortcuts: map[string]string{}}
	for _, sp := range specs {
		if sp.Slash {
			cs.names[sp.Name] = sp.Name
		}
		if sp.ActionID != "" {
			cs.shortcuts[sp.ActionID] = sp.Name
		}
	}
	return cs
}

// parseCommand splits "/secondme <sub> <args>" text into a command; an empty
// or unknown subcommand is "help".
func (cs commandSet) parseCommand(text, botUserID string) platforms.Command {
	text = strings.TrimSpace(text)
	sub, rest, _ := strings.Cut(text, " ")
	if i := strings.IndexAny(sub, "\n\t"); i >= 0 {
		sub, rest = sub[:i], sub[i+1:]+" "+rest
	}
	name, ok := cs.names[strings.ToLower(sub)]
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

// translateSlash turns a slash command into a command event (Interaction is
// set by the caller).
func (cs commandSet) translateSlash(id identity, c slackapi.SlashCommand) (platforms.Event, bool) {
	if c.UserID == "" || c.ChannelID == "" {
		return platforms.Event{}, false
	}
	team := cmp.Or(c.TeamID, id.TeamID)
	cmd := cs.parseCommand(c.Text, id.UserID)
	dedupe := "cmd:" + team + ":" + c.TriggerID
	if c.TriggerID == "" {
		dedupe = "cmd:" + team + ":" + c.ChannelID + ":" + c.UserID + ":" + c.Text
	}
	return platforms.Event{
		Kind:          platforms.EventCommand,
		Platform:      Name,
		DedupeIDs:     []string{dedupe},
		User:          platforms.User{ID: platforms.UserID(c.UserID), Scope: platforms.ScopeID(team), DisplayName: c.UserName},
		Workspace:     platforms.WorkspaceID(team),
		WorkspaceName: c.TeamDomain,
		Channel:       platforms.ChannelID(c.ChannelID),
		DM:            isDMChannel(c.ChannelID) || c.ChannelName == "directmessage",
		Text:          cmd.Args,
		Addressed:     true,
		HumanTrigger:  isHumanUser(c.UserID),
		Command:       &cmd,
	}, true
}

// translateShortcut turns a message shortcut into a command event; other
// interactions (button clicks on link buttons, …) report false.
func (cs commandSet) translateShortcut(id identity, cb slackapi.InteractionCallback) (platforms.Event, bool) {
	name, ok := cs.shortcuts[cb.CallbackID]
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
		User:         platforms.User{ID: platforms.UserID(cb.User.ID), Scope: platforms.ScopeID(team), DisplayName: cb.User.Name},
		Workspace:    platforms.WorkspaceID(team),
		Channel:      platforms.ChannelID(cb.Channel.ID),
		Thread:       platforms.ThreadID(thread),
		DM:           isDMChannel(cb.Channel.ID),
		Text:         cmd.Args,
		ReplyToID:    platforms.MessageID(msgTS),
		Addressed:    true,
		HumanTrigger: isHumanUser(cb.User.ID),
		Command:      &cmd,
	}, true
}
