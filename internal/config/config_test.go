package config

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"go.yaml.in/yaml/v3"
)

const exampleFile = "../../config.example.yaml"

// noEnv is a getenv with nothing set.
func noEnv(string) string { return "" }

// mapEnv is a getenv backed by a map.
func mapEnv(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

func validConfig(t *testing.T) Config {
	t.Helper()
	cfg, err := Load("testdata/valid.yaml", noEnv)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	return cfg
}

// problemsOf returns the problems of an *Error as strings.
func problemsOf(t *testing.T, err error) []string {
	t.Helper()
	var ce *Error
	if !errors.As(err, &ce) {
		t.Fatalf("error %v (%T) is not a *config.Error", err, err)
	}
	var out []string
	for _, p := range ce.Problems {
		out = append(out, p.String())
	}
	return out
}

func TestLoadValid(t *testing.T) {
	t.Parallel()
	cfg := validConfig(t)
	if err := cfg.Validate(); err != nil {
		t.Fatalf("Validate: %v", err)
	}
	want := Default()
	want.HTTP.Listen = "127.0.0.1:0"
	want.HTTP.PublicURL = "https://bridge.test" // trailing slash dropped
	want.Store.Path = "/tmp/x.db"
	want.Store.EncryptionKey = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="
	want.SecondMe.OAuth.ClientID = "client-1"
	want.SecondMe.OAuth.ClientSecret = "secret-1"
	want.Discord.Enabled = true
	want.Discord.Token = "discord-token-1"
	want.Discord.ApplicationID = "1234567890"
	want.Discord.AllowedGuilds = []string{"111", "222"}
	want.Slack.Enabled = true
	want.Slack.Mode = SlackModeHTTP
	want.Slack.BotToken = "xoxb-1"
	want.Slack.SigningSecret = "signing-1"
	want.Slack.APIURL = "http://127.0.0.1:9/api/" // trailing slash added
	want.Bridge.SessionTTL = time.Hour
	want.Log = Log{Level: "debug", Format: "json"}
	if diff := cmp.Diff(want, cfg); diff != "" {
		t.Errorf("config mismatch (-want +got):\n%s", diff)
	}
}

func TestExampleFailsOnEveryPlaceholder(t *testing.T) {
	t.Parallel()
	cfg, err := Load(exampleFile, noEnv)
	if err != nil {
		t.Fatalf("Load(example): %v", err)
	}
	err = cfg.Validate()
	want := []string{
		"http.public_url: still the placeholder from config.example.yaml",
		"store.encryption_key: still the placeholder from config.example.yaml",
		"secondme.oauth.client_id: still the placeholder from config.example.yaml",
		"secondme.oauth.client_secret: still the placeholder from config.example.yaml",
		"discord.token: still the placeholder from config.example.yaml",
		"discord.application_id: still the placeholder from config.example.yaml",
		"slack.bot_token: still the placeholder from config.example.yaml",
		"slack.app_token: still the placeholder from config.example.yaml",
	}
	if diff := cmp.Diff(want, problemsOf(t, err)); diff != "" {
		t.Errorf("problems mismatch (-want +got):\n%s", diff)
	}
	if !strings.HasPrefix(err.Error(), "invalid config:\n  - http.public_url: ") {
		t.Errorf("error text = %q", err)
	}
}

// TestExampleDocumentsEveryKey keeps config.example.yaml, Default() and the
// placeholder table in step with the Config struct.
func TestExampleDocumentsEveryKey(t *testing.T) {
	t.Parallel()
	data, err := os.ReadFile(exampleFile)
	if err != nil {
		t.Fatal(err)
	}
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		t.Fatal(err)
	}
	values := map[string]*yaml.Node{}
	comments := map[string]string{}
	var walk func(n *yaml.Node, prefix string)
	walk = func(n *yaml.Node, prefix string) {
		for i := 0; i+1 < len(n.Content); i += 2 {
			path := joinPath(prefix, n.Content[i].Value)
			if v := n.Content[i+1]; v.Kind == yaml.MappingNode {
				walk(v, path)
			} else {
				values[path] = v
				comments[path] = n.Content[i].HeadComment
			}
		}
	}
	walk(root.Content[0], "")

	def := Default()
	example, err := Parse(data, "example")
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range Keys() {
		n, ok := values[k.Path]
		if !ok {
			t.Errorf("config.example.yaml does not document %s", k.Path)
			continue
		}
		if c := comments[k.Path]; !strings.Contains(c, "Optional") && !strings.Contains(c, "REQUIRED") &&
			!strings.Contains(c, "Required") {
			t.Errorf("%s: comment does not say whether it is required or optional: %q", k.Path, c)
		}
		if k.Secret && !strings.Contains(comments[k.Path], "SECRET") {
			t.Errorf("%s: comment does not say SECRET", k.Path)
		}
		delete(values, k.Path)
		if ph, ok := placeholders()[k.Path]; ok && n.Value != "" && n.Value != ph {
			t.Errorf("%s: example value %q differs from the placeholder table %q", k.Path, n.Value, ph)
		}
	}
	for path := range values {
		t.Errorf("config.example.yaml has %s, which Config does not", path)
	}
	// Optional keys in the example show their defaults (enabled flags and
	// placeholders aside).
	example.Discord.Enabled, example.Slack.Enabled = false, false
	for _, k := range Keys() {
		if _, ok := placeholders()[k.Path]; ok {
			continue
		}
		if got, want := valueAt(example, k.Path), valueAt(def, k.Path); got != want {
			t.Errorf("%s: example shows %v, default is %v", k.Path, got, want)
		}
	}
}

func TestKeysEnvNames(t *testing.T) {
	t.Parallel()
	got := map[string]Key{}
	for _, k := range Keys() {
		got[k.Path] = k
	}
	for path, want := range map[string]Key{
		"secondme.oauth.client_secret": {Env: "SECONDME_BRIDGE_SECONDME_OAUTH_CLIENT_SECRET", Secret: true},
		"store.encryption_key":         {Env: "SECONDME_BRIDGE_STORE_ENCRYPTION_KEY", Secret: true},
		"store.redis_url":              {Env: "SECONDME_BRIDGE_STORE_REDIS_URL", Secret: true},
		"discord.token":                {Env: "SECONDME_BRIDGE_DISCORD_TOKEN", Secret: true},
		"slack.bot_token":              {Env: "SECONDME_BRIDGE_SLACK_BOT_TOKEN", Secret: true},
		"slack.app_token":              {Env: "SECONDME_BRIDGE_SLACK_APP_TOKEN", Secret: true},
		"slack.signing_secret":         {Env: "SECONDME_BRIDGE_SLACK_SIGNING_SECRET", Secret: true},
		"discord.allowed_guilds":       {Env: "SECONDME_BRIDGE_DISCORD_ALLOWED_GUILDS"},
		"http.public_url":              {Env: "SECONDME_BRIDGE_HTTP_PUBLIC_URL"},
	} {
		want.Path = path
		if diff := cmp.Diff(want, got[path]); diff != "" {
			t.Errorf("key %s (-want +got):\n%s", path, diff)
		}
	}
	secrets := 0
	for _, k := range got {
		if k.Secret {
			secrets++
		}
	}
	if secrets != 9 { // store.previous_encryption_keys and slack.install.client_secret are the 8th and 9th
		t.Errorf("%d secret keys, want 9", secrets)
	}
}

func TestParseErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		yaml string
		want []string
	}{
		{
			name: "unknown keys with lines",
			yaml: "http:\n  listen: \":1\"\n  public_ur: x\nstore:\n  drivr: bolt\nextra: 1\n",
			want: []string{
				`line 3: http.public_ur: unknown key (did you mean "http.public_url"?)`,
				`line 5: store.drivr: unknown key (did you mean "store.driver"?)`,
				`line 6: extra: unknown key`,
			},
		},
		{
			name: "malformed yaml",
			yaml: "http:\n  listen: \":1\"\n  public_url: a: b\n",
			want: []string{"line 3: malformed YAML: mapping values are not allowed in this context"},
		},
		{
			name: "wrong types",
			yaml: "http:\n  shutdown_timeout: soon\ndiscord:\n  enabled: maybe\n  allowed_guilds: 123\nbridge:\n  queue_size: many\n" +
				"store:\n  encryption_key: [a, b]\nlog: debug\n",
			want: []string{
				`line 2: http.shutdown_timeout: want a duration such as "30s", "10m" or "168h", got "soon"`,
				`line 4: discord.enabled: want true or false, got "maybe"`,
				`line 5: discord.allowed_guilds: want a list of strings, e.g. ["a", "b"], got "123"`,
				`line 7: bridge.queue_size: want a whole number, got "many"`,
				`line 9: store.encryption_key: want a string, got a list`,
				`line 10: log: log must be a mapping of keys, got a string`,
			},
		},
		{
			name: "integer duration",
			yaml: "http:\n  shutdown_timeout: 15\n",
			want: []string{`line 2: http.shutdown_timeout: want a duration such as "30s", "10m" or "168h", got "15"`},
		},
		{
			name: "self-referencing merge",
			yaml: "http: &h\n  <<: *h\n",
			want: []string{"line 2: http: alias *h refers to itself"},
		},
		{
			name: "not a mapping",
			yaml: "- a\n- b\n",
			want: []string{"line 1: the file must be a mapping of keys, got a list"},
		},
		{
			name: "two documents",
			yaml: "http:\n  listen: \":1\"\n---\nhttp: {}\n",
			want: []string{"line 3: the file must hold one YAML document, not several"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := Parse([]byte(tt.yaml), "test.yaml")
			if err == nil {
				t.Fatal("Parse succeeded")
			}
			if diff := cmp.Diff(tt.want, problemsOf(t, err)); diff != "" {
				t.Errorf("problems (-want +got):\n%s", diff)
			}
			if !strings.HasPrefix(err.Error(), "parse config file test.yaml:\n  - ") {
				t.Errorf("error = %q", err)
			}
		})
	}
}

func TestParseKeepsDefaultsAndAliases(t *testing.T) {
	t.Parallel()
	cfg, err := Parse([]byte("base: &b\n  level: warn\n"), "x")
	if err == nil {
		t.Fatalf("unknown top-level anchor key accepted: %+v", cfg)
	}
	cfg, err = Parse([]byte("http:\n  shutdown_timeout:\nlog: &l\n  level: warn\n"), "x")
	if err != nil {
		t.Fatal(err)
	}
	if cfg.HTTP.ShutdownTimeout != 15*time.Second || cfg.Log.Level != "warn" || cfg.Log.Format != "text" {
		t.Errorf("got %+v %+v", cfg.HTTP, cfg.Log)
	}
	empty, err := Parse(nil, "empty")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(Default(), empty); diff != "" {
		t.Errorf("empty file differs from Default (-want +got):\n%s", diff)
	}
}

func TestLoadMissingFile(t *testing.T) {
	t.Parallel()
	_, err := Load(filepath.Join(t.TempDir(), "nope.yaml"), noEnv)
	if !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("err = %v, want ErrNotExist", err)
	}
}

// valueAt returns the value of the key at path in cfg, for comparisons.
func valueAt(cfg Config, path string) any {
	var out any
	walkFields(reflect.ValueOf(&cfg).Elem(), "", func(p string, f reflect.Value) {
		if p == path {
			out = fmt.Sprint(f.Interface())
		}
	})
	return out
}
