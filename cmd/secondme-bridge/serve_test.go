package main

import (
	"context"
	"net/http"
	"strings"
	"testing"
)

// TestServeInProcess runs the real serve command in-process: it loads the
// file, listens, answers /healthz and /readyz, and exits 0 when its context
// is cancelled (as on SIGTERM).
func TestServeInProcess(t *testing.T) {
	t.Parallel()
	path := writeConfig(t, minimalYAML)
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
	if code, rb := getReady(t, base); code != http.StatusOK || !rb.Ready {
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
	for _, secret := range []string{"discord-good", "secret-good", testKey} {
		if strings.Contains(logs, secret) {
			t.Errorf("logs contain secret %q", secret)
		}
	}
}
