package slacktest

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"unicode/utf8"
)

// AgentSession is the state of one agent session (a thread) as
// agents.sessions.setStatus and agents.sessions.rename left it.
type AgentSession struct {
	Channel, ThreadTS string
	Status            string   // processing, active, suspended, closed
	Statuses          []string // every status set, in order
	Title             string
	Initiator         string
}

// Prompt is one suggested prompt.
type Prompt struct {
	Title   string `json:"title"`
	Message string `json:"message"`
}

// agentState is the fake's agent surface: sessions by channel/thread,
// suggested prompts by channel/thread ("" thread: the Messages tab), and
// the teams without the surface.
type agentState struct {
	sessions map[string]*AgentSession
	prompts  map[string][]Prompt
	off      map[string]bool
}

// SetAgentSurface turns the agent surface on or off for team (on by
// default). When off, agents.sessions.* and
// assistant.threads.setSuggestedPrompts answer "not_allowed", as Slack
// does for an app not declared as an agent.
func (s *Server) SetAgentSurface(team string, enabled bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.agent.off[team] = !enabled
}

// Session returns the agent session of channel/thread.
func (s *Server) Session(channel, threadTS string) (AgentSession, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	a, ok := s.agent.sessions[channel+"/"+threadTS]
	if !ok {
		return AgentSession{}, false
	}
	out := *a
	out.Statuses = append([]string(nil), a.Statuses...)
	return out, true
}

// SuggestedPrompts returns the prompts set in channel (threadTS "" for the
// Messages tab).
func (s *Server) SuggestedPrompts(channel, threadTS string) []Prompt {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Prompt(nil), s.agent.prompts[channel+"/"+threadTS]...)
}

var sessionStatuses = map[string]bool{"processing": true, "active": true, "suspended": true, "closed": true}

const maxSessionTitle = 200

// agentMethod serves the agent surface's Web API methods for team.
func (s *Server) agentMethod(method, team string, form url.Values) (apiResult, bool) {
	switch method {
	case "agents.sessions.setStatus", "agents.sessions.rename", "assistant.threads.setSuggestedPrompts":
	default:
		return apiResult{}, false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.agent.off[team] {
		return slackErr("not_allowed"), true
	}
	ch, thread := form.Get("channel_id"), form.Get("thread_ts")
	key := ch + "/" + thread
	switch method {
	case "agents.sessions.setStatus":
		st := form.Get("status")
		switch {
		case ch == "" || thread == "":
			return slackErr("invalid_arguments"), true
		case !sessionStatuses[st]:
			return slackErr("invalid_status"), true
		case utf8.RuneCountInString(form.Get("title")) > maxSessionTitle:
			return slackErr("invalid_title"), true
		}
		a, found := s.agent.sessions[key]
		if !found {
			a = &AgentSession{Channel: ch, ThreadTS: thread, Title: form.Get("title"), Initiator: form.Get("initiator_user_id")}
			s.agent.sessions[key] = a
		}
		a.Status, a.Statuses = st, append(a.Statuses, st)
		return ok(map[string]any{"status": st, "agent_status": st, "title": a.Title}), true
	case "agents.sessions.rename":
		title := form.Get("title")
		if ch == "" || thread == "" || strings.TrimSpace(title) == "" || utf8.RuneCountInString(title) > maxSessionTitle {
			return slackErr("invalid_arguments"), true
		}
		a, found := s.agent.sessions[key]
		if !found {
			return slackErr("session_not_found"), true
		}
		a.Title = title
		s.sent = append(s.sent, title)
		return ok(map[string]any{"title": title}), true
	default: // assistant.threads.setSuggestedPrompts
		var ps []Prompt
		if ch == "" || json.Unmarshal([]byte(form.Get("prompts")), &ps) != nil || len(ps) == 0 || len(ps) > 4 {
			return slackErr("invalid_arguments"), true
		}
		for _, p := range ps {
			if p.Title == "" || p.Message == "" {
				return slackErr("invalid_arguments"), true
			}
		}
		for _, p := range ps {
			s.sent = append(s.sent, p.Title, p.Message) // checked by Pings
		}
		s.agent.prompts[key] = ps
		return ok(nil), true
	}
}

// StopSession presses the native stop of the agent session in
// channel/thread as user: like Slack, it halts the bot's streams still
// open in the thread (without touching the session's status, which the
// app must set) and delivers agent_session_stopped listing them.
func (s *Server) StopSession(ctx context.Context, user, channel, threadTS string) (Ack, []string, error) {
	s.mu.Lock()
	halted := []string{}
	for _, m := range s.messages {
		if m.Channel == channel && m.ThreadTS == threadTS && m.Stream && !m.Stopped {
			m.Stopped = true
			halted = append(halted, m.TS)
		}
	}
	s.mu.Unlock()
	ack, err := s.SendEvent(ctx, InnerEvent{
		Type: "agent_session_stopped", User: user, Channel: channel, ThreadTS: threadTS,
		EventTS: s.NewTS(), StreamingMessageTS: halted,
	})
	return ack, halted, err
}

// BlockAction is a click on a Block Kit button.
type BlockAction struct {
	User, Channel, MessageTS, ThreadTS string
	ActionID, BlockID, Value           string
	TriggerID, ResponseURL             string
	// Team is the workspace (default the fake's own team).
	Team string
}

// BlockActionPayload builds the interactive payload of a block_actions
// click (any field may be hostile: the fake sends what it is given).
func (s *Server) BlockActionPayload(b BlockAction) json.RawMessage {
	team := b.Team
	if team == "" {
		team = s.opts.TeamID
	}
	container := map[string]any{"type": "message", "message_ts": b.MessageTS, "channel_id": b.Channel, "is_ephemeral": false}
	if b.ThreadTS != "" {
		container["thread_ts"] = b.ThreadTS
	}
	raw, _ := json.Marshal(map[string]any{
		"type": "block_actions", "token": "verification-token-unused", "trigger_id": b.TriggerID,
		"response_url": b.ResponseURL, "api_app_id": s.opts.AppID,
		"team":      map[string]any{"id": team, "domain": strings.ToLower(s.opts.TeamName)},
		"user":      map[string]any{"id": b.User, "username": strings.ToLower(b.User), "team_id": team},
		"channel":   map[string]any{"id": b.Channel, "name": "general"},
		"container": container,
		"message":   map[string]any{"type": "message", "ts": b.MessageTS, "thread_ts": b.ThreadTS},
		"actions": []any{map[string]any{
			"type": "button", "action_id": b.ActionID, "block_id": b.BlockID, "value": b.Value,
			"action_ts": s.NewTS(), "text": map[string]any{"type": "plain_text", "text": "button"},
		}},
	})
	return raw
}

// SendBlockAction delivers b as is (fresh trigger id and response_url when
// empty) and returns the ack, with its ResponseURL.
func (s *Server) SendBlockAction(ctx context.Context, b BlockAction) (Ack, error) {
	return s.deliverInteractive(ctx, &b.ResponseURL, &b.TriggerID, func() json.RawMessage { return s.BlockActionPayload(b) })
}

// Click clicks, as user, the button actionID on the bot message
// channel/ts, as Slack does: only a button the message carries now can be
// clicked, and its value travels in the payload.
func (s *Server) Click(ctx context.Context, user, channel, ts, actionID string) (Ack, error) {
	s.mu.Lock()
	m, found := s.byKey[channel+"/"+ts]
	var blocks json.RawMessage
	thread := ""
	if found && !m.Deleted {
		blocks, thread = m.Blocks, m.ThreadTS
	}
	s.mu.Unlock()
	blockID, value, ok := findButton(blocks, actionID)
	if !ok {
		return Ack{}, fmt.Errorf("slacktest: click: message %s/%s has no button %q", channel, ts, actionID)
	}
	return s.SendBlockAction(ctx, BlockAction{
		User: user, Channel: channel, MessageTS: ts, ThreadTS: thread, ActionID: actionID, BlockID: blockID, Value: value,
	})
}

// HasButton reports whether the message channel/ts carries the button
// actionID now.
func (s *Server) HasButton(channel, ts, actionID string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	m, found := s.byKey[channel+"/"+ts]
	if !found {
		return false
	}
	_, _, ok := findButton(m.Blocks, actionID)
	return ok
}

// findButton finds the button actionID in a message's actions blocks.
func findButton(blocks json.RawMessage, actionID string) (blockID, value string, ok bool) {
	var bs []struct {
		Type     string `json:"type"`
		BlockID  string `json:"block_id"`
		Elements []struct {
			Type     string `json:"type"`
			ActionID string `json:"action_id"`
			Value    string `json:"value"`
		} `json:"elements"`
	}
	if len(blocks) == 0 || json.Unmarshal(blocks, &bs) != nil {
		return "", "", false
	}
	for _, b := range bs {
		if b.Type != "actions" {
			continue
		}
		for _, e := range b.Elements {
			if e.Type == "button" && e.ActionID == actionID {
				return b.BlockID, e.Value, true
			}
		}
	}
	return "", "", false
}
