package linking

import (
	"context"
	"errors"
	"html"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
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
	// backend supports it. It also returns the store's test data (its
	// Redis keys, its raw bytes).
	open func(t *testing.T) (open func() store.Store, data *storetest.Backend)
}

var backends = []backend{
	{name: "bolt", open: func(t *testing.T) (func() store.Store, *storetest.Backend) {
		b := storetest.NewBackend(t, storetest.Bolt, storetest.Options{})
		s := b.Open(t)
		return func() store.Store { return s }, b // one file, one process: replicas share the handle
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
	data     *storetest.Backend // the store's test data
	linker   *Linker
	srv      *httptest.Server
	mux      *http.ServeMux
	notifier *recordingNotifier
	logs     *syncBuffer
	metrics  prometheus.Registerer
	// jar is this harness's browser's cookies (see otherBrowser).
	jar http.CookieJar
}

// otherBrowser returns the harness as seen from another browser: the same
// servers, its own (empty) cookie jar.
func (h *harness) otherBrowser() *harness {
	o := *h
	o.jar = newJar(h.t)
	return &o
}

func newJar(t *testing.T) http.CookieJar {
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return jar
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
		logs: &syncBuffer{}, metrics: o.metrics, jar: newJar(t),
	}
	h.fake = secondmetest.NewServer(t, o.fake)
	h.openMore, h.data = b.open(t)
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
		Platforms: testPlatforms,
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

// browse GETs u with a real http.Client (with this harness's cookie jar)
// that follows redirects, as a user would: when it lands on the link
// confirmation page, it clicks Continue (posts the page's form) and
// follows on.
func (h *harness) browse(u string) page {
	h.t.Helper()
	p := h.get(u)
	if form, ok := confirmForm(p); ok {
		visited := p.visited
		next := h.post(p.url.ResolveReference(mustURL(h.t, form.action)).String(), url.Values{"csrf": {form.csrf}})
		next.visited = append(visited, next.visited...)
		return next
	}
	return p
}

// get GETs u following redirects, without clicking anything.
func (h *harness) get(u string) page {
	h.t.Helper()
	var visited []*url.URL
	return h.do(h.followingClient(&visited), http.MethodGet, u, nil, &visited)
}

// post posts form to u following redirects.
func (h *harness) post(u string, form url.Values) page {
	h.t.Helper()
	var visited []*url.URL
	return h.do(h.followingClient(&visited), http.MethodPost, u, form, &visited)
}

func (h *harness) followingClient(visited *[]*url.URL) *http.Client {
	return &http.Client{
		Timeout: 10 * time.Second,
		Jar:     h.jar,
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			*visited = append(*visited, req.URL)
			if len(via) > 10 {
				return errors.New("too many redirects")
			}
			return nil
		},
	}
}

// step requests u without following redirects.
func (h *harness) step(method, u string) page {
	h.t.Helper()
	return h.do(h.stepClient(), method, u, nil, nil)
}

// stepPost posts form to u without following redirects.
func (h *harness) stepPost(u string, form url.Values) page {
	h.t.Helper()
	return h.do(h.stepClient(), http.MethodPost, u, form, nil)
}

func (h *harness) stepClient() *http.Client {
	return &http.Client{
		Timeout:       10 * time.Second,
		Jar:           h.jar,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// form is the confirmation page's Continue form.
type form struct{ action, csrf string }

var (
	formAction = regexp.MustCompile(`<form method="post" action="([^"]+)">`)
	formCSRF   = regexp.MustCompile(`<input type="hidden" name="csrf" value="([^"]+)">`)
)

// confirmForm finds the Continue form of a confirmation page.
func confirmForm(p page) (form, bool) {
	a, c := formAction.FindStringSubmatch(p.body), formCSRF.FindStringSubmatch(p.body)
	if p.status != http.StatusOK || a == nil || c == nil {
		return form{}, false
	}
	return form{action: html.UnescapeString(a[1]), csrf: html.UnescapeString(c[1])}, true
}

// continueURL GETs the confirmation page of link and returns the Continue
// form (failing the test when the page has none).
func (h *harness) continueForm(link string) (string, url.Values) {
	h.t.Helper()
	p := h.step(http.MethodGet, link)
	f, ok := confirmForm(p)
	if !ok {
		h.t.Fatalf("GET %s: no confirmation form (status %d):\n%s", link, p.status, p.body)
	}
	return p.url.ResolveReference(mustURL(h.t, f.action)).String(), url.Values{"csrf": {f.csrf}}
}

func (h *harness) do(c *http.Client, method, u string, form url.Values, visited *[]*url.URL) page {
	h.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequestWithContext(h.t.Context(), method, u, body)
	if err != nil {
		h.t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	if visited != nil {
		*visited = append(*visited, req.URL)
	}
	resp, err := c.Do(req)
	if err != nil {
		h.t.Fatalf("%s %s: %v", method, u[:min(len(u), 200)], err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		h.t.Fatal(err)
	}
	p := page{status: resp.StatusCode, body: string(data), header: resp.Header, url: resp.Request.URL}
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
	id, _, _ := strings.Cut(strings.TrimPrefix(u, h.srv.URL+"/link/"), "?")
	if !strings.HasPrefix(u, h.srv.URL+"/link/") || !validID(id) {
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
	if p.status != http.StatusOK || !strings.Contains(p.body, "is now linked to the SecondMe account") {
		h.t.Fatalf("link flow ended with %d:\n%s", p.status, p.body)
	}
	return p, h.notifier.next(h.t)
}

// callbackURL runs the flow up to SecondMe's redirect back to us and
// returns the callback URL (with code and state) without visiting it.
func (h *harness) callbackURL(user store.UserKey, d secondmetest.AuthorizeDecision) string {
	h.t.Helper()
	h.fake.NextAuthorize(d)
	toAuthorize := h.stepPost(h.continueForm(h.startLink(user)))
	if toAuthorize.status != http.StatusSeeOther {
		h.t.Fatalf("POST link: status %d, want 303", toAuthorize.status)
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
