package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/secondme-bridge/secondme-bridge/internal/config"
	"github.com/secondme-bridge/secondme-bridge/store/storetest"
)

// testRedisURL returns the real Redis to test against (see
// storetest.RequireRedis: skipped without one, failed when CI=true).
func testRedisURL(t *testing.T) string {
	t.Helper()
	storetest.RequireRedis(t)
	return storetest.RedisURL()
}

// uniquePrefix is a Redis key prefix no other test uses.
func uniquePrefix(t *testing.T) string {
	var b [4]byte
	_, _ = rand.Read(b[:])
	return "cmdtest:" + strings.ReplaceAll(t.Name(), "/", ":") + ":" + hex.EncodeToString(b[:]) + ":"
}

// TestServeTwoReplicasOnRedis runs two serve processes (in-process) on one
// real Redis, as two replicas would: both start and report ready.
func TestServeTwoReplicasOnRedis(t *testing.T) {
	t.Parallel()
	redisURL := testRedisURL(t)
	env := map[string]string{
		"SECONDME_BRIDGE_STORE_DRIVER":     "redis",
		"SECONDME_BRIDGE_STORE_REDIS_URL":  redisURL,
		"SECONDME_BRIDGE_STORE_KEY_PREFIX": uniquePrefix(t),
	}
	path := writeConfig(t, goodYAML(newServices(t)))
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	var exits []chan int
	var logs []*syncBuffer
	for range 2 {
		c, _, stderr := testCLI(env)
		started := make(chan string, 1)
		c.onStart = func(a *app) { started <- "http://" + a.Addr().String() }
		exit := make(chan int, 1)
		go func() { exit <- c.run(ctx, []string{"serve", "--config", path}) }()
		var base string
		select {
		case base = <-started:
		case code := <-exit:
			t.Fatalf("replica exited with %d before starting; logs:\n%s", code, stderr)
		case <-time.After(10 * time.Second):
			t.Fatalf("replica did not start; logs:\n%s", stderr)
		}
		if code, rb := waitReady(t, base); code != http.StatusOK || !rb.Ready {
			t.Errorf("replica /readyz = %d %+v", code, rb)
		}
		exits, logs = append(exits, exit), append(logs, stderr)
	}
	cancel()
	for i, exit := range exits {
		if code := waitDone(t, exit, "a replica to exit"); code != exitOK {
			t.Errorf("replica %d exit code %d; logs:\n%s", i, code, logs[i])
		}
	}
	u, _ := url.Parse(redisURL)
	if pw, ok := u.User.Password(); ok && strings.Contains(logs[0].String(), pw) {
		t.Error("logs contain the Redis password")
	}
}

func TestCheckRedisStore(t *testing.T) {
	t.Parallel()
	redisURL := testRedisURL(t)
	path := writeConfig(t, goodYAML(newServices(t)))
	env := map[string]string{
		"SECONDME_BRIDGE_STORE_DRIVER":     "redis",
		"SECONDME_BRIDGE_STORE_REDIS_URL":  redisURL,
		"SECONDME_BRIDGE_STORE_KEY_PREFIX": uniquePrefix(t),
	}
	code, stdout, _ := runCLI(t, env, "check", "--config", path)
	want := "PASS  store (" + describeStore(config.Store{Driver: config.DriverRedis, RedisURL: config.Secret(redisURL)}) + ")\n"
	if code != exitOK || !strings.Contains(stdout, want) {
		t.Errorf("exit %d, stdout lacks %q:\n%s", code, want, stdout)
	}
}

// TestRedisDownAtStart: an unreachable Redis at start is not fatal; /readyz
// says not ready (naming the store) until the server is back, then ready,
// without a restart (go-redis reconnects). The server is a private
// redis-server that requires the URL's password, started only after the
// app: it comes back on the address the app was given.
func TestRedisDownAtStart(t *testing.T) {
	t.Parallel()
	srv := storetest.NewRedisServer(t, storetest.RedisServerOptions{Password: "pw-sekrit"})
	cfg := testConfig(t)
	cfg.Store.Driver = config.DriverRedis
	cfg.Store.RedisURL = config.Secret(srv.URL())
	app := startApp(t, cfg, nil)

	code, rb := getReady(t, app.base)
	if code != http.StatusServiceUnavailable || rb.Ready || len(rb.Checks) != 1 || rb.Checks[0].Name != "store" || rb.Checks[0].OK {
		t.Fatalf("/readyz with Redis down = %d %+v", code, rb)
	}
	if strings.Contains(rb.Checks[0].Error, "pw-sekrit") {
		t.Errorf("/readyz leaks the Redis password: %q", rb.Checks[0].Error)
	}
	if code, _ := get(t, app.base+"/healthz"); code != http.StatusOK {
		t.Errorf("/healthz = %d while Redis is down, want 200", code)
	}

	srv.Start(t)
	deadline := time.Now().Add(10 * time.Second)
	for {
		code, rb = getReady(t, app.base)
		if code == http.StatusOK {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("/readyz still %d %+v after Redis came back", code, rb)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if !rb.Ready || len(rb.Checks) != 1 || rb.Checks[0].Name != "store" || !rb.Checks[0].OK {
		t.Errorf("/readyz with Redis back = %d %+v, want ready with the store ok", code, rb)
	}
	if err := app.stop(t); err != nil {
		t.Errorf("Run = %v", err)
	}
}
