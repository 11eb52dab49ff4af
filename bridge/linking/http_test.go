package linking

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/secondme-bridge/secondme-bridge/secondme/secondmetest"
)

func TestRoutesMethodsAndHeaders(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, b backend) {
		h := newHarness(t, b, harnessOpts{})
		link := h.startLink(user("olga"))
		for _, m := range []string{http.MethodPost, http.MethodPut, http.MethodDelete, http.MethodOptions} {
			for u, allow := range map[string]string{link: "GET, HEAD, POST", h.srv.URL + "/oauth/callback?state=x": "GET, HEAD"} {
				if m == http.MethodPost && allow != "GET, HEAD" {
					continue // Continue: tested below
				}
				p := h.step(m, u)
				if p.status != http.StatusMethodNotAllowed || p.header.Get("Allow") != allow {
					t.Errorf("%s %s: status %d, Allow %q", m, u, p.status, p.header.Get("Allow"))
				}
				checkSecurityHeaders(t, p.header)
			}
		}
		// HEAD and GET (link previewers: Slackbot, Discordbot) consume
		// nothing: GET shows the confirmation page, as often as asked.
		if p := h.step(http.MethodHead, link); p.status != http.StatusOK || p.body != "" {
			t.Errorf("HEAD: %d %q", p.status, p.body)
		}
		for range 3 {
			preview := h.otherBrowser().step(http.MethodGet, link)
			expectContains(t, preview, http.StatusOK, "Link your SecondMe account?", "Discord user <strong>olga</strong>", "Continue to SecondMe")
			checkSecurityHeaders(t, preview.header)
		}
		// A POST without the page's cookie and token consumes nothing.
		if p := h.stepPost(link, nil); p.status != http.StatusForbidden {
			t.Errorf("POST without csrf: status %d, want 403", p.status)
		}
		redirect := h.stepPost(h.continueForm(link))
		if redirect.status != http.StatusSeeOther || !strings.HasPrefix(redirect.header.Get("Location"), h.fake.AuthorizeURL()) {
			t.Fatalf("Continue after HEAD and previews: %d → %q", redirect.status, redirect.header.Get("Location"))
		}
		if redirect.header.Get("Cache-Control") != "no-store" || redirect.header.Get("Referrer-Policy") != "same-origin" {
			t.Errorf("redirect headers: %v", redirect.header)
		}
	})
}

func TestHostileInput(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, b backend) {
		h := newHarness(t, b, harnessOpts{})
		huge := strings.Repeat("A", 200<<10)
		for name, path := range map[string]string{
			"huge state":        "/oauth/callback?code=x&state=" + huge,
			"huge code":         "/oauth/callback?state=abc&code=" + huge,
			"bad escapes":       "/oauth/callback?state=%zz%&code=%",
			"many params":       "/oauth/callback?" + strings.Repeat("state=a&", 5000),
			"nul bytes":         "/oauth/callback?state=%00%00&code=%00",
			"long link id":      "/link/" + strings.Repeat("x", 4000),
			"encoded slash id":  "/link/..%2F..%2Fetc",
			"link id with html": "/link/%3Cscript%3E",
			"unicode id":        "/link/" + strings.Repeat("é", 30),
		} {
			p := h.browse(h.srv.URL + path)
			if p.status != http.StatusBadRequest && p.status != http.StatusGone && p.status != http.StatusNotFound {
				t.Errorf("%s: status %d", name, p.status)
			}
			if !strings.Contains(p.body, "run /link") {
				t.Errorf("%s: not a friendly page:\n%.300s", name, p.body)
			}
			if strings.Contains(p.body, "<script") {
				t.Errorf("%s: reflected input", name)
			}
		}

		// A valid state with a repeated or oversized code: a clean error,
		// and the state is used up.
		cb := mustURL(t, h.callbackURL(user("pat"), secondmetest.AuthorizeDecision{UserID: "30"}))
		q := cb.Query()
		q.Add("code", "second")
		cb.RawQuery = q.Encode()
		p := h.browse(cb.String())
		expectContains(t, p, http.StatusBadRequest, "SecondMe did not send back a sign-in code. Nothing was linked — run /link again.")
		expectContains(t, h.browse(cb.String()), http.StatusGone, "already used")

		// An unexpected provider error.
		cb = mustURL(t, h.callbackURL(user("pat"), secondmetest.AuthorizeDecision{Deny: true, Error: "server_error", ErrorDescription: "<script>x</script>"}))
		p = h.browse(cb.String())
		expectContains(t, p, http.StatusBadGateway, "SecondMe could not complete the sign-in. Nothing was linked — run /link again.")
		if strings.Contains(p.body, "script") {
			t.Error("provider error description reflected")
		}
		if h.fake.ExchangeCount() != 0 {
			t.Errorf("exchanges = %d, want 0", h.fake.ExchangeCount())
		}
	})
}

// A slow notifier never holds up the success page.
func TestSlowNotifierDoesNotBlockThePage(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, b backend) {
		h := newHarness(t, b, harnessOpts{})
		h.notifier.block = make(chan struct{})
		start := time.Now()
		h.fake.NextAuthorize(secondmetest.AuthorizeDecision{UserID: "31"})
		p := h.browse(h.startLink(user("quinn")))
		expectContains(t, p, http.StatusOK, "is now linked")
		if d := time.Since(start); d > 5*time.Second {
			t.Errorf("page took %v", d)
		}
		select {
		case <-h.notifier.ch:
			t.Fatal("notifier finished while blocked")
		default:
		}
		close(h.notifier.block)
		if n := h.notifier.next(t); n.link.SecondMeUserID != "31" {
			t.Errorf("notified %+v", n.link)
		}
	})
}
