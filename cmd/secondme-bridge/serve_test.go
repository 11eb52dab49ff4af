package main

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestServeInProcess runs the real serve command in-process against the fake
// Discord, Slack and SecondMe: it loads the file, listens, answers /healthz,
// reports ready once both platforms are connected, and exits 0 when its
// context is cancelled (as on SIGTERM).
func TestServeInProcess(t *testing.T) {
	t.Parallel()
	sv := newServices(t)
	path := writeConfig(t, goodYAML(sv))
	c, _, stderr := testCLI(map[string]string{"SECONDME_BRIDGE_CONFIG": path, "SECONDME_BRIDGE_LOG_LEVEL": "debug"})
	started := make(chan string, 1)
	c.onStart = func(a *app) { started <- "http://" + a.Addr().String() }

	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	exit := make(chan int, 1)
	go func() { exit <- c.run(ctx, []string{"serve"}) }()
	base := waitDone(t, started, "serve to start")

	if code, body := get(t, base+"/healthz"); code != http.StatusOK || body != "ok\n" {
		t.Errorf("/healthz = %d %q", code, body)
	}
	if code, rb := waitReady(t, base); code != http.StatusOK || !rb.Ready {
		t.Errorf("/readyz = %d %+v", code, rb)
	}
	cancel()
	if code := waitDone(t, exit, "serve to exit"); code != exitOK {
		t.Errorf("exit code = %d, want 0; stderr:\n%s", code, stderr)
	}
	logs := stderr.String()
	for _, want := range []string{"msg=\"starting secondme-bridge\"", "store=\"bolt ", "msg=\"shutting down\"", "msg=stopped"} {
		if !strings.Contains(logs, want) {
			t.Errorf("logs lack %q:\n%s", want, logs)
		}
	}
	for _, secret := range []string{sv.discord.Token(), sv.slack.BotToken(), sv.slack.AppToken(), sv.secondme.ClientSecret(), testKey} {
		if strings.Contains(logs, secret) {
			t.Errorf("logs contain secret %q", secret)
		}
	}
}

// waitReady polls /readyz until it answers 200 with every check ok (every
// platform connected: a replica is ready once one platform has connected)
// or 10 s pass (platform adapters connect in the background after start),
// and returns the last answer.
func waitReady(t *testing.T, base string) (int, readyBody) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		code, rb := getReady(t, base)
		allOK := true
		for _, c := range rb.Checks {
			allOK = allOK && c.OK
		}
		if (code == http.StatusOK && allOK) || time.Now().After(deadline) {
			return code, rb
		}
		time.Sleep(50 * time.Millisecond)
	}
}
