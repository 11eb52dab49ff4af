package main

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/secondme-bridge/secondme-bridge/internal/config"
	"github.com/secondme-bridge/secondme-bridge/store"
)

// startAppWith is startApp that also registers platforms (name → its
// connection flag) and returns the app, for its admin address.
func startAppWith(t *testing.T, cfg config.Config, wrap func(store.Store) store.Store, plats map[string]*atomic.Bool, order ...string) (*app, runningApp) {
	t.Helper()
	return runApp(t, cfg, wrap, func(a *app) {
		for _, name := range order {
			a.addPlatform(name, plats[name].Load)
		}
	})
}

// TestAdminListener: with http.admin_listen, /metrics and /debug/pprof
// are served only there, and only its /readyz carries error texts; the
// public listener keeps /healthz and a /readyz with names and states only.
func TestAdminListener(t *testing.T) {
	t.Parallel()
	cfg := testConfig(t)
	cfg.HTTP.AdminListen = "127.0.0.1:0"
	storeErr := errors.New("dial tcp 10.1.2.3:6379: connect: connection refused")
	a, app := startAppWith(t, cfg, func(s store.Store) store.Store { return downStore{Store: s, err: storeErr} }, nil)
	admin := "http://" + a.AdminAddr().String()
	public := app.base

	for _, path := range []string{"/metrics", "/debug/pprof/", "/debug/pprof/cmdline"} {
		if code, _ := get(t, public+path); code != http.StatusNotFound {
			t.Errorf("public %s = %d, want 404", path, code)
		}
	}
	if code, body := get(t, public+"/healthz"); code != http.StatusOK || body != "ok\n" {
		t.Errorf("public /healthz = %d %q", code, body)
	}
	code, body := get(t, public+"/readyz")
	if code != http.StatusServiceUnavailable || strings.Contains(body, "10.1.2.3") || strings.Contains(body, "error") {
		t.Errorf("public /readyz = %d %s, want 503 without error text", code, body)
	}
	code, rb := getReady(t, public)
	if want := (readyBody{Checks: []readyCheck{{Name: "store"}}}); !cmp.Equal(want, rb) {
		t.Errorf("public /readyz = %d %+v, want %+v", code, rb, want)
	}

	code, rb = getReady(t, admin)
	if want := (readyBody{Checks: []readyCheck{{Name: "store", Error: storeErr.Error()}}}); code != http.StatusServiceUnavailable || !cmp.Equal(want, rb) {
		t.Errorf("admin /readyz = %d %+v, want 503 %+v", code, rb, want)
	}
	code, metrics := get(t, admin+"/metrics")
	if code != http.StatusOK || !strings.Contains(metrics, "secondme_bridge_build_info{") ||
		!strings.Contains(metrics, `secondme_bridge_http_requests_total{code="404",pattern="unmatched"}`) {
		t.Errorf("admin /metrics = %d, lacks the build info or the public requests:\n%.2000s", code, metrics)
	}
	if code, body := get(t, admin+"/debug/pprof/"); code != http.StatusOK || !strings.Contains(body, "goroutine") {
		t.Errorf("admin /debug/pprof/ = %d %.200q", code, body)
	}
	if code, _ := get(t, admin+"/debug/pprof/goroutine?debug=1"); code != http.StatusOK {
		t.Errorf("admin goroutine profile = %d", code)
	}
	if code, _ := get(t, admin+"/healthz"); code != http.StatusOK {
		t.Errorf("admin /healthz = %d", code)
	}
	if err := app.stop(t); err != nil {
		t.Errorf("Run = %v", err)
	}
}

// TestNoAdminListenerNoPprof: without http.admin_listen the one listener
// serves /metrics and the detailed /readyz, and never pprof.
func TestNoAdminListenerNoPprof(t *testing.T) {
	t.Parallel()
	a, app := startAppWith(t, testConfig(t), nil, nil)
	if a.AdminAddr() != nil {
		t.Errorf("admin listener bound without http.admin_listen: %v", a.AdminAddr())
	}
	if code, _ := get(t, app.base+"/debug/pprof/"); code != http.StatusNotFound {
		t.Errorf("/debug/pprof/ = %d, want 404 on the public listener", code)
	}
	if code, _ := get(t, app.base+"/metrics"); code != http.StatusOK {
		t.Errorf("/metrics = %d, want 200 without an admin listener", code)
	}
}

// TestReadyzPerPlatform: one check per platform, named; the replica is not
// ready until a platform has connected, stays ready when one platform drops
// (the other, the link pages and the store still work), and stays ready
// when all have dropped after start; the store failing makes it unready.
func TestReadyzPerPlatform(t *testing.T) {
	t.Parallel()
	var storeDown atomic.Bool
	plats := map[string]*atomic.Bool{"discord": {}, "slack": {}}
	cfg := testConfig(t)
	cfg.HTTP.AdminListen = "127.0.0.1:0"
	a, _ := startAppWith(t, cfg, func(s store.Store) store.Store { return flakyStore{Store: s, down: &storeDown} }, plats, "discord", "slack")
	admin := "http://" + a.AdminAddr().String()

	expect := func(what string, wantCode int, want readyBody) {
		t.Helper()
		code, rb := getReady(t, admin)
		if code != wantCode || !cmp.Equal(want, rb) {
			t.Errorf("%s: /readyz = %d %+v, want %d %+v", what, code, rb, wantCode, want)
		}
	}
	expect("at start", 503, readyBody{Checks: []readyCheck{
		{Name: "store", OK: true}, {Name: "discord", Error: "gateway not connected yet"}, {Name: "slack", Error: "Socket Mode connection not connected yet"}}})
	plats["slack"].Store(true)
	expect("slack up", 200, readyBody{Ready: true, Checks: []readyCheck{
		{Name: "store", OK: true}, {Name: "discord", Error: "gateway not connected yet"}, {Name: "slack", OK: true}}})
	plats["discord"].Store(true)
	plats["slack"].Store(false)
	expect("slack dropped", 200, readyBody{Ready: true, Checks: []readyCheck{
		{Name: "store", OK: true}, {Name: "discord", OK: true}, {Name: "slack", Error: "Socket Mode connection disconnected, reconnecting"}}})
	plats["discord"].Store(false)
	expect("both dropped", 200, readyBody{Ready: true, Checks: []readyCheck{
		{Name: "store", OK: true}, {Name: "discord", Error: "gateway disconnected, reconnecting"}, {Name: "slack", Error: "Socket Mode connection disconnected, reconnecting"}}})
	storeDown.Store(true)
	expect("store down", 503, readyBody{Checks: []readyCheck{
		{Name: "store", Error: "redis: connection pool timeout"}, {Name: "discord", Error: "gateway disconnected, reconnecting"}, {Name: "slack", Error: "Socket Mode connection disconnected, reconnecting"}}})

	code, metrics := get(t, admin+"/metrics")
	for _, want := range []string{`secondme_bridge_platform_connected{platform="discord"} 0`, `secondme_bridge_platform_connected{platform="slack"} 0`} {
		if !strings.Contains(metrics, want) {
			t.Errorf("/metrics (%d) lacks %q", code, want)
		}
	}
	plats["discord"].Store(true)
	if _, metrics := get(t, admin+"/metrics"); !strings.Contains(metrics, `secondme_bridge_platform_connected{platform="discord"} 1`) {
		t.Errorf("/metrics lacks discord connected 1")
	}
}

// TestPlatformConnectRememberedWithoutProbe: a platform that connects and
// drops between two probes still counts as started (watchPlatforms).
func TestPlatformConnectRememberedWithoutProbe(t *testing.T) {
	t.Parallel()
	plats := map[string]*atomic.Bool{"discord": {}}
	a, app := startAppWith(t, testConfig(t), nil, plats, "discord")
	plats["discord"].Store(true)
	waitFor(t, "the watcher to see discord connected", a.platforms[0].seen.Load)
	plats["discord"].Store(false)
	if code, rb := getReady(t, app.base); code != http.StatusOK {
		t.Errorf("/readyz = %d %+v, want 200: discord connected once", code, rb)
	}
}

// flakyStore fails Ping while down is set.
type flakyStore struct {
	store.Store
	down *atomic.Bool
}

func (f flakyStore) Ping(ctx context.Context) error {
	if f.down.Load() {
		return errors.New("redis: connection pool timeout")
	}
	return f.Store.Ping(ctx)
}

// detailedComponent is a fakeComponent that describes a platform's state
// (as the Discord shards component does).
type detailedComponent struct{ *fakeComponent }

func (d detailedComponent) ReadyDetail() string { return "holds 0,1 of 4" }

// TestReadyzShardDetailNeverUnready: a component that only describes a
// platform (the shards a replica holds) shows on /readyz, but a shard that
// is still being identified, say after a takeover, does not make the
// replica unready: the survivor stays in the load balancer.
func TestReadyzShardDetailNeverUnready(t *testing.T) {
	t.Parallel()
	plats := map[string]*atomic.Bool{"discord": {}}
	plats["discord"].Store(true)
	shards := detailedComponent{&fakeComponent{name: "discord_shards"}}
	_, run := runApp(t, testConfig(t), nil, func(a *app) {
		a.addPlatform("discord", plats["discord"].Load)
		a.addComponent(shards)
	})
	waitFor(t, "discord seen", func() bool { code, _ := getReady(t, run.base); return code == 200 })
	code, rb := getReady(t, run.base)
	want := readyBody{Ready: true, Checks: []readyCheck{
		{Name: "store", OK: true}, {Name: "discord", OK: true},
		{Name: "discord_shards", Error: "not ready", Detail: "holds 0,1 of 4"}}}
	if code != 200 || !cmp.Equal(want, rb) {
		t.Errorf("/readyz with a shard not connected = %d %+v, want 200 %+v", code, rb, want)
	}
	shards.ready.Store(true)
	want.Checks[2] = readyCheck{Name: "discord_shards", OK: true, Detail: "holds 0,1 of 4"}
	if code, rb := getReady(t, run.base); code != 200 || !cmp.Equal(want, rb) {
		t.Errorf("/readyz with every shard connected = %d %+v, want 200 %+v", code, rb, want)
	}
}
