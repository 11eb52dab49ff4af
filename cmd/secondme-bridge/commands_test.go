package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"testing"

	"github.com/secondme-bridge/secondme-bridge/internal/config"
)

func TestCommandsSync(t *testing.T) {
	t.Parallel()
	disabled := writeConfig(t, strings.Replace(minimalYAML, "  enabled: true", "  enabled: false", 1)+"slack:\n  enabled: true\n  bot_token: xoxb-1\n  app_token: xapp-1\n")
	code, _, stderr := runCLI(t, nil, "commands", "sync", "--config", disabled)
	if code != exitFailure || !strings.Contains(stderr, "commands sync: discord is not enabled in the config (set discord.enabled: true)") {
		t.Errorf("disabled: code %d, stderr %q", code, stderr)
	}

	enabled := writeConfig(t, minimalYAML)
	code, _, stderr = runCLI(t, nil, "commands", "sync", "--config", enabled)
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
