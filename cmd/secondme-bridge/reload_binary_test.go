package main

import (
	"errors"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/secondme-bridge/secondme-bridge/platforms/discord/discordtest"
	"github.com/secondme-bridge/secondme-bridge/secondme/secondmetest"
)

// TestReloadBinarySIGHUP runs the real binary against the fakes and sends
// it SIGHUP in the middle of a streaming reply: the reply completes with
// the whole text, the new log level and the operator's texts
// (bridge.texts_dir) take effect, an invalid file is refused, and the
// process never exits on SIGHUP (it used to die with exit 129); SIGTERM
// still stops it cleanly.
func TestReloadBinarySIGHUP(t *testing.T) {
	t.Parallel()
	bin := bridgeBinary(t)
	dc, sm := discordtest.New(t), secondmetest.New(t)
	dir := t.TempDir()
	path := filepath.Join(dir, "config.yaml")
	rc := reloadConfig{addr: freeAddr(t), level: "info", secret: sm.ClientSecret(), shutdown: "5s"}
	writeFile(t, path, rc.yaml(dir, dc, sm))

	logs := &syncBuffer{}
	cmd := exec.Command(bin, "serve", "--config", path)
	cmd.Stdout, cmd.Stderr = logs, logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			_ = cmd.Process.Kill()
			<-exited
		}
	})
	alive := func(when string) {
		t.Helper()
		select {
		case err := <-exited:
			t.Fatalf("the process exited %s: %v\n%s", when, err, logs)
		default:
		}
	}
	e := &e2e{sm: sm, dc: dc, base: "http://" + rc.addr, logs: logs}
	waitFor(t, "the binary to listen", func() bool { return strings.Contains(logs.String(), "http server listening") })
	if code, rb := waitReady(t, e.base); code != 200 {
		t.Fatalf("/readyz = %d %+v\n%s", code, rb, logs)
	}
	u := discordtest.DefaultUser
	linkDiscordUser(t, e, u, "42", "Ada Lovelace")

	hold := make(chan struct{})
	deltas := []string{"Part one, ", "part two, ", "and the end after the reload."}
	sm.QueueStream(secondmetest.Script{Deltas: deltas, Hold: hold, HoldAfter: 2})
	trigger, err := dc.Mention(discordtest.DefaultGuildID, discordtest.DefaultChannelID, u, "tell me")
	if err != nil {
		t.Fatal(err)
	}
	ctx := waitCtx(t)
	if _, err := dc.WaitReply(ctx, trigger.ID, func(m discordtest.Message) bool {
		return strings.Contains(m.Content, "part two")
	}); err != nil {
		t.Fatalf("the reply did not start: %v\n%s", err, logs)
	}
	if strings.Contains(logs.String(), "level=DEBUG") {
		t.Fatalf("debug lines at level info:\n%s", logs)
	}

	const custom = "Custom link title"
	if _, page := get(t, e.base+"/link/not-a-link"); strings.Contains(page, custom) {
		t.Fatal("the override shows before it is configured")
	}

	// SIGHUP mid-reply, with log.level now debug and an override of the
	// link pages' titles.
	texts := t.TempDir()
	writeFile(t, filepath.Join(texts, "en.yaml"), "language: en\ntexts:\n  page.invalid.title: "+custom+"\n  page.expired.title: "+custom+"\n")
	rc.level = "debug"
	rc.bridge = "  texts_dir: " + texts + "\n"
	writeFile(t, path, rc.yaml(dir, dc, sm))
	if err := cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	waitLog(t, logs, `msg="config reloaded"`, 1)
	alive("on SIGHUP")
	close(hold)
	want := strings.Join(deltas, "")
	final, err := dc.WaitReply(ctx, trigger.ID, func(m discordtest.Message) bool { return m.Content == want })
	if err != nil {
		t.Fatalf("the reply did not complete after the reload: %v (last %q)\n%s", err, final.Content, logs)
	}
	get(t, e.base+"/healthz")
	waitLog(t, logs, `level=DEBUG msg="http request"`, 1)
	if _, page := get(t, e.base+"/link/not-a-link"); !strings.Contains(page, custom) {
		t.Errorf("the link page does not show the overridden title after the reload:\n%s", page)
	}

	// An invalid file is refused; the process keeps serving.
	writeFile(t, path, "http: [not: a mapping\n")
	if err := cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	waitLog(t, logs, `msg="config reload refused; the running config is kept"`, 1)
	alive("on SIGHUP with an invalid file")
	if code, _ := get(t, e.base+"/healthz"); code != 200 {
		t.Errorf("/healthz after the refused reload = %d", code)
	}

	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-exited:
		var ee *exec.ExitError
		if errors.As(err, &ee) || err != nil {
			t.Errorf("exit after SIGTERM: %v, want 0\n%s", err, logs)
		}
	case <-time.After(30 * time.Second):
		t.Fatalf("no exit 30 s after SIGTERM\n%s", logs)
	}
}
