package discord

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/secondme-bridge/secondme-bridge/internal/testutil"
	"github.com/secondme-bridge/secondme-bridge/platforms"
	"github.com/secondme-bridge/secondme-bridge/platforms/discord/discordtest"
	"github.com/secondme-bridge/secondme-bridge/platforms/platformtest"
)

// waitTimeout bounds every wait in the tests.
const waitTimeout = 10 * time.Second

func testLogger(t *testing.T) *slog.Logger {
	t.Helper()
	return testutil.Logger(t, slog.LevelInfo)
}

// loopbackOnly fails every request that is not for 127.0.0.1: no test
// request may escape to discord.com.
// Its next transport is http.DefaultTransport unless set.
type loopbackOnly struct{ next http.RoundTripper }

func (l loopbackOnly) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.URL.Hostname() != "127.0.0.1" {
		return nil, fmt.Errorf("test transport: request to %s refused", r.URL.Host)
	}
	if l.next != nil {
		return l.next.RoundTrip(r)
	}
	return http.DefaultTransport.RoundTrip(r)
}

func loopbackDialer() *websocket.Dialer {
	return &websocket.Dialer{
		HandshakeTimeout: 5 * time.Second,
		NetDialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			host, _, err := net.SplitHostPort(addr)
			if err != nil || host != "127.0.0.1" {
				return nil, fmt.Errorf("test dialer: dial %s refused", addr)
			}
			return (&net.Dialer{}).DialContext(ctx, network, addr)
		},
	}
}

// testConfig points an adapter at srv.
func testConfig(srv *discordtest.Server) Config {
	return Config{
		Token: srv.Token(), ApplicationID: srv.AppID(), APIURL: srv.APIURL(),
		HTTPClient: &http.Client{Transport: loopbackOnly{}, Timeout: 5 * time.Second},
		Dialer:     loopbackDialer(),
		Commands:   platformtest.CommandSpecs(),
	}
}

// recorder is a platforms.Handler that records events.
type recorder struct {
	mu      sync.Mutex
	events  []platforms.Event
	ignored []string
	changed chan struct{}
	// check, when set, runs inside HandleEvent (e.g. to assert that an
	// interaction was acknowledged first).
	check func(platforms.Event)
}

func newRecorder() *recorder { return &recorder{changed: make(chan struct{})} }

func (r *recorder) HandleEvent(_ context.Context, ev platforms.Event) {
	r.mu.Lock()
	check := r.check
	r.mu.Unlock()
	if check != nil {
		check(ev)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events = append(r.events, ev)
	close(r.changed)
	r.changed = make(chan struct{})
}

func (r *recorder) setCheck(f func(platforms.Event)) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.check = f
}

func (r *recorder) ignore(id string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.ignored = append(r.ignored, id)
	close(r.changed)
	r.changed = make(chan struct{})
}

func (r *recorder) snapshot() ([]platforms.Event, []string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]platforms.Event(nil), r.events...), append([]string(nil), r.ignored...)
}

// waitUntil waits until cond holds over the recorded events and ignored ids.
func (r *recorder) waitUntil(t *testing.T, what string, cond func([]platforms.Event, []string) bool) {
	t.Helper()
	timeout := time.After(waitTimeout)
	for {
		r.mu.Lock()
		ok := cond(r.events, r.ignored)
		ch := r.changed
		r.mu.Unlock()
		if ok {
			return
		}
		select {
		case <-ch:
		case <-timeout:
			evs, ign := r.snapshot()
			var seen []string
			for _, ev := range evs {
				seen = append(seen, fmt.Sprintf("%v(%d chars)", ev.DedupeIDs, len(ev.Text)))
			}
			t.Fatalf("timed out waiting for %s; events=%v ignored=%v", what, seen, ign)
		}
	}
}

// event waits for the event whose MessageID or DedupeIDs match id.
func (r *recorder) event(t *testing.T, dedupeID string) platforms.Event {
	t.Helper()
	var out platforms.Event
	r.waitUntil(t, "event "+dedupeID, func(evs []platforms.Event, _ []string) bool {
		for _, ev := range evs {
			for _, id := range ev.DedupeIDs {
				if id == dedupeID {
					out = ev
					return true
				}
			}
		}
		return false
	})
	return out
}

// ignoredID waits until the adapter has ignored id.
func (r *recorder) ignoredID(t *testing.T, id string) {
	t.Helper()
	r.waitUntil(t, "ignored "+id, func(_ []platforms.Event, ign []string) bool {
		for _, x := range ign {
			if x == id {
				return true
			}
		}
		return false
	})
}

// startAdapter runs an adapter against srv until the test ends; the
// adapter stops before the fake closes.
func startAdapter(t *testing.T, srv *discordtest.Server, mutate func(*Config)) (*Adapter, *recorder) {
	t.Helper()
	return startTuned(t, srv, mutate, nil)
}

// startTuned is startAdapter with tune, when given, called on the adapter
// before it runs.
func startTuned(t *testing.T, srv *discordtest.Server, mutate func(*Config), tune func(*Adapter)) (*Adapter, *recorder) {
	t.Helper()
	cfg := testConfig(srv)
	if mutate != nil {
		mutate(&cfg)
	}
	a, err := New(cfg, testLogger(t))
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	a.backoffMin, a.backoffMax = 20*time.Millisecond, 200*time.Millisecond
	rec := newRecorder()
	a.ignored = rec.ignore
	if tune != nil {
		tune(a)
	}
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx, rec) }()
	t.Cleanup(func() {
		srv.AssertNoPings(t)
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Run returned %v", err)
			}
		case <-time.After(waitTimeout):
			t.Errorf("Run did not return after cancel")
		}
	})
	waitCtx, wcancel := context.WithTimeout(t.Context(), waitTimeout)
	defer wcancel()
	if err := srv.WaitReady(waitCtx); err != nil {
		t.Fatalf("gateway not ready: %v", err)
	}
	waitFor(t, "adapter ready", a.Ready)
	return a, rec
}

// waitFor polls cond.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(waitTimeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func waitCtx(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), waitTimeout)
	t.Cleanup(cancel)
	return ctx
}

func mustNoErr(t *testing.T, err error, what string) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

func asRateLimit(err error) (*platforms.RateLimitError, bool) {
	var rl *platforms.RateLimitError
	ok := errors.As(err, &rl)
	return rl, ok
}

func readAll(resp *http.Response) []byte {
	b, _ := io.ReadAll(resp.Body)
	return b
}

// newLoopbackServer starts an httptest server and returns its URL.
func newLoopbackServer(t *testing.T, h http.Handler) string {
	t.Helper()
	s := httptest.NewServer(h)
	t.Cleanup(s.Close)
	return s.URL
}
