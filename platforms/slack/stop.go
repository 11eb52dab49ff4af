package slack

import (
	"cmp"
	"fmt"
	"strings"

	slackapi "github.com/slack-go/slack"

	"github.com/secondme-bridge/secondme-bridge/platforms"
)

// The Stop button of a streaming reply (post+update mode): a Block Kit
// button in an actions block of its own, whose value is the reply id and
// nothing else (no token, no user: who may stop is the bridge's decision).
const (
	StopActionID = "secondme_stop"
	stopBlockID  = "secondme_stop"
)

// stopBlock renders s, or reports why it cannot be shown.
func stopBlock(s *platforms.StopControl) (slackapi.Block, error) {
	if !platforms.ValidStopReplyID(s.ReplyID) {
		return nil, fmt.Errorf("slack: stop control: reply id must be 1..%d characters of [A-Za-z0-9._-]", platforms.StopReplyIDMaxLen)
	}
	label := neutralize(strings.TrimSpace(s.Label))
	if label == "" {
		return nil, fmt.Errorf("slack: stop control needs a label")
	}
	if runeCount(label) > maxButtonLabel {
		label = string([]rune(label)[:maxButtonLabel-1]) + "…"
	}
	btn := slackapi.NewButtonBlockElement(StopActionID, s.ReplyID,
		slackapi.NewTextBlockObject(slackapi.PlainTextType, label, false, false))
	return slackapi.NewActionBlock(stopBlockID, btn), nil
}

// translateStopClick turns a click on a Stop button (block_actions) into an
// EventStop; anything else, and a forged value, reports false. The
// Interaction is sealed in by the caller (its response_url answers the
// clicker privately).
func translateStopClick(id identity, cb slackapi.InteractionCallback) (platforms.Event, bool) {
	if cb.Type != slackapi.InteractionTypeBlockActions || cb.User.ID == "" {
		return platforms.Event{}, false
	}
	var act *slackapi.BlockAction
	for _, a := range cb.ActionCallback.BlockActions {
		if a != nil && a.ActionID == StopActionID {
			act = a
			break
		}
	}
	if act == nil || !platforms.ValidStopReplyID(act.Value) {
		return platforms.Event{}, false
	}
	channel := cmp.Or(cb.Container.ChannelID, cb.Channel.ID)
	msgTS := cmp.Or(cb.Container.MessageTs, cb.Message.Timestamp)
	if channel == "" || msgTS == "" {
		return platforms.Event{}, false
	}
	team := cmp.Or(cb.Team.ID, id.TeamID)
	dedupe := "stop:" + team + ":" + cb.TriggerID
	if cb.TriggerID == "" {
		dedupe = "stop:" + team + ":" + channel + ":" + msgTS + ":" + cb.User.ID + ":" + cmp.Or(act.ActionTs, cb.ActionTs)
	}
	return platforms.Event{
		Kind:         platforms.EventStop,
		Platform:     Name,
		DedupeIDs:    []string{dedupe},
		User:         platforms.User{ID: platforms.UserID(cb.User.ID), Scope: platforms.ScopeID(team), DisplayName: cb.User.Name},
		Workspace:    platforms.WorkspaceID(team),
		Channel:      platforms.ChannelID(channel),
		Thread:       platforms.ThreadID(cmp.Or(cb.Container.ThreadTs, cb.Message.ThreadTimestamp)),
		DM:           isDMChannel(channel),
		MessageID:    platforms.MessageID(msgTS),
		Addressed:    true,
		HumanTrigger: isHumanUser(cb.User.ID),
		Stop:         &platforms.Stop{ReplyID: act.Value},
	}, true
}

// translateSessionStopped turns agent_session_stopped (the user pressed
// Slack's native stop in the agent view) into an EventStop naming the
// conversation: Slack has already halted the streams it lists; the bridge
// cancels the upstream reply and sets the session's status itself.
func translateSessionStopped(team, eventID string, e agentSessionStopped) (platforms.Event, bool) {
	if e.Channel == "" || e.ThreadTS == "" || e.User == "" {
		return platforms.Event{}, false
	}
	ids := []string{"stopped:" + team + ":" + e.Channel + ":" + e.ThreadTS + ":" + e.EventTS}
	if eventID != "" {
		ids = append([]string{"ev:" + eventID}, ids...)
	}
	return platforms.Event{
		Kind:         platforms.EventStop,
		Platform:     Name,
		DedupeIDs:    ids,
		User:         platforms.User{ID: platforms.UserID(e.User), Scope: platforms.ScopeID(team)},
		Workspace:    platforms.WorkspaceID(team),
		Channel:      platforms.ChannelID(e.Channel),
		Thread:       platforms.ThreadID(e.ThreadTS),
		DM:           isDMChannel(e.Channel),
		Addressed:    true,
		HumanTrigger: isHumanUser(e.User),
		Stop:         &platforms.Stop{Native: true},
	}, true
}

// agentSessionStopped is the part of agent_session_stopped the bridge reads.
type agentSessionStopped struct {
	Channel, ThreadTS, User, EventTS string
}
