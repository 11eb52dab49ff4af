package main

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/secondme-bridge/secondme-bridge/internal/config"
	"github.com/secondme-bridge/secondme-bridge/internal/testutil"
	"github.com/secondme-bridge/secondme-bridge/store"
)

// fakeComponent is a component whose readiness and Run the test controls.
type fakeComponent struct {
	name  string
	ready atomic.Bool
	// run replaces the default Run (block until ctx is done).
	run func(ctx context.Context) error
}

func (f *fakeComponent) Name() string { return f.name }
func (f *fakeComponent) Ready() bool  { return f.ready.Load() }
func (f *fakeComponent) Run(ctx context.Context) error {
	if f.run != nil {
		return f.run(ctx)
	}
	<-ctx.Done()
	return nil
}

// downStore is a store whose Ping fails, as an unreachable Redis does.
type downStore struct {
	store.Store
	err error
}

func (d downStore) Ping(context.Context) error { return d.err }

func testConfig(t *testing.T) config.Config {
	t.Helper()
	cfg := config.Default()
	cfg.HTTP.Listen = "127.0.0.1:0"
	cfg.HTTP.PublicURL = "https://bridge.test"
	cfg.HTTP.ShutdownTimeout = 2 * time.Second
	cfg.Store.Path = filepath.Join(t.TempDir(), "bridge.db")
	cfg.Store.EncryptionKey = testKey
	return cfg
}

func testLogger(t *testing.T) *slog.Logger {
	t.Helper()
	return testutil.Logger(t, slog.LevelDebug)
}

// runningApp is an app running in the background.
type runningApp struct {
	base   string // http://127.0.0.1:port
	cancel context.CancelFunc
	done   <-chan error // Run's result
}

// stop cancels the app's context and returns Run's error.
func (r runningApp) stop(t *testing.T) error {
	t.Helper()
	r.cancel()
	return waitDone(t, r.done, "app.Run to return")
}

// startApp builds an app on a bolt store (wrapped by wrap, if given), adds
// comps and runs it.
func startApp(t *testing.T, cfg config.Config, wrap func(store.Store) store.Store, comps ...component) runningApp {
	t.Helper()
	_, run := runApp(t, cfg, wrap, func(a *app) {
		for _, c := range comps {
			a.addComponent(c)
		}
	})
	return run
}

// runApp builds an app on the store of cfg (wrapped by wrap, if given),
// lets setup register what the test needs, and runs it until the test
// ends.
func runApp(t *testing.T, cfg config.Config, wrap func(store.Store) store.Store, setup func(*app)) (*app, runningApp) {
	t.Helper()
	st, err := openStore(t.Context(), cfg.Store, testLogger(t))
	if err != nil {
		t.Fatal(err)
	}
	if wrap != nil {
		st = wrap(st)
	}
	a, err := newAppWithStore(cfg, testLogger(t), st)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = a.Close() })
	setup(a)
	ctx, cancel := context.WithCancel(t.Context())
	t.Cleanup(cancel)
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx) }()
	return a, runningApp{base: "http://" + a.Addr().String(), cancel: cancel, done: done}
}

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer func() { _ = resp.Body.Close() }()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(body)
}

type readyBody struct {
	Ready  bool         `json:"ready"`
	Checks []readyCheck `json:"checks"`
}

func getReady(t *testing.T, base string) (int, readyBody) {
	t.Helper()
	code, body := get(t, base+"/readyz")
	var rb readyBody
	if err := json.Unmarshal([]byte(body), &rb); err != nil {
		t.Fatalf("readyz body %q: %v", body, err)
	}
	return code, rb
}

func TestHealthReadyMetrics(t *testing.T) {
	t.Parallel()
	discord := &fakeComponent{name: "discord"}
	app := startApp(t, testConfig(t), nil, discord)
	base := app.base

	if code, body := get(t, base+"/healthz"); code != http.StatusOK || body != "ok\n" {
		t.Errorf("/healthz = %d %q", code, body)
	}
	code, rb := getReady(t, base)
	want := readyBody{Checks: []readyCheck{{Name: "store", OK: true}, {Name: "discord", Error: "not ready"}}}
	if code != http.StatusServiceUnavailable || !cmp.Equal(want, rb) {
		t.Errorf("/readyz before ready = %d %+v, want 503 %+v", code, rb, want)
	}
	discord.ready.Store(true)
	code, rb = getReady(t, base)
	want = readyBody{Ready: true, Checks: []readyCheck{{Name: "store", OK: true}, {Name: "discord", OK: true}}}
	if code != http.StatusOK || !cmp.Equal(want, rb) {
		t.Errorf("/readyz when ready = %d %+v, want 200 %+v", code, rb, want)
	}

	code, metrics := get(t, base+"/metrics")
	for _, want := range []string{
		"go_goroutines ",
		"process_start_time_seconds ",
		`secondme_bridge_build_info{commit="`,
		`secondme_bridge_http_requests_total{code="200",pattern="GET /healthz"} 1`,
		`secondme_bridge_http_requests_total{code="503",pattern="GET /readyz"} 1`,
	} {
		if !strings.Contains(metrics, want) {
			t.Errorf("/metrics (%d) lacks %q", code, want)
		}
	}
	if code, _ := get(t, base+"/nope"); code != http.StatusNotFound {
		t.Errorf("/nope = %d, want 404", code)
	}
	if err := app.stop(t); err != nil {
		t.Errorf("Run after cancel = %v, want nil", err)
	}
}

func TestReadyzStoreDown(t *testing.T) {
	t.Parallel()
	app := startApp(t, testConfig(t), func(s store.Store) store.Store {
		return downStore{Store: s, err: errors.New("dial tcp 127.0.0.1:6379: connect: connection refused")}
	})
	base := app.base
	code, rb := getReady(t, base)
	want := readyBody{Checks: []readyCheck{{Name: "store", Error: "dial tcp 127.0.0.1:6379: connect: connection refused"}}}
	if code != http.StatusServiceUnavailable || !cmp.Equal(want, rb) {
		t.Errorf("/readyz = %d %+v, want 503 %+v", code, rb, want)
	}
	if code, _ := get(t, base+"/healthz"); code != http.StatusOK {
		t.Errorf("/healthz = %d, want 200 while alive", code)
	}
}

func TestRunStopsWhenAComponentFails(t *testing.T) {
	t.Parallel()
	other := make(chan struct{})
	failing := &fakeComponent{name: "slack", run: func(context.Context) error { return errors.New("invalid_auth") }}
	watcher := &fakeComponent{name: "watcher", run: func(ctx context.Context) error {
		<-ctx.Done()
		close(other)
		return nil
	}}
	app := startApp(t, testConfig(t), nil, failing, watcher)
	err := waitDone(t, app.done, "Run to fail") // no cancel: the failure stops it
	if err == nil || err.Error() != "run slack: invalid_auth" {
		t.Errorf("Run = %v, want run slack: invalid_auth", err)
	}
	waitDone(t, other, "the other component to be cancelled")
}

func TestRunShutdownDeadline(t *testing.T) {
	t.Parallel()
	cfg := testConfig(t)
	cfg.HTTP.ShutdownTimeout = 100 * time.Millisecond
	release := make(chan struct{})
	t.Cleanup(func() { close(release) })
	stuck := &fakeComponent{name: "stuck", run: func(context.Context) error { <-release; return nil }}
	app := startApp(t, cfg, nil, stuck)
	start := time.Now()
	err := app.stop(t)
	if err == nil || err.Error() != "shut down: still running after 100ms: [stuck]" {
		t.Errorf("Run = %v", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("shutdown took %s", d)
	}
}

func TestNewAppErrors(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = ln.Close() }()
	cfg := testConfig(t)
	cfg.HTTP.Listen = ln.Addr().String()
	_, err = newApp(t.Context(), cfg, testLogger(t))
	if err == nil || !strings.Contains(err.Error(), "listen on "+ln.Addr().String()+": ") {
		t.Errorf("newApp on a busy port = %v", err)
	}

	// The bolt file of a running app cannot be opened a second time: the
	// error names the file.
	cfg = testConfig(t)
	a, err := newApp(t.Context(), cfg, testLogger(t))
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = a.Close() }()
	_, err = newApp(t.Context(), cfg, testLogger(t))
	if err == nil || !strings.Contains(err.Error(), cfg.Store.Path) || !strings.Contains(err.Error(), "locked") {
		t.Errorf("second newApp on one bolt file = %v", err)
	}

	cfg = testConfig(t)
	cfg.Store.Driver = "sqlite"
	if _, err := newApp(t.Context(), cfg, testLogger(t)); err == nil || err.Error() != `open store: unknown driver "sqlite"` {
		t.Errorf("unknown driver: %v", err)
	}
}
