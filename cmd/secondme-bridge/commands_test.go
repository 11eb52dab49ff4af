package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"testing"

	"github.com/secondme-bridge/secondme-bridge/bridge/commands"
	"github.com/secondme-bridge/secondme-bridge/internal/config"
	"github.com/secondme-bridge/secondme-bridge/platforms/discord"
	"github.com/secondme-bridge/secondme-bridge/platforms/discord/discordtest"
)

func TestCommandsSync(t *testing.T) {
	t.Parallel()
	disabled := writeConfig(t, strings.Replace(minimalYAML, "  enabled: true", "  enabled: false", 1)+"slack:\n  enabled: true\n  bot_token: xoxb-1\n  app_token: xapp-1\n")
	code, _, stderr := runCLI(t, nil, "commands", "sync", "--config", disabled)
	if code != exitFailure || !strings.Contains(stderr, "commands sync: discord is not enabled in the config (set discord.enabled: true)") {
		t.Errorf("disabled: code %d, stderr %q", code, stderr)
	}

	enabled := writeConfig(t, minimalYAML)
	c, _, errOut := testCLI(nil)
	c.hooks = hooks{}
	code = c.run(t.Context(), []string{"commands", "sync", "--config", enabled})
	stderr = errOut.String()
	if code != exitFailure || !strings.Contains(stderr, "commands sync: not available in this build") {
		t.Errorf("no hook: code %d, stderr %q", code, stderr)
	}

	c, stdout, _ := testCLI(nil)
	var gotApp string
	c.hooks.syncDiscordCommands = func(_ context.Context, cfg config.Config, _ *slog.Logger, w io.Writer) error {
		gotApp = cfg.Discord.ApplicationID
		_, err := fmt.Fprintln(w, "synced 3 commands")
		return err
	}
	if code := c.run(t.Context(), []string{"commands", "sync", "--config", enabled}); code != exitOK {
		t.Errorf("with hook: exit code %d", code)
	}
	if gotApp != "123" || stdout.String() != "synced 3 commands\n" {
		t.Errorf("hook got app %q, stdout %q", gotApp, stdout)
	}
}

func TestSlackManifest(t *testing.T) {
	t.Parallel()
	code, _, stderr := runCLI(t, nil, "slack-manifest", "--config", writeConfig(t, minimalYAML))
	if code != exitFailure || !strings.Contains(stderr, "slack-manifest: slack is not enabled in the config (set slack.enabled: true)") {
		t.Errorf("disabled: code %d, stderr %q", code, stderr)
	}
	// The manifest comes before the tokens: a config without them is fine.
	path := writeConfig(t, "http:\n  public_url: https://bridge.test\nslack:\n  enabled: true\n  mode: http\n")
	c, stdout, _ := testCLI(nil)
	c.hooks.slackManifest = func(cfg config.Config, w io.Writer) error {
		_, err := fmt.Fprintf(w, "request_url: %s/slack/events\n", cfg.HTTP.PublicURL)
		return err
	}
	if code := c.run(t.Context(), []string{"slack-manifest", "--config", path}); code != exitOK {
		t.Errorf("with hook: exit code %d", code)
	}
	if stdout.String() != "request_url: https://bridge.test/slack/events\n" {
		t.Errorf("stdout %q", stdout)
	}
}

func TestNewLogger(t *testing.T) {
	t.Parallel()
	var b strings.Builder
	l := newLogger(&b, config.Log{Level: "warn", Format: "json"})
	l.Info("hidden")
	l.Warn("shown", "token", config.Secret("xoxb-secret"))
	if got := b.String(); strings.Contains(got, "hidden") || !strings.Contains(got, `"msg":"shown","token":"[redacted]"`) {
		t.Errorf("json logger wrote %q", got)
	}
	b.Reset()
	newLogger(&b, config.Log{Level: "debug", Format: "text"}).Debug("dbg")
	if !strings.Contains(b.String(), "level=DEBUG msg=dbg") {
		t.Errorf("text logger wrote %q", b.String())
	}
}

// TestCommandsSyncDiscord runs the real hook against the fake Discord: the
// commands land by bulk overwrite, globally or in discord.command_guild.
func TestCommandsSyncDiscord(t *testing.T) {
	t.Parallel()
	dc := discordtest.New(t)
	base := strings.NewReplacer(
		"token: discord-good", "token: "+dc.Token(),
		`application_id: "123"`, `application_id: "`+dc.AppID()+`"`,
		"api_url: http://127.0.0.1:1/api/v9", "api_url: "+dc.APIURL(),
	).Replace(minimalYAML)

	code, stdout, stderr := runCLI(t, nil, "commands", "sync", "--config", writeConfig(t, base))
	if code != exitOK {
		t.Fatalf("global sync: exit %d, stderr %q", code, stderr)
	}
	want := len(discord.Commands(commands.Specs()))
	if got := len(dc.Commands("")); got != want || want < 11 {
		t.Errorf("global commands at the fake = %d, want %d (9 slash + 2 message)", got, want)
	}
	if !strings.Contains(stdout, fmt.Sprintf("registered %d Discord commands globally", want)) {
		t.Errorf("stdout %q", stdout)
	}

	guild := base + "  command_guild: \"777\"\n"
	code, stdout, stderr = runCLI(t, nil, "commands", "sync", "--config", writeConfig(t, guild))
	if code != exitOK {
		t.Fatalf("guild sync: exit %d, stderr %q", code, stderr)
	}
	if got := len(dc.Commands("777")); got != want {
		t.Errorf("guild commands at the fake = %d, want %d", got, want)
	}
	if !strings.Contains(stdout, "in guild 777") {
		t.Errorf("stdout %q", stdout)
	}
}

// TestSlackManifestReal prints the real manifest for both transports.
func TestSlackManifestReal(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ mode, want, not string }{
		{"socket", "socket_mode_enabled: true", "https://bridge.test/slack/events"},
		{"http", "https://bridge.test/slack/events", "socket_mode_enabled: true"},
	} {
		path := writeConfig(t, "http:\n  public_url: https://bridge.test\nslack:\n  enabled: true\n  mode: "+tc.mode+"\n")
		code, stdout, stderr := runCLI(t, nil, "slack-manifest", "--config", path)
		if code != exitOK {
			t.Fatalf("%s: exit %d, stderr %q", tc.mode, code, stderr)
		}
		for _, w := range []string{tc.want, "/secondme", "save_to_secondme", "ask_my_avatar", "app_mentions:read"} {
			if !strings.Contains(stdout, w) {
				t.Errorf("%s manifest lacks %q:\n%s", tc.mode, w, stdout)
			}
		}
		if strings.Contains(stdout, tc.not) {
			t.Errorf("%s manifest contains %q", tc.mode, tc.not)
		}
	}
}

// TestCommandsSyncOptionLength: the /ask, /note and /memory text options
// registered with Discord accept at most bridge.max_input_chars characters
// (Discord's 6000 when larger), so Discord stops a longer text before it
// is sent.
func TestCommandsSyncOptionLength(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		yaml string
		want int
	}{
		{"bridge:\n  max_input_chars: 500\n", 500},
		{"bridge:\n  max_input_chars: 9000\n", 6000},
		{"", 4000}, // the default
	} {
		dc := discordtest.New(t)
		cfg := strings.NewReplacer(
			"token: discord-good", "token: "+dc.Token(),
			`application_id: "123"`, `application_id: "`+dc.AppID()+`"`,
			"api_url: http://127.0.0.1:1/api/v9", "api_url: "+dc.APIURL(),
		).Replace(minimalYAML) + tc.yaml
		if code, _, stderr := runCLI(t, nil, "commands", "sync", "--config", writeConfig(t, cfg)); code != exitOK {
			t.Fatalf("sync: exit %d, stderr %q", code, stderr)
		}
		n := 0
		for _, c := range dc.Commands("") {
			for _, o := range c.Options {
				n++
				if o.MaxLength != tc.want {
					t.Errorf("%q: /%s option %s max_length = %d, want %d", tc.yaml, c.Name, o.Name, o.MaxLength, tc.want)
				}
			}
		}
		if n != 3 {
			t.Errorf("%d text options registered, want 3 (ask, memory, note)", n)
		}
	}
}

// TestSlackManifestAppName: slack.app_name names the app and its bot user
// in the manifest (default "SecondMe").
func TestSlackManifestAppName(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ yaml, want string }{
		{"  app_name: Acme Avatars\n", "name: Acme Avatars"},
		{"", "name: SecondMe"},
	} {
		path := writeConfig(t, "http:\n  public_url: https://bridge.test\nslack:\n  enabled: true\n"+tc.yaml)
		code, stdout, stderr := runCLI(t, nil, "slack-manifest", "--config", path)
		if code != exitOK {
			t.Fatalf("exit %d, stderr %q", code, stderr)
		}
		if strings.Count(stdout, tc.want) < 1 || !strings.Contains(stdout, "display_name: "+strings.TrimPrefix(tc.want, "name: ")) {
			t.Errorf("manifest for %q lacks %q as app and bot name:\n%s", tc.yaml, tc.want, stdout)
		}
	}
}
