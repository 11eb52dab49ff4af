package slack

import (
	"context"
	"fmt"
	"strings"
	"time"

	slackapi "github.com/slack-go/slack"

	"github.com/secondme-bridge/secondme-bridge/platforms"
)

// The agent surface (Slack's agent view and the app's Messages tab):
// session status and title (agents.sessions.setStatus / rename), suggested
// prompts pinned at the top of the Messages tab
// (assistant.threads.setSuggestedPrompts without thread_ts). All of it is
// a nicety: where the workspace or the app lacks the surface, Slack
// answers one of agentOffCodes, the adapter latches the surface off for
// that workspace (logged once) and behaves as before.

// SuggestedPrompt is one prompt offered at the top of the Messages tab:
// Title is shown, Message is sent when the user picks it.
type SuggestedPrompt struct {
	Title, Message string
}

// Slack's limits on the agent surface.
const (
	maxSuggestedPrompts = 4
	maxSessionTitle     = 200
	// promptsRefresh is how long prompts set in a DM are left alone:
	// app_home_opened fires on every visit.
	promptsRefresh = time.Hour
)

// agentOffCodes mean the agent surface cannot work in this workspace
// (not an agent app, plan without it, scope missing): latched off.
var agentOffCodes = map[string]bool{
	"unknown_method": true, "not_allowed": true, "feature_not_enabled": true, "missing_scope": true,
	"not_allowed_token_type": true, "method_deprecated": true, "not_supported": true,
	"team_not_supported": true, "access_denied": true,
}

var _ platforms.AgentSessions = (*Adapter)(nil)

// SetSessionStatus implements platforms.AgentSessions with
// agents.sessions.setStatus ("processing" or "active"), which creates the
// session if needed.
func (a *Adapter) SetSessionStatus(ctx context.Context, to platforms.Target, status platforms.SessionStatus) error {
	if to.Channel == "" || to.Thread == "" {
		return nil
	}
	st := slackapi.AgentSessionStatusActive
	if status == platforms.SessionProcessing {
		st = slackapi.AgentSessionStatusProcessing
	}
	return a.agentCall(ctx, string(to.Workspace), "set slack agent session status", func(api *slackapi.Client) error {
		_, err := api.SetAgentSessionStatusContext(ctx, slackapi.AgentSessionSetStatusParameters{
			Status: st, ChannelID: string(to.Channel), ThreadTS: string(to.Thread), InitiatorUserID: userIfHuman(string(to.User)),
		})
		return err
	})
}

// SetSessionTitle implements platforms.AgentSessions with
// agents.sessions.rename; the title is one line of at most 200
// characters, special mentions neutralized.
func (a *Adapter) SetSessionTitle(ctx context.Context, to platforms.Target, title string) error {
	title = sessionTitle(title)
	if to.Channel == "" || to.Thread == "" || title == "" {
		return nil
	}
	return a.agentCall(ctx, string(to.Workspace), "rename slack agent session", func(api *slackapi.Client) error {
		_, err := api.RenameAgentSessionContext(ctx, slackapi.AgentSessionRenameParameters{
			Title: title, ChannelID: string(to.Channel), ThreadTS: string(to.Thread),
		})
		return err
	})
}

// sessionTitle is text on one line, at most maxSessionTitle characters.
func sessionTitle(text string) string {
	t := neutralize(strings.Join(strings.Fields(text), " "))
	if runeCount(t) > maxSessionTitle {
		t = string([]rune(t)[:maxSessionTitle-1]) + "…"
	}
	return t
}

func userIfHuman(id string) string {
	if isHumanUser(id) {
		return id
	}
	return ""
}

// agentCall runs call on workspace's client unless the agent surface is
// latched off there; a permanent refusal latches it off and returns nil.
func (a *Adapter) agentCall(ctx context.Context, workspace, op string, call func(*slackapi.Client) error) error {
	team := a.team(workspace)
	if a.agentLatched(team) {
		return nil
	}
	api, err := a.apiFor(ctx, team)
	if err != nil {
		return fmt.Errorf("%s: %w", op, err)
	}
	err = call(api)
	if err == nil {
		return nil
	}
	if code := slackErrorCode(err); agentOffCodes[code] {
		a.latchAgentOff(team, code)
		return nil
	}
	return fmt.Errorf("%s: %w", op, apiError(err))
}

func (a *Adapter) agentLatched(team string) bool {
	a.latchMu.Lock()
	defer a.latchMu.Unlock()
	return a.agentOff[team]
}

func (a *Adapter) latchAgentOff(team, code string) {
	a.latchMu.Lock()
	first := !a.agentOff[team]
	a.agentOff[team] = true
	a.latchMu.Unlock()
	if first {
		a.log.Warn("slack agent surface unavailable; going on without it in this workspace", "team", team, "slack_error", code)
	}
}

// offerPrompts pins the localized suggested prompts at the top of the
// user's Messages tab (the DM channel) when they open it, at most once an
// hour per channel. Failures are logged, never retried: Slack sends
// app_home_opened again on the next visit.
func (a *Adapter) offerPrompts(ctx context.Context, team, user, channel string) {
	if a.cfg.SuggestedPrompts == nil || channel == "" || !isDMChannel(channel) || a.agentLatched(team) {
		return
	}
	now := time.Now()
	a.latchMu.Lock()
	if at, ok := a.promptsSet[channel]; ok && now.Sub(at) < promptsRefresh {
		a.latchMu.Unlock()
		return
	}
	a.promptsSet[channel] = now
	a.latchMu.Unlock()
	_, locale := a.users.get(withTeam(ctx, team), user)
	params := slackapi.AssistantThreadsSetSuggestedPromptsParameters{ChannelID: channel}
	for _, p := range a.cfg.SuggestedPrompts(locale) {
		if len(params.Prompts) == maxSuggestedPrompts {
			break
		}
		if p.Title != "" && p.Message != "" {
			params.AddPrompt(neutralize(p.Title), neutralize(p.Message))
		}
	}
	if len(params.Prompts) == 0 {
		return
	}
	err := a.agentCall(ctx, team, "set slack suggested prompts", func(api *slackapi.Client) error {
		return api.SetAssistantThreadsSuggestedPromptsContext(ctx, params)
	})
	if err != nil {
		a.latchMu.Lock()
		delete(a.promptsSet, channel) // try again on the next visit
		a.latchMu.Unlock()
		a.log.Debug("slack suggested prompts not set", "channel", channel, "error", err)
	}
}
