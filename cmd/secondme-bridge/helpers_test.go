package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/secondme-bridge/secondme-bridge/internal/testutil"
)

// testKey is base64 of 32 bytes: a valid store.encryption_key.
const testKey = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="

// syncBuffer collects output written concurrently (a server's logger)
// while the test reads it.
type syncBuffer = testutil.SyncBuffer

// testCLI returns a cli writing to buffers, with env as its environment.
func testCLI(env map[string]string) (*cli, *syncBuffer, *syncBuffer) {
	stdout, stderr := &syncBuffer{}, &syncBuffer{}
	c := newCLI(stdout, stderr, func(k string) string { return env[k] })
	return c, stdout, stderr
}

// runCLI runs args through a fresh cli and returns the exit code and output.
func runCLI(t *testing.T, env map[string]string, args ...string) (int, string, string) {
	t.Helper()
	c, stdout, stderr := testCLI(env)
	code := c.run(t.Context(), args)
	return code, stdout.String(), stderr.String()
}

// writeConfig writes a config file built from yaml and returns its path.
// "DIR" in yaml is replaced by a fresh temporary directory.
func writeConfig(t *testing.T, yaml string) string {
	t.Helper()
	dir := t.TempDir()
	path := filepath.Join(dir, "config.yaml")
	if err := os.WriteFile(path, []byte(strings.ReplaceAll(yaml, "DIR", dir)), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// minimalYAML is a valid config: bolt in DIR, Discord enabled (pointed at
// an unreachable API, which only check would call), HTTP on a free port.
const minimalYAML = `
http:
  listen: "127.0.0.1:0"
  public_url: "https://bridge.test"
  shutdown_timeout: 2s
store:
  path: DIR/bridge.db
  encryption_key: "` + testKey + `"
secondme:
  oauth:
    client_id: client-good
    client_secret: secret-good
discord:
  enabled: true
  token: discord-good
  application_id: "123"
  api_url: http://127.0.0.1:1/api/v9
`

// waitDone waits for ch or fails the test after a while.
func waitDone[T any](t *testing.T, ch <-chan T, what string) T {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	select {
	case v := <-ch:
		return v
	case <-ctx.Done():
		t.Fatalf("timed out waiting for %s", what)
		var zero T
		return zero
	}
}

// waitFor polls cond until it holds or 10 s pass (then it fails the test).
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	waitWithin(t, 10*time.Second, what, cond)
}

// waitWithin polls cond every 10 ms until it holds or within passes (then
// it fails with what), and returns how long it took.
func waitWithin(t *testing.T, within time.Duration, what string, cond func() bool) time.Duration {
	t.Helper()
	start := time.Now()
	for !cond() {
		if time.Since(start) > within {
			t.Fatalf("%s: not within %v", what, within)
		}
		time.Sleep(10 * time.Millisecond)
	}
	return time.Since(start)
}
