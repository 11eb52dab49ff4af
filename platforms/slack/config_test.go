package slack

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/secondme-bridge/secondme-bridge/internal/reqdeadline"
	"github.com/secondme-bridge/secondme-bridge/platforms/platformtest"
)

func TestConfigValidate(t *testing.T) {
	t.Parallel()
	err := Config{Mode: "carrier-pigeon", BotToken: "xoxp-user", APIURL: "::bad", PingInterval: -1}.Validate()
	if err == nil {
		t.Fatal("Validate accepted a bad config")
	}
	for _, want := range []string{"slack.mode", "slack.bot_token", "slack.api_url", "slack.ping_interval"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("Validate error %q does not mention %s", err, want)
		}
	}
	if strings.Contains(err.Error(), "xoxp-user") {
		t.Error("Validate error contains the token")
	}
	if err := (Config{BotToken: "xoxb-1"}).Validate(); err == nil || !strings.Contains(err.Error(), "slack.app_token") {
		t.Errorf("socket mode without app token: %v", err)
	}
	if err := (Config{BotToken: "xoxb-1", AppToken: "xoxb-2"}).Validate(); err == nil || !strings.Contains(err.Error(), "xapp-") {
		t.Errorf("socket mode with a bot token as app token: %v", err)
	}
	if err := (Config{Mode: ModeHTTP, BotToken: "xoxb-1"}).Validate(); err == nil || !strings.Contains(err.Error(), "slack.signing_secret") {
		t.Errorf("http mode without signing secret: %v", err)
	}
	if err := (Config{Mode: ModeHTTP, BotToken: "xoxb-1", SigningSecret: "s"}).Validate(); err != nil {
		t.Errorf("valid http config: %v", err)
	}
	if _, err := New(Config{}, nil); err == nil {
		t.Error("New accepted an empty config")
	}
	if got := (Config{APIURL: "http://127.0.0.1:9/api"}).apiURL(); got != "http://127.0.0.1:9/api/" {
		t.Errorf("apiURL = %q, want a trailing slash", got)
	}
	if got := (Config{}).apiURL(); got != DefaultAPIURL {
		t.Errorf("default apiURL = %q", got)
	}
	if got := reqdeadline.Timeout((Config{}).httpClient()); got != defaultHTTPTimeout {
		t.Errorf("default HTTP client timeout = %s, want %s", got, defaultHTTPTimeout)
	}
}

func TestCheck(t *testing.T) {
	t.Parallel()
	fake := newFake(t)
	ctx := t.Context()
	cfg := testConfig(fake)

	got, err := Check(ctx, cfg)
	if err != nil || got != "bot @secondme in team Acme (T1), socket mode ok" {
		t.Errorf("Check(socket) = %q, %v", got, err)
	}
	if n := fake.ConnectionsOpened(); n != 1 {
		t.Errorf("apps.connections.open called %d times", n)
	}
	h := cfg
	h.Mode = ModeHTTP
	if got, err := Check(ctx, h); err != nil || got != "bot @secondme in team Acme (T1), http mode" {
		t.Errorf("Check(http) = %q, %v", got, err)
	}
	bad := cfg
	bad.BotToken = "xoxb-not-valid"
	if _, err := Check(ctx, bad); err == nil || !strings.Contains(err.Error(), "invalid_auth") || strings.Contains(err.Error(), bad.BotToken) {
		t.Errorf("Check(bad bot token) = %v", err)
	}
	badApp := cfg
	badApp.AppToken = "xapp-not-valid"
	if _, err := Check(ctx, badApp); err == nil || !strings.Contains(err.Error(), "app token") || strings.Contains(err.Error(), badApp.AppToken) {
		t.Errorf("Check(bad app token) = %v", err)
	}
	if _, err := Check(ctx, Config{}); err == nil {
		t.Error("Check(empty config) = nil error")
	}
}

func TestManifest(t *testing.T) {
	t.Parallel()
	type parsed struct {
		Features struct {
			AppHome struct {
				Messages bool `yaml:"messages_tab_enabled"`
			} `yaml:"app_home"`
			Shortcuts []struct {
				Name, Type  string
				CallbackID  string `yaml:"callback_id"`
				Description string
			} `yaml:"shortcuts"`
			SlashCommands []struct {
				Command, URL, Description string
				UsageHint                 string `yaml:"usage_hint"`
			} `yaml:"slash_commands"`
		} `yaml:"features"`
		OAuth struct {
			Scopes struct{ Bot []string } `yaml:"scopes"`
		} `yaml:"oauth_config"`
		Settings struct {
			Events struct {
				RequestURL string   `yaml:"request_url"`
				BotEvents  []string `yaml:"bot_events"`
			} `yaml:"event_subscriptions"`
			Interactivity struct {
				Enabled    bool   `yaml:"is_enabled"`
				RequestURL string `yaml:"request_url"`
			} `yaml:"interactivity"`
			SocketMode bool `yaml:"socket_mode_enabled"`
		} `yaml:"settings"`
	}
	parse := func(o ManifestOptions) parsed {
		t.Helper()
		o.Commands = platformtest.CommandSpecs()
		s, err := Manifest(o)
		if err != nil {
			t.Fatalf("Manifest(%+v): %v", o, err)
		}
		var p parsed
		dec := yaml.NewDecoder(strings.NewReader(s))
		if err := dec.Decode(&p); err != nil {
			t.Fatalf("manifest is not YAML: %v\n%s", err, s)
		}
		return p
	}
	check := func(mode string, p parsed) {
		t.Helper()
		for _, s := range []string{"app_mentions:read", "chat:write", "commands", "im:history", "im:read", "im:write", "channels:history", "groups:history", "users:read", "chat:write.customize", "files:read"} {
			if !contains(p.OAuth.Scopes.Bot, s) {
				t.Errorf("%s: scope %s missing", mode, s)
			}
		}
		for _, e := range []string{"app_mention", "message.im", "message.channels", "message.groups"} {
			if !contains(p.Settings.Events.BotEvents, e) {
				t.Errorf("%s: event %s missing", mode, e)
			}
		}
		if len(p.Features.Shortcuts) != 2 || p.Features.Shortcuts[0].CallbackID != CallbackSave || p.Features.Shortcuts[1].CallbackID != CallbackAsk ||
			p.Features.Shortcuts[0].Type != "message" || p.Features.Shortcuts[1].Name != "Ask my avatar" {
			t.Errorf("%s: shortcuts = %+v", mode, p.Features.Shortcuts)
		}
		if !p.Settings.Interactivity.Enabled || !p.Features.AppHome.Messages {
			t.Errorf("%s: interactivity or messages tab disabled", mode)
		}
		if len(p.Features.SlashCommands) != 1 || !strings.Contains(p.Features.SlashCommands[0].UsageHint, "memory <keyword>") {
			t.Errorf("%s: slash commands = %+v", mode, p.Features.SlashCommands)
		}
	}

	sock := parse(ManifestOptions{SocketMode: true})
	check("socket", sock)
	if !sock.Settings.SocketMode || sock.Settings.Events.RequestURL != "" || sock.Settings.Interactivity.RequestURL != "" ||
		sock.Features.SlashCommands[0].URL != "" || sock.Features.SlashCommands[0].Command != "/secondme" {
		t.Errorf("socket manifest settings = %+v, command %+v", sock.Settings, sock.Features.SlashCommands)
	}

	h := parse(ManifestOptions{AppName: "My Avatar", PublicURL: "https://bridge.example.com/", Command: "/avatar"})
	check("http", h)
	if h.Settings.SocketMode || h.Settings.Events.RequestURL != "https://bridge.example.com/slack/events" ||
		h.Settings.Interactivity.RequestURL != "https://bridge.example.com/slack/interactivity" ||
		h.Features.SlashCommands[0].URL != "https://bridge.example.com/slack/commands" || h.Features.SlashCommands[0].Command != "/avatar" {
		t.Errorf("http manifest settings = %+v, command %+v", h.Settings, h.Features.SlashCommands)
	}

	for name, o := range map[string]ManifestOptions{
		"http without url":  {},
		"http plain http":   {PublicURL: "http://bridge.example.com"},
		"bad command":       {SocketMode: true, Command: "secondme"},
		"uppercase command": {SocketMode: true, Command: "/SecondMe"},
		"long name":         {SocketMode: true, AppName: strings.Repeat("x", 36)},
	} {
		if _, err := Manifest(o); err == nil {
			t.Errorf("%s: Manifest accepted %+v", name, o)
		}
	}
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

func TestRedactErr(t *testing.T) {
	t.Parallel()
	secretURL := "https://hooks.slack.com/commands/T1/123/SeCrEt"
	err := &url.Error{Op: "Post", URL: secretURL, Err: context.DeadlineExceeded}
	got := redactErr(fmt.Errorf("wrapped: %w", err))
	if strings.Contains(got.Error(), "SeCrEt") || !errors.Is(got, context.DeadlineExceeded) {
		t.Errorf("redactErr = %q (chain kept: %v)", got, errors.Is(got, context.DeadlineExceeded))
	}
	plain := errors.New("dial wss://wss.slack.com/link/?ticket=abc&app_id=A1: refused")
	if got := redactErr(plain); strings.Contains(got.Error(), "ticket") || !errors.Is(got, plain) {
		t.Errorf("redactErr = %q", got)
	}
	if redactErr(nil) != nil {
		t.Error("redactErr(nil) != nil")
	}
	if e := errors.New("nothing to hide"); redactErr(e) != e {
		t.Error("redactErr changed an error without URLs")
	}
}

// TestManifestInstalls: with installs, the manifest lists the install
// callback as the OAuth redirect URL, which needs the public https URL
// even in Socket Mode; without, it lists none.
func TestManifestInstalls(t *testing.T) {
	t.Parallel()
	m, err := Manifest(ManifestOptions{Commands: platformtest.CommandSpecs(), SocketMode: true, Installs: true, PublicURL: "https://bridge.example.com/"})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(m, "redirect_urls:\n    - https://bridge.example.com/slack/oauth/callback") {
		t.Errorf("manifest lacks the install redirect URL:\n%s", m)
	}
	if _, err := Manifest(ManifestOptions{Commands: platformtest.CommandSpecs(), SocketMode: true, Installs: true}); err == nil {
		t.Error("installs without a public URL accepted")
	}
	m, err = Manifest(ManifestOptions{Commands: platformtest.CommandSpecs(), SocketMode: true})
	if err != nil || strings.Contains(m, "redirect_urls") {
		t.Errorf("socket mode manifest without installs: %v\n%s", err, m)
	}
}
