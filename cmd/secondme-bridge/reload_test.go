package main

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/secondme-bridge/secondme-bridge/bridge"
	"github.com/secondme-bridge/secondme-bridge/internal/config"
	"github.com/secondme-bridge/secondme-bridge/platforms/discord/discordtest"
	"github.com/secondme-bridge/secondme-bridge/secondme/secondmetest"
)

// reloadConfig writes the config of a reload test: Discord and SecondMe
// at the fakes, HTTP at addr; bridge and discord hold extra lines, level is
// log.level, secret the SecondMe client secret.
type reloadConfig struct {
	addr, level, secret, shutdown string
	bridge, discord               string
}

func (rc reloadConfig) yaml(dir string, dc *discordtest.Server, sm *secondmetest.Server) string {
	var b strings.Builder
	fmt.Fprintf(&b, "http:\n  listen: %q\n  public_url: %q\n  shutdown_timeout: %s\n", rc.addr, "http://"+rc.addr, rc.shutdown)
	fmt.Fprintf(&b, "store:\n  path: %s\n  encryption_key: %q\n", filepath.Join(dir, "bridge.db"), testKey)
	fmt.Fprintf(&b, "secondme:\n  api_url: %q\n  oauth:\n    authorize_url: %q\n    client_id: %q\n    client_secret: %q\n",
		sm.BaseURL(), sm.AuthorizeURL(), sm.ClientID(), rc.secret)
	fmt.Fprintf(&b, "discord:\n  enabled: true\n  token: %q\n  application_id: %q\n  api_url: %q\n%s",
		dc.Token(), dc.AppID(), dc.APIURL(), rc.discord)
	fmt.Fprintf(&b, "bridge:\n  edit_interval: 100ms\n%s", rc.bridge)
	fmt.Fprintf(&b, "log:\n  level: %s\n", rc.level)
	return b.String()
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	// Write and rename, as editors and config management do, so the
	// reload never reads half a file.
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
}

// waitLog waits until the logs contain want n times in all.
func waitLog(t *testing.T, logs *syncBuffer, want string, n int) {
	t.Helper()
	waitFor(t, fmt.Sprintf("%d× %q in the logs", n, want), func() bool { return strings.Count(logs.String(), want) >= n })
}

// TestReloadInProcess: a reload applies the live keys (log level, the
// bridge's tunables, the Discord allow lists), names the restart-only keys
// in one warning without their values, and keeps running on an invalid,
// unparsable or missing file.
func TestReloadInProcess(t *testing.T) {
	t.Parallel()
	dc, sm := discordtest.New(t), secondmetest.New(t)
	dir := t.TempDir()
	path := filepath.Join(dir, "config.yaml")
	rc := reloadConfig{addr: freeAddr(t), level: "info", secret: sm.ClientSecret(), shutdown: "5s"}
	writeFile(t, path, rc.yaml(dir, dc, sm))

	c, _, logs := testCLI(nil)
	reloads := make(chan os.Signal, 1)
	c.reloads = reloads
	started := make(chan *app, 1)
	c.onStart = func(a *app) { started <- a }
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	exit := make(chan int, 1)
	go func() { exit <- c.run(ctx, []string{"serve", "--config", path}) }()
	a := waitDone(t, started, "serve to start")
	base := "http://" + a.Addr().String()
	if code, rb := waitReady(t, base); code != http.StatusOK {
		t.Fatalf("/readyz = %d %+v\n%s", code, rb, logs)
	}
	get(t, base+"/healthz")
	if strings.Contains(logs.String(), "level=DEBUG") {
		t.Fatalf("debug lines at level info:\n%s", logs)
	}
	before := a.live.bridge.Tunables()

	// A valid file: live keys change, and two restart-only keys.
	rc2 := rc
	rc2.level, rc2.shutdown, rc2.secret = "debug", "7s", "rotated-client-secret"
	rc2.bridge = "  system_prompt: \"Be brief.\"\n  max_input_chars: 77\n  reply_as: bot\n  queue_size: 3\n  user_rate_limit: 5\n"
	rc2.discord = "  allowed_channels: [\"123\"]\n"
	writeFile(t, path, rc2.yaml(dir, dc, sm))
	reloads <- syscall.SIGHUP
	waitLog(t, logs, "msg=\"config reloaded\"", 1)
	want := bridge.Tunables{SystemPrompt: "Be brief.", EditInterval: 100 * time.Millisecond, MaxInputChars: 77, QueueSize: 3, UserRateLimit: 5, ReplyAs: bridge.ReplyAsBot}
	if got := a.live.bridge.Tunables(); !cmp.Equal(want, got) {
		t.Errorf("tunables after reload = %+v, want %+v", got, want)
	}
	out := logs.String()
	for _, line := range []string{
		`applied=discord.allowed_channels,bridge.system_prompt,bridge.max_input_chars,bridge.reply_as,bridge.queue_size,bridge.user_rate_limit,log.level`,
		`msg="config reload: these keys changed but need a restart; the running values are kept until then" keys=http.shutdown_timeout,secondme.oauth.client_secret`,
	} {
		if !strings.Contains(out, line) {
			t.Errorf("logs lack %q:\n%s", line, out)
		}
	}
	if strings.Contains(out, "rotated-client-secret") {
		t.Error("the reload logged a secret's value")
	}
	get(t, base+"/healthz")
	if !strings.Contains(logs.String(), `level=DEBUG msg="http request" method=GET pattern="GET /healthz"`) {
		t.Errorf("no debug line after switching to debug:\n%s", logs)
	}

	// Invalid files: refused, the running config kept, the process alive.
	// The last one is valid but names texts that do not fit (a wrong fmt
	// verb): refused too.
	badTexts := t.TempDir()
	writeFile(t, filepath.Join(badTexts, "en.yaml"), "language: en\ntexts:\n  chat.too_long: \"too long: %s\"\n")
	withBadTexts := rc2
	withBadTexts.bridge += "  texts_dir: " + badTexts + "\n"
	for i, content := range []string{
		strings.Replace(rc2.yaml(dir, dc, sm), "max_input_chars: 77", "max_input_chars: -1", 1),
		"http: [this is not: a mapping\n",
		withBadTexts.yaml(dir, dc, sm),
		"",
	} {
		if content == "" {
			if err := os.Remove(path); err != nil {
				t.Fatal(err)
			}
		} else {
			writeFile(t, path, content)
		}
		reloads <- syscall.SIGHUP
		waitLog(t, logs, `msg="config reload refused; the running config is kept"`, i+1)
		if got := a.live.bridge.Tunables(); !cmp.Equal(want, got) {
			t.Errorf("tunables after refused reload %d = %+v, want %+v", i, got, want)
		}
		if code, _ := get(t, base+"/healthz"); code != http.StatusOK {
			t.Fatalf("/healthz after a refused reload = %d", code)
		}
	}
	for _, why := range []string{"bridge.max_input_chars: must be greater than 0, got -1", "chat.too_long must take [%d %d] like the built-in text, has [%s]"} {
		if !strings.Contains(logs.String(), why) {
			t.Errorf("the refusal does not say %q:\n%s", why, logs)
		}
	}

	// Back to level info and the first tunables: debug lines stop.
	writeFile(t, path, rc.yaml(dir, dc, sm))
	reloads <- syscall.SIGHUP
	waitLog(t, logs, "msg=\"config reloaded\"", 2)
	if got := a.live.bridge.Tunables(); !cmp.Equal(before, got) {
		t.Errorf("tunables after reverting = %+v, want %+v", got, before)
	}
	n := strings.Count(logs.String(), "level=DEBUG")
	get(t, base+"/healthz")
	if m := strings.Count(logs.String(), "level=DEBUG"); m != n {
		t.Errorf("debug lines still written at level info (%d → %d)", n, m)
	}
	cancel()
	if code := waitDone(t, exit, "serve to exit"); code != exitOK {
		t.Errorf("exit code = %d\n%s", code, logs)
	}
}

func TestChangedKeys(t *testing.T) {
	t.Parallel()
	a := config.Default()
	b := a
	b.Discord.AllowedGuilds = []string{} // empty and nil are the same list
	b.Store.EncryptionKey = "other"
	b.Log.Format = "json"
	b.Bridge.EditInterval = 3 * time.Second
	got := changedKeys(a, b)
	want := []string{"store.encryption_key", "bridge.edit_interval", "log.format"}
	if !cmp.Equal(want, got) {
		t.Errorf("changedKeys = %v, want %v", got, want)
	}
}

// TestLogSwitchFollowsDerivedLoggers: loggers derived before a switch (With,
// WithGroup) follow the new level and format and keep their attributes.
func TestLogSwitchFollowsDerivedLoggers(t *testing.T) {
	t.Parallel()
	var buf syncBuffer
	root := newLogger(&buf, config.Log{Level: "info", Format: "text"})
	child := root.With("component", "bridge").WithGroup("reply").With("id", "r1")
	child.Debug("hidden")
	switchOf(root).set(config.Log{Level: "debug", Format: "json"})
	child.Debug("shown", "n", 1)
	got := strings.TrimSpace(buf.String())
	if strings.Contains(got, "hidden") {
		t.Errorf("a debug line passed at level info: %s", got)
	}
	if !strings.Contains(got, `"msg":"shown","component":"bridge","reply":{"id":"r1","n":1}`) {
		t.Errorf("after the switch: %s, want JSON with the derived attributes", got)
	}
}
