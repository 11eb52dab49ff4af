package slack

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/secondme-bridge/secondme-bridge/internal/testutil"
	"github.com/secondme-bridge/secondme-bridge/platforms"
	"github.com/secondme-bridge/secondme-bridge/platforms/platformtest"
	"github.com/secondme-bridge/secondme-bridge/platforms/slack/slacktest"
)

const testSecret = "8f742231b10e8888abcd99yyyzzz85a5"

// recorder is a platforms.Handler that records every event.
type recorder struct {
	mu     sync.Mutex
	events []platforms.Event
	block  chan struct{} // when non-nil, HandleEvent waits for it to close
}

func (r *recorder) HandleEvent(_ context.Context, ev platforms.Event) {
	if r.block != nil {
		<-r.block
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events = append(r.events, ev)
}

func (r *recorder) all() []platforms.Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]platforms.Event(nil), r.events...)
}

// wait waits until n events were handled and returns them.
func (r *recorder) wait(t *testing.T, n int) []platforms.Event {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		evs := r.all()
		if len(evs) >= n {
			return evs
		}
		if time.Now().After(deadline) {
			t.Fatalf("got %d events, want %d: %+v", len(evs), n, evs)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// settle waits briefly for stray events and returns everything handled.
func (r *recorder) settle() []platforms.Event {
	time.Sleep(150 * time.Millisecond)
	return r.all()
}

// syncBuffer collects output written concurrently (a server's logger)
// while the test reads it.
type syncBuffer = testutil.SyncBuffer

// testLogger logs at debug level to the test output and to the returned
// buffer (for secret checks).
func testLogger(t *testing.T) (*slog.Logger, *syncBuffer) {
	buf := &syncBuffer{}
	return testutil.Logger(t, slog.LevelDebug, buf), buf
}

func newFake(t *testing.T) *slacktest.Server {
	return slacktest.NewServer(t, slacktest.Options{PingInterval: 200 * time.Millisecond})
}

func testConfig(fake *slacktest.Server) Config {
	return Config{
		BotToken: fake.BotToken(), AppToken: fake.AppToken(), SigningSecret: testSecret,
		APIURL: fake.APIURL(), NativeStreaming: true, PingInterval: 5 * time.Second,
		HTTPClient: &http.Client{Timeout: 5 * time.Second},
		Commands:   platformtest.CommandSpecs(),
	}
}

// newAdapter builds an adapter on fake without running it.
func newAdapter(t *testing.T, fake *slacktest.Server, mutate func(*Config)) (*Adapter, *syncBuffer) {
	t.Helper()
	cfg := testConfig(fake)
	if mutate != nil {
		mutate(&cfg)
	}
	logger, logs := testLogger(t)
	a, err := New(cfg, logger)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return a, logs
}

// run starts a.Run with h and stops it (waiting for it) in t.Cleanup. The
// returned channel yields Run's result.
func run(t *testing.T, a *Adapter, h platforms.Handler) <-chan error {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	finished := make(chan struct{})
	go func() {
		done <- a.Run(ctx, h)
		close(finished)
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case <-finished:
		case <-time.After(10 * time.Second):
			t.Error("Run did not return after cancel")
		}
	})
	return done
}

// startSocket runs a socket-mode adapter against fake and waits until it is
// connected.
func startSocket(t *testing.T, fake *slacktest.Server, mutate func(*Config)) (*Adapter, *recorder, *syncBuffer) {
	t.Helper()
	a, logs := newAdapter(t, fake, mutate)
	rec := &recorder{}
	run(t, a, rec)
	fake.WaitConnections(t, 1, 5*time.Second)
	waitReady(t, a)
	return a, rec, logs
}

// startHTTP runs an http-mode adapter behind an httptest server and points
// the fake's deliveries at it.
func startHTTP(t *testing.T, fake *slacktest.Server, rec platforms.Handler) (*Adapter, *httptest.Server, *syncBuffer) {
	t.Helper()
	return startHTTPTuned(t, fake, rec, nil)
}

// startHTTPTuned is startHTTP with tune, when given, called on the adapter
// before it runs.
func startHTTPTuned(t *testing.T, fake *slacktest.Server, rec platforms.Handler, tune func(*Adapter)) (*Adapter, *httptest.Server, *syncBuffer) {
	t.Helper()
	a, logs := newAdapter(t, fake, func(c *Config) { c.Mode = ModeHTTP })
	if tune != nil {
		tune(a)
	}
	mux := http.NewServeMux()
	a.Routes(mux)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	run(t, a, rec)
	waitReady(t, a)
	fake.DeliverOverHTTP(srv.URL, testSecret)
	return a, srv, logs
}

func waitReady(t *testing.T, a *Adapter) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !a.Ready() {
		if time.Now().After(deadline) {
			t.Fatal("adapter never became ready")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// assertNoSecrets fails if any secret appears in text.
func assertNoSecrets(t *testing.T, what, text string, secrets ...string) {
	t.Helper()
	for _, s := range secrets {
		if s != "" && strings.Contains(text, s) {
			t.Errorf("%s contains a secret (%q)", what, s)
		}
	}
}
