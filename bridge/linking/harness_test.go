package linking

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/secondme-bridge/secondme-bridge/internal/testutil"
	"github.com/secondme-bridge/secondme-bridge/secondme/secondmetest"
	"github.com/secondme-bridge/secondme-bridge/store"
	"github.com/secondme-bridge/secondme-bridge/store/storetest"
)

// backend opens a fresh store of one kind for a test.
type backend struct {
	name string
	// open returns a new, empty store; calling open again in the same test
	// returns another handle on the SAME data (a second replica), when the
	// backend supports it. A Redis backend also returns its test data (for
	// its keys).
	open func(t *testing.T) (open func() store.Store, raw *storetest.Backend)
}

var backends = []backend{
	{name: "bolt", open: func(t *testing.T) (func() store.Store, *storetest.Backend) {
		s := storetest.Open(t, storetest.Bolt)
		return func() store.Store { return s }, nil // one file, one process: replicas share the handle
	}},
	{name: "redis", open: func(t *testing.T) (func() store.Store, *storetest.Backend) {
		b := storetest.NewBackend(t, storetest.Redis, storetest.Options{})
		return func() store.Store { return b.Open(t) }, b
	}},
}

// forEachBackend runs fn as a parallel subtest per store backend.
func forEachBackend(t *testing.T, fn func(t *testing.T, b backend)) {
	t.Helper()
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			fn(t, b)
		})
	}
}

// notification is one LinkCompleted call.
type notification struct {
	pending  store.PendingLink
	link     store.Link
	replaced *store.Link
	deadline time.Time
}

type recordingNotifier struct {
	ch    chan notification
	block chan struct{} // when non-nil, LinkCompleted waits for it (or ctx)
}

func (n *recordingNotifier) LinkCompleted(ctx context.Context, p store.PendingLink, link store.Link, replaced *store.Link) {
	dl, _ := ctx.Deadline()
	if n.block != nil {
		select {
		case <-n.block:
		case <-ctx.Done():
		}
	}
	n.ch <- notification{pending: p, link: link, replaced: replaced, deadline: dl}
}

func (n *recordingNotifier) next(t *testing.T) notification {
	t.Helper()
	select {
	case got := <-n.ch:
		return got
	case <-time.After(5 * time.Second):
		t.Fatal("notifier was not called")
		return notification{}
	}
}

// syncBuffer collects output written concurrently (a server's logger)
// while the test reads it.
type syncBuffer = testutil.SyncBuffer

// harness is one bridge HTTP server with a Linker on a store, a fake
// SecondMe and a browser.
type harness struct {
	t        *testing.T
	fake     *secondmetest.Server
	store    store.Store
	openMore func() store.Store
	raw      *storetest.Backend
	linker   *Linker
	srv      *httptest.Server
	mux      *http.ServeMux
	notifier *recordingNotifier
	logs     *syncBuffer
	metrics  prometheus.Registerer
}

type harnessOpts struct {
	linkTTL time.Duration
	fake    secondmetest.Options
	metrics prometheus.Registerer
}

func newHarness(t *testing.T, b backend, o harnessOpts) *harness {
	t.Helper()
	h := &harness{
		t: t, mux: http.NewServeMux(), notifier: &recordingNotifier{ch: make(chan notification, 16)},
		logs: &syncBuffer{}, metrics: o.metrics,
	}
	h.fake = secondmetest.NewServer(t, o.fake)
	h.openMore, h.raw = b.open(t)
	h.store = h.openMore()
	h.srv = httptest.NewServer(h.mux)
	t.Cleanup(h.srv.Close)
	h.linker = h.newLinker("replica-1", o.linkTTL, h.store)
	h.linker.Routes(h.mux)
	t.Cleanup(func() { checkNoSecrets(t, h.logs.String()) })
	return h
}

// newLinker builds a Linker on st with this harness's server, fake and
// clock (the fake's, so that its token expiry and ours agree).
func (h *harness) newLinker(owner string, linkTTL time.Duration, st store.Store) *Linker {
	h.t.Helper()
	logger := slog.New(slog.NewTextHandler(io.MultiWriter(h.logs, h.t.Output()), &slog.HandlerOptions{Level: slog.LevelDebug}))
	l, err := New(LinkerConfig{
		PublicURL: h.srv.URL + "/",
		LinkTTL:   linkTTL,
		Store:     st,
		SecondMe:  h.fake.Client(),
		Notifier:  h.notifier,
		Logger:    logger,
		Owner:     owner,
		Now:       h.fake.Now,
		Metrics:   h.metrics,
	})
	if err != nil {
		h.t.Fatalf("new linker: %v", err)
	}
	l.lockPoll = 20 * time.Millisecond
	return l
}

// page is a response as the browser ended up with it.
type page struct {
	status  int
	body    string
	header  http.Header
	url     *url.URL
	visited []*url.URL // every URL requested, in order
}

// browse GETs u with a real http.Client that follows redirects.
func (h *harness) browse(u string) page {
	h.t.Helper()
	var visited []*url.URL
	c := &http.Client{
		Timeout: 10 * time.Second,
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			visited = append(visited, req.URL)
			if len(via) > 10 {
				return errors.New("too many redirects")
			}
			return nil
		},
	}
	return h.do(c, http.MethodGet, u, &visited)
}

// step requests u without following redirects.
func (h *harness) step(method, u string) page {
	h.t.Helper()
	c := &http.Client{
		Timeout:       10 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	return h.do(c, method, u, nil)
}

func (h *harness) do(c *http.Client, method, u string, visited *[]*url.URL) page {
	h.t.Helper()
	req, err := http.NewRequestWithContext(h.t.Context(), method, u, nil)
	if err != nil {
		h.t.Fatal(err)
	}
	if visited != nil {
		*visited = append(*visited, req.URL)
	}
	resp, err := c.Do(req)
	if err != nil {
		h.t.Fatalf("%s %s: %v", method, u[:min(len(u), 200)], err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		h.t.Fatal(err)
	}
	p := page{status: resp.StatusCode, body: string(body), header: resp.Header, url: resp.Request.URL}
	if visited != nil {
		p.visited = *visited
	}
	return p
}

// startLink asks for a link for user and checks its shape.
func (h *harness) startLink(user store.UserKey) string {
	h.t.Helper()
	u, err := h.linker.StartLink(h.t.Context(), store.PendingLink{User: user, Channel: "C1", Locale: "en-US"})
	if err != nil {
		h.t.Fatalf("StartLink: %v", err)
	}
	if !strings.HasPrefix(u, h.srv.URL+"/link/") || !validID(strings.TrimPrefix(u, h.srv.URL+"/link/")) {
		h.t.Fatalf("link URL %q is not %s/link/{id}", u, h.srv.URL)
	}
	return u
}

// linkAs runs the whole flow for user, approving as SecondMe user smID, and
// returns the final page and the notification.
func (h *harness) linkAs(user store.UserKey, smID string) (page, notification) {
	h.t.Helper()
	h.fake.NextAuthorize(secondmetest.AuthorizeDecision{UserID: smID})
	p := h.browse(h.startLink(user))
	if p.status != http.StatusOK || !strings.Contains(p.body, "Linked as") {
		h.t.Fatalf("link flow ended with %d:\n%s", p.status, p.body)
	}
	return p, h.notifier.next(h.t)
}

// callbackURL runs the flow up to SecondMe's redirect back to us and
// returns the callback URL (with code and state) without visiting it.
func (h *harness) callbackURL(user store.UserKey, d secondmetest.AuthorizeDecision) string {
	h.t.Helper()
	h.fake.NextAuthorize(d)
	toAuthorize := h.step(http.MethodGet, h.startLink(user))
	if toAuthorize.status != http.StatusFound {
		h.t.Fatalf("GET link: status %d, want 302", toAuthorize.status)
	}
	toCallback := h.step(http.MethodGet, toAuthorize.header.Get("Location"))
	if toCallback.status != http.StatusFound {
		h.t.Fatalf("GET authorize: status %d, want 302: %s", toCallback.status, toCallback.body)
	}
	return toCallback.header.Get("Location")
}

func (h *harness) rawLink(user store.UserKey) (store.Link, error) {
	h.t.Helper()
	return h.store.Links().GetLink(h.t.Context(), user)
}

// checkNoSecrets fails when logs contain anything that looks like a token,
// code or a full 43-character state.
func checkNoSecrets(t *testing.T, logs string) {
	t.Helper()
	for _, marker := range []string{"lba_at_", "lba_rt_", "lba_ac_", "client_secret", "test-client-secret"} {
		if strings.Contains(logs, marker) {
			t.Errorf("logs contain %q", marker)
		}
	}
	for _, word := range strings.FieldsFunc(logs, func(r rune) bool { return r == ' ' || r == '=' || r == '"' || r == '\n' }) {
		if validID(word) {
			t.Errorf("logs contain something shaped like a link id or state: %q", word)
		}
	}
}

func user(name string) store.UserKey {
	return store.UserKey{Platform: "discord", Workspace: "", User: name}
}

func expectContains(t *testing.T, p page, status int, texts ...string) {
	t.Helper()
	if p.status != status {
		t.Errorf("status = %d, want %d; body:\n%s", p.status, status, p.body)
	}
	for _, s := range texts {
		if !strings.Contains(p.body, s) {
			t.Errorf("page lacks %q:\n%s", s, p.body)
		}
	}
}
