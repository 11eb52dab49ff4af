package linking

import (
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/secondme-bridge/secondme-bridge/secondme/secondmetest"
	"github.com/secondme-bridge/secondme-bridge/store"
	"github.com/secondme-bridge/secondme-bridge/store/storetest"
)

// The hijack: the attacker runs /link, continues in their own browser and
// sends the SecondMe authorize URL to a victim, who approves in theirs.
// The callback lands in the victim's browser, which lacks the attacker's
// nonce cookie: refused before the code is exchanged, nothing linked, and
// the state is spent (the attacker cannot finish it either).
func TestCallbackRefusedInAnotherBrowser(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, b backend) {
		h := newHarness(t, b, harnessOpts{})
		attacker, victim := h, h.otherBrowser()
		u := user("mallory")
		h.fake.NextAuthorize(secondmetest.AuthorizeDecision{UserID: "victim-1"})
		toAuthorize := attacker.stepPost(attacker.continueForm(attacker.startLink(u)))
		if toAuthorize.status != http.StatusSeeOther {
			t.Fatalf("continue: %d", toAuthorize.status)
		}
		authorizeURL := toAuthorize.header.Get("Location")

		// The victim approves: their browser follows SecondMe's redirect.
		p := victim.browse(authorizeURL)
		expectContains(t, p, http.StatusForbidden, "Finish in the browser where you opened the link", "Run /link again")
		if h.fake.ExchangeCount() != 0 {
			t.Errorf("the code was exchanged (%d) for a callback in the wrong browser", h.fake.ExchangeCount())
		}
		if _, err := h.rawLink(u); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("the attacker got linked: %v", err)
		}
		if !strings.Contains(h.logs.String(), "not the browser that continued the link") {
			t.Error("the refusal is not logged")
		}
		// The attacker replays the victim's callback URL in their own
		// browser (with the right cookie): the state is spent.
		replay := attacker.browse(p.url.String())
		expectContains(t, replay, http.StatusGone, "expired or was already used")
		if _, err := h.rawLink(u); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("the attacker got linked by replaying the callback: %v", err)
		}
		if h.fake.ExchangeCount() != 0 {
			t.Errorf("exchanges = %d, want 0", h.fake.ExchangeCount())
		}
	})
}

// A forged Continue (a cross-site form, a token taken from another
// browser's page) consumes nothing.
func TestContinueNeedsThePagesCookie(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, b backend) {
		h := newHarness(t, b, harnessOpts{})
		link := h.startLink(user("nina"))
		action, form := h.continueForm(link) // the attacker's own browser saw the page

		victim := h.otherBrowser()
		if p := victim.stepPost(action, form); p.status != http.StatusForbidden || !strings.Contains(p.body, "Open the link again") ||
			!strings.Contains(p.body, "run /link again") || strings.Contains(p.body, "Slack") || strings.Contains(p.body, "重新") {
			t.Errorf("POST with a token but no cookie: %d (want 403 naming Discord's command in English only)\n%s", p.status, p.body)
		}
		// The right cookie and token, but posted from another site.
		req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, action, strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Origin", "https://evil.example")
		for _, c := range h.jar.Cookies(mustURL(t, action)) {
			req.AddCookie(c)
		}
		resp, err := h.stepClient().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		_ = resp.Body.Close()
		if resp.StatusCode != http.StatusForbidden {
			t.Errorf("cross-origin POST: %d, want 403", resp.StatusCode)
		}
		// The link is still there for its owner.
		if p := h.stepPost(action, form); p.status != http.StatusSeeOther {
			t.Errorf("the owner's Continue after the forgeries: %d, want 303", p.status)
		}
	})
}

// Two links under way in one browser both finish.
func TestTwoFlowsInOneBrowser(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, b backend) {
		h := newHarness(t, b, harnessOpts{})
		cb1 := h.callbackURL(user("olive"), secondmetest.AuthorizeDecision{UserID: "51"})
		cb2 := h.callbackURL(user("olive"), secondmetest.AuthorizeDecision{UserID: "52"})
		expectContains(t, h.browse(cb1), http.StatusOK, "is now linked")
		expectContains(t, h.browse(cb2), http.StatusOK, "is now linked")
	})
}

// Two link pages open at once in one browser (two tabs, or a retry before
// Continue): Continue works on both, in either order.
func TestTwoConfirmPagesInOneBrowser(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, b backend) {
		h := newHarness(t, b, harnessOpts{})
		h.fake.AddUser(secondmetest.User{ID: "61", Name: "Quinn"})
		h.fake.SetAuthorizeDecision(secondmetest.AuthorizeDecision{UserID: "61"})
		actionA, formA := h.continueForm(h.startLink(user("quinn")))
		actionB, formB := h.continueForm(h.startLink(user("quinn")))
		expectContains(t, h.post(actionB, formB), http.StatusOK, "is now linked")
		expectContains(t, h.post(actionA, formA), http.StatusOK, "is now linked")
	})
}

// The cookies: HttpOnly, SameSite, and __Host- with Secure behind https.
func TestCookieAttributes(t *testing.T) {
	t.Parallel()
	fake := secondmetest.NewServer(t, secondmetest.Options{})
	for _, tc := range []struct {
		publicURL, csrf, flow string
		secure                bool
	}{
		{"https://bridge.example", "__Host-smb_csrf", "__Host-smb_link", true},
		{"http://127.0.0.1:8080", "smb_csrf", "smb_link", false},
	} {
		st := storetest.Open(t, storetest.Bolt)
		l, err := New(LinkerConfig{PublicURL: tc.publicURL, Store: st, SecondMe: fake.Client(), Platforms: testPlatforms, Logger: slog.New(slog.DiscardHandler)})
		if err != nil {
			t.Fatal(err)
		}
		mux := http.NewServeMux()
		l.Routes(mux)
		link, err := l.StartLink(t.Context(), store.PendingLink{User: user("pia"), UserName: "Pia", WorkspaceName: "Guild"})
		if err != nil {
			t.Fatal(err)
		}
		path := strings.TrimPrefix(link, tc.publicURL)
		w := httptest.NewRecorder()
		mux.ServeHTTP(w, httptest.NewRequest(http.MethodGet, path, nil))
		csrf := findCookie(t, w.Result(), tc.csrf)
		if !csrf.HttpOnly || csrf.Secure != tc.secure || csrf.SameSite != http.SameSiteStrictMode || csrf.Path != "/" || csrf.MaxAge <= 0 {
			t.Errorf("%s: csrf cookie %+v", tc.publicURL, csrf)
		}
		if !strings.Contains(w.Body.String(), "Discord user <strong>Pia</strong> in <strong>Guild</strong>") {
			t.Errorf("confirmation page does not name the account:\n%s", w.Body.String())
		}
		f, ok := confirmForm(page{status: w.Code, body: w.Body.String()})
		if !ok {
			t.Fatal("no form")
		}
		req := httptest.NewRequest(http.MethodPost, f.action, strings.NewReader(url.Values{"csrf": {f.csrf}}.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Origin", tc.publicURL)
		req.AddCookie(csrf)
		w = httptest.NewRecorder()
		mux.ServeHTTP(w, req)
		if w.Code != http.StatusSeeOther {
			t.Fatalf("%s: continue = %d", tc.publicURL, w.Code)
		}
		flow := findCookie(t, w.Result(), tc.flow)
		if !flow.HttpOnly || flow.Secure != tc.secure || flow.SameSite != http.SameSiteLaxMode || flow.Path != "/" ||
			flow.MaxAge != int(DefaultLinkTTL/time.Second) {
			t.Errorf("%s: flow cookie %+v", tc.publicURL, flow)
		}
		nonce, _, _ := strings.Cut(flow.Value, "~")
		if !validID(nonce) {
			t.Errorf("flow cookie value %q does not start with a nonce", flow.Value)
		}
	}
}

func findCookie(t *testing.T, resp *http.Response, name string) *http.Cookie {
	t.Helper()
	for _, c := range resp.Cookies() {
		if c.Name == name {
			return c
		}
	}
	t.Fatalf("no cookie %s in %v", name, resp.Header["Set-Cookie"])
	return nil
}

func TestSameOrigin(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		public, origin, fetchSite string
		want                      bool
	}{
		{"https://bridge.example", "https://bridge.example", "same-origin", true},
		{"https://bridge.example:443", "https://bridge.example", "", true},
		{"https://bridge.example/base", "https://BRIDGE.example", "", true},
		{"https://bridge.example", "", "", true}, // an old browser: the CSRF cookie decides
		{"https://bridge.example", "https://evil.example", "", false},
		{"https://bridge.example", "http://bridge.example", "", false},
		{"https://bridge.example", "null", "", false},
		{"https://bridge.example", "null", "same-origin", true}, // origin hidden by a privacy setting
		{"https://bridge.example", "null", "cross-site", false}, // a sandboxed frame elsewhere
		{"https://bridge.example", "", "cross-site", false},
		{"https://bridge.example", "", "same-site", false},
		{"http://127.0.0.1:8080", "http://127.0.0.1:8080", "same-origin", true},
	} {
		l := &Linker{publicURL: tc.public}
		r := httptest.NewRequest(http.MethodPost, "/link/x", nil)
		if tc.origin != "" {
			r.Header.Set("Origin", tc.origin)
		}
		if tc.fetchSite != "" {
			r.Header.Set("Sec-Fetch-Site", tc.fetchSite)
		}
		if got := l.sameOrigin(r); got != tc.want {
			t.Errorf("public %s, Origin %q, Sec-Fetch-Site %q: %v, want %v", tc.public, tc.origin, tc.fetchSite, got, tc.want)
		}
	}
}

// Hostile Continue posts: oversized, malformed, repeated or empty tokens,
// a wrong cookie. Each gets a page, and none consumes the link.
func TestHostileContinue(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, b backend) {
		h := newHarness(t, b, harnessOpts{})
		action, form := h.continueForm(h.startLink(user("hugo")))
		token := form.Get("csrf")
		post := func(body, contentType string, cookie *http.Cookie) int {
			req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, action, strings.NewReader(body))
			req.Header.Set("Content-Type", contentType)
			c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
			if cookie != nil {
				req.AddCookie(cookie)
			} else {
				c.Jar = h.jar
			}
			resp, err := c.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			_ = resp.Body.Close()
			return resp.StatusCode
		}
		const formType = "application/x-www-form-urlencoded"
		for name, tc := range map[string]struct {
			body, ctype string
			cookie      *http.Cookie
		}{
			"oversized":        {"csrf=" + token + "&pad=" + strings.Repeat("x", 64<<10), formType, nil},
			"bad escapes":      {"csrf=%zz%", formType, nil},
			"empty token":      {"csrf=", formType, nil},
			"no token":         {"", formType, nil},
			"json body":        {`{"csrf":"` + token + `"}`, "application/json", nil},
			"wrong cookie":     {"csrf=" + token, formType, &http.Cookie{Name: "smb_csrf", Value: "other"}},
			"empty cookie":     {"csrf=", formType, &http.Cookie{Name: "smb_csrf", Value: ""}},
			"nul token":        {"csrf=%00", formType, &http.Cookie{Name: "smb_csrf", Value: "\x00"}},
			"two tokens, last": {"csrf=wrong&csrf=" + token, formType, nil},
		} {
			if got := post(tc.body, tc.ctype, tc.cookie); got != http.StatusForbidden {
				t.Errorf("%s: status %d, want 403", name, got)
			}
		}
		if got := post(url.Values{"csrf": {token}}.Encode(), formType, nil); got != http.StatusSeeOther {
			t.Errorf("the real Continue after the hostile ones: %d, want 303 (the link must not be consumed)", got)
		}
	})
}
