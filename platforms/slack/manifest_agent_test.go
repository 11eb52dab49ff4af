package slack

import (
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	slackapi "github.com/slack-go/slack"
	"go.yaml.in/yaml/v3"
)

// documentedBotEvents are the Events API event types of Slack's event
// reference (docs.slack.dev/reference/events) that the manifest may name.
var documentedBotEvents = []string{
	"agent_session_stopped", "app_context_changed", "app_home_opened", "app_mention",
	"message.channels", "message.groups", "message.im", "message.mpim",
	"app_uninstalled", "tokens_revoked",
}

// The generated manifest only uses documented keys: it decodes with
// unknown keys refused into slack-go's Manifest, which mirrors Slack's
// manifest reference field by field; the agent view is on (never the
// closed assistant_view), its description fits Slack's 300 characters,
// and every event is a documented one.
func TestManifestAgentViewValidated(t *testing.T) {
	t.Parallel()
	for _, o := range []ManifestOptions{
		{SocketMode: true},
		{PublicURL: "https://bridge.example.com"},
		{SocketMode: true, Installs: true, PublicURL: "https://bridge.example.com", Command: "/avatar-of-someone-long-x", AppName: strings.Repeat("N", 35)},
	} {
		s, err := Manifest(o)
		if err != nil {
			t.Fatalf("Manifest(%+v): %v", o, err)
		}
		var m slackapi.Manifest
		dec := yaml.NewDecoder(strings.NewReader(s))
		dec.KnownFields(true)
		if err := dec.Decode(&m); err != nil {
			t.Fatalf("manifest has a key Slack does not document: %v\n%s", err, s)
		}
		av := m.Features.AgentView
		if av == nil || av.AgentDescription == "" {
			t.Fatalf("agent_view missing:\n%s", s)
		}
		if n := utf8.RuneCountInString(av.AgentDescription); n > 300 {
			t.Errorf("agent description has %d characters, Slack allows 300", n)
		}
		if cmd := o.Command; cmd != "" && !strings.Contains(av.AgentDescription, cmd+" link") {
			t.Errorf("agent description %q does not name %s link", av.AgentDescription, cmd)
		}
		if m.Features.AssistantView != nil || strings.Contains(s, "assistant_view") {
			t.Error("manifest uses assistant_view, closed to new apps")
		}
		for _, ev := range m.Settings.EventSubscriptions.BotEvents {
			if !slices.Contains(documentedBotEvents, ev) {
				t.Errorf("bot event %q is not a documented event", ev)
			}
		}
		for _, need := range []string{"agent_session_stopped", "app_context_changed", "app_home_opened"} {
			if !slices.Contains(m.Settings.EventSubscriptions.BotEvents, need) {
				t.Errorf("bot events lack %s", need)
			}
		}
		if !slices.Contains(m.OAuthConfig.Scopes.Bot, "assistant:write") || !m.Settings.Interactivity.IsEnabled {
			t.Errorf("scopes %v / interactivity %v: the agent surface needs assistant:write and interactivity (Stop button)",
				m.OAuthConfig.Scopes.Bot, m.Settings.Interactivity.IsEnabled)
		}
	}
}
