package config

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestApplyEnvOverrides(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	secretFile := filepath.Join(dir, "client_secret")
	if err := os.WriteFile(secretFile, []byte("from-file\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := validConfig(t)
	err := cfg.ApplyEnv(mapEnv(map[string]string{
		"SECONDME_BRIDGE_HTTP_PUBLIC_URL":                   "https://env.test/",
		"SECONDME_BRIDGE_HTTP_SHUTDOWN_TIMEOUT":             "3s",
		"SECONDME_BRIDGE_STORE_DRIVER":                      "redis",
		"SECONDME_BRIDGE_STORE_REDIS_URL":                   "redis://:pw@127.0.0.1:6379/2",
		"SECONDME_BRIDGE_STORE_ENCRYPTION_KEY":              "AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyA=",
		"SECONDME_BRIDGE_SECONDME_OAUTH_CLIENT_SECRET_FILE": secretFile,
		"SECONDME_BRIDGE_DISCORD_ALLOWED_GUILDS":            "1, 2,,3",
		"SECONDME_BRIDGE_DISCORD_AUTO_THREAD":               "true",
		"SECONDME_BRIDGE_DISCORD_GLOBAL_RATE":               "500",
		"SECONDME_BRIDGE_BRIDGE_QUEUE_SIZE":                 "4",
		"SECONDME_BRIDGE_SLACK_API_URL":                     "http://127.0.0.1:1/x",
		"SECONDME_BRIDGE_LOG_LEVEL":                         "", // empty = unset
	}), os.ReadFile)
	if err != nil {
		t.Fatalf("ApplyEnv: %v", err)
	}
	if err := cfg.Validate(); err != nil {
		t.Fatalf("Validate: %v", err)
	}
	got := []any{
		cfg.HTTP.PublicURL, cfg.HTTP.ShutdownTimeout, cfg.Store.Driver, cfg.Store.RedisURL.Value(),
		cfg.SecondMe.OAuth.ClientSecret.Value(), cfg.Discord.AllowedGuilds, cfg.Discord.AutoThread, cfg.Discord.GlobalRate,
		cfg.Bridge.QueueSize, cfg.Slack.APIURL, cfg.Log.Level,
	}
	want := []any{
		"https://env.test", 3 * time.Second, "redis", "redis://:pw@127.0.0.1:6379/2",
		"from-file", []string{"1", "2", "3"}, true, 500,
		4, "http://127.0.0.1:1/x/", "debug",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("overrides (-want +got):\n%s", diff)
	}
}

func TestApplyEnvErrors(t *testing.T) {
	t.Parallel()
	cfg := validConfig(t)
	err := cfg.ApplyEnv(mapEnv(map[string]string{
		"SECONDME_BRIDGE_DISCORD_TOKEN":         "tok-sekrit",
		"SECONDME_BRIDGE_DISCORD_TOKEN_FILE":    "/run/secrets/discord",
		"SECONDME_BRIDGE_SLACK_BOT_TOKEN_FILE":  "/does/not/exist",
		"SECONDME_BRIDGE_HTTP_SHUTDOWN_TIMEOUT": "soon",
		"SECONDME_BRIDGE_DISCORD_ENABLED":       "yes please",
		"SECONDME_BRIDGE_BRIDGE_QUEUE_SIZE":     "8.5",
	}), func(name string) ([]byte, error) {
		return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrNotExist}
	})
	want := []string{
		"SECONDME_BRIDGE_HTTP_SHUTDOWN_TIMEOUT: want a duration such as \"30s\" or \"10m\", got \"soon\"",
		"SECONDME_BRIDGE_DISCORD_ENABLED: want true or false, got \"yes please\"",
		"SECONDME_BRIDGE_DISCORD_TOKEN: set only one of SECONDME_BRIDGE_DISCORD_TOKEN and SECONDME_BRIDGE_DISCORD_TOKEN_FILE",
		"SECONDME_BRIDGE_SLACK_BOT_TOKEN_FILE: read secret file: open /does/not/exist: file does not exist",
		"SECONDME_BRIDGE_BRIDGE_QUEUE_SIZE: want a whole number, got \"8.5\"",
	}
	if diff := cmp.Diff(want, problemsOf(t, err)); diff != "" {
		t.Errorf("problems (-want +got):\n%s", diff)
	}
	if !strings.HasPrefix(err.Error(), "invalid environment:\n") || strings.Contains(err.Error(), "tok-sekrit") {
		t.Errorf("error = %q", err)
	}
}

func TestApplyEnvEmptySecretFile(t *testing.T) {
	t.Parallel()
	cfg := validConfig(t)
	err := cfg.ApplyEnv(mapEnv(map[string]string{"SECONDME_BRIDGE_STORE_ENCRYPTION_KEY_FILE": "/k"}),
		func(string) ([]byte, error) { return []byte("\n"), nil })
	want := []string{"SECONDME_BRIDGE_STORE_ENCRYPTION_KEY_FILE: file /k is empty"}
	if diff := cmp.Diff(want, problemsOf(t, err)); diff != "" {
		t.Errorf("problems (-want +got):\n%s", diff)
	}
}

func TestLoadAppliesEnv(t *testing.T) {
	t.Parallel()
	cfg, err := Load("testdata/valid.yaml", mapEnv(map[string]string{"SECONDME_BRIDGE_LOG_FORMAT": "text"}))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Log.Format != "text" {
		t.Errorf("log.format = %q, want text from the environment", cfg.Log.Format)
	}
	_, err = Load("testdata/valid.yaml", mapEnv(map[string]string{"SECONDME_BRIDGE_LOG_FORMAT_FILE": "x"}))
	if err != nil {
		t.Errorf("_FILE of a non-secret must be ignored, got %v", err)
	}
	var ce *Error
	_, err = Load("testdata/valid.yaml", mapEnv(map[string]string{"SECONDME_BRIDGE_BRIDGE_LINK_TTL": "x"}))
	if !errors.As(err, &ce) {
		t.Errorf("err = %v, want *Error", err)
	}
}
