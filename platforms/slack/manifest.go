package slack

import (
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"

	"github.com/secondme-bridge/secondme-bridge/platforms"
)

// ManifestOptions configures the Slack app manifest.
type ManifestOptions struct {
	// AppName is the app's and bot's name (default "SecondMe", at most 35
	// characters).
	AppName string
	// PublicURL is the bridge's public base URL (http.public_url); request
	// URLs hang off it in HTTP mode, where it is required and must be https.
	PublicURL string
	// SocketMode enables Socket Mode: no request URLs.
	SocketMode bool
	// Command is the slash command (default "/secondme").
	Command string
	// Installs lists the install flow's redirect URL (PublicURL +
	// CallbackPath; slack.install), which then needs PublicURL.
	Installs bool
	// Commands is the bridge's command set (bridge/commands.Specs): the
	// slash command's usage hint lists the slash commands, and each
	// message action becomes a message shortcut.
	Commands []platforms.CommandSpec
}

// botScopes are the bot token scopes the bridge needs.
var botScopes = []string{
	"app_mentions:read",    // app_mention events
	"channels:history",     // thread follow-ups in public channels
	"assistant:write",      // agent sessions and suggested prompts (agent_view)
	"chat:write",           // post, update, stream, assistant status
	"chat:write.customize", // answer under the avatar's name and picture
	"commands",             // the slash command and the shortcuts
	"files:read",           // read the text files users attach
	"groups:history",       // thread follow-ups in private channels
	"im:history",           // DMs
	"im:read",
	"im:write",
	"users:read", // display names and locales
}

// botEvents are the bot events the bridge subscribes to: messages, and the
// agent surface (the native stop, the Messages tab opening for suggested
// prompts, the viewing context, accepted and unused).
var botEvents = []string{
	"agent_session_stopped", "app_context_changed", "app_home_opened",
	"app_mention", "message.channels", "message.groups", "message.im",
}

// agentDescription is the agent view's description of the app (Slack caps
// it at 300 characters), naming the link command.
func agentDescription(command string) string {
	return "Your own SecondMe AI avatar, in Slack: it answers as you would, from your notes and memories. " +
		"Ask it anything, or ask it what you noted this week. Link your account first with " + command + " link."
}

// maxAgentDescription is Slack's cap on agent_view.agent_description.
const maxAgentDescription = 300

type manifest struct {
	Metadata struct {
		Major int `yaml:"major_version"`
		Minor int `yaml:"minor_version"`
	} `yaml:"_metadata"`
	Display struct {
		Name        string `yaml:"name"`
		Description string `yaml:"description"`
		Background  string `yaml:"background_color"`
	} `yaml:"display_information"`
	Features struct {
		AppHome struct {
			Home     bool `yaml:"home_tab_enabled"`
			Messages bool `yaml:"messages_tab_enabled"`
			ReadOnly bool `yaml:"messages_tab_read_only_enabled"`
		} `yaml:"app_home"`
		BotUser struct {
			DisplayName  string `yaml:"display_name"`
			AlwaysOnline bool   `yaml:"always_online"`
		} `yaml:"bot_user"`
		AgentView struct {
			Description string `yaml:"agent_description"`
		} `yaml:"agent_view"`
		Shortcuts     []manifestShortcut `yaml:"shortcuts"`
		SlashCommands []manifestCommand  `yaml:"slash_commands"`
	} `yaml:"features"`
	OAuth struct {
		RedirectURLs []string `yaml:"redirect_urls,omitempty"`
		Scopes       struct {
			Bot []string `yaml:"bot"`
		} `yaml:"scopes"`
	} `yaml:"oauth_config"`
	Settings struct {
		Events struct {
			RequestURL string   `yaml:"request_url,omitempty"`
			BotEvents  []string `yaml:"bot_events"`
		} `yaml:"event_subscriptions"`
		Interactivity struct {
			Enabled    bool   `yaml:"is_enabled"`
			RequestURL string `yaml:"request_url,omitempty"`
		} `yaml:"interactivity"`
		OrgDeploy     bool `yaml:"org_deploy_enabled"`
		SocketMode    bool `yaml:"socket_mode_enabled"`
		TokenRotation bool `yaml:"token_rotation_enabled"`
	} `yaml:"settings"`
}

type manifestShortcut struct {
	Name        string `yaml:"name"`
	Type        string `yaml:"type"`
	CallbackID  string `yaml:"callback_id"`
	Description string `yaml:"description"`
}

type manifestCommand struct {
	Command      string `yaml:"command"`
	URL          string `yaml:"url,omitempty"`
	Description  string `yaml:"description"`
	UsageHint    string `yaml:"usage_hint"`
	ShouldEscape bool   `yaml:"should_escape"`
}

var commandRE = regexp.MustCompile(`^/[a-z0-9_-]{1,31}$`)

// Manifest returns a Slack app manifest (YAML) to paste into "Create New App
// → From an app manifest": the bot scopes and events, the slash command, the
// two message shortcuts, the Messages tab for DMs, the agent view, and
// either Socket Mode or the request URLs under o.PublicURL.
func Manifest(o ManifestOptions) (string, error) {
	if o.AppName == "" {
		o.AppName = "SecondMe"
	}
	if o.Command == "" {
		o.Command = strings.TrimSpace(CommandPrefix)
	}
	var errs []error
	if n := utf8.RuneCountInString(o.AppName); n > 35 || strings.TrimSpace(o.AppName) == "" {
		errs = append(errs, fmt.Errorf("app name %q: must be 1 to 35 characters", o.AppName))
	}
	if !commandRE.MatchString(o.Command) {
		errs = append(errs, fmt.Errorf("command %q: must be \"/\" and up to 31 lowercase letters, digits, - or _", o.Command))
	}
	base := strings.TrimSuffix(o.PublicURL, "/")
	if !o.SocketMode || o.Installs {
		if u, err := url.Parse(base); err != nil || u.Scheme != "https" || u.Host == "" || u.RawQuery != "" {
			errs = append(errs, fmt.Errorf("public URL %q: HTTP mode and installs need the bridge's public https URL", o.PublicURL))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return "", fmt.Errorf("slack manifest: %w", err)
	}

	var m manifest
	m.Metadata.Major, m.Metadata.Minor = 1, 1
	m.Display.Name = o.AppName
	m.Display.Description = "Talk to your SecondMe AI avatar in Slack."
	m.Display.Background = "#1d1c1d"
	m.Features.AppHome.Messages = true
	m.Features.BotUser.DisplayName, m.Features.BotUser.AlwaysOnline = o.AppName, true
	// The agent view (new apps cannot use assistant_view); its suggested
	// prompts are set per user, localized, when the Messages tab opens.
	m.Features.AgentView.Description = agentDescription(o.Command)
	if n := utf8.RuneCountInString(m.Features.AgentView.Description); n > maxAgentDescription {
		return "", fmt.Errorf("slack manifest: agent description has %d characters, at most %d", n, maxAgentDescription)
	}
	var usage []string
	for _, sp := range o.Commands {
		if sp.Slash {
			usage = append(usage, strings.TrimSpace(sp.Name+" "+sp.Usage))
		}
		if sp.Action != "" {
			m.Features.Shortcuts = append(m.Features.Shortcuts, manifestShortcut{
				Name: sp.Action, Type: "message", CallbackID: sp.ActionID, Description: sp.ActionHelp,
			})
		}
	}
	cmd := manifestCommand{
		Command:     o.Command,
		Description: "Talk to your SecondMe avatar",
		UsageHint:   strings.Join(usage, " | "),
	}
	m.OAuth.Scopes.Bot = botScopes
	if o.Installs {
		m.OAuth.RedirectURLs = []string{base + CallbackPath}
	}
	m.Settings.Events.BotEvents = botEvents
	m.Settings.Interactivity.Enabled = true
	m.Settings.SocketMode = o.SocketMode
	if !o.SocketMode {
		cmd.URL = base + PathCommands
		m.Settings.Events.RequestURL = base + PathEvents
		m.Settings.Interactivity.RequestURL = base + PathInteractivity
	}
	m.Features.SlashCommands = []manifestCommand{cmd}

	var b strings.Builder
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	if err := enc.Encode(&m); err != nil {
		return "", fmt.Errorf("slack manifest: %w", err)
	}
	if err := enc.Close(); err != nil {
		return "", fmt.Errorf("slack manifest: %w", err)
	}
	return b.String(), nil
}
