package linking

import (
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/secondme-bridge/secondme-bridge/secondme/secondmetest"
	"github.com/secondme-bridge/secondme-bridge/store"
)

func TestLinkHappyPath(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, b backend) {
		h := newHarness(t, b, harnessOpts{fake: secondmetest.Options{BasePath: "/gate/lab"}})
		h.fake.AddUser(secondmetest.User{ID: "42", Name: "Ada", Avatar: "https://img.example/ada.png"})
		u := user("alice")
		pending := store.PendingLink{User: u, Locale: "zh-CN", Channel: "C9", Thread: "T9", Interaction: "itoken"}
		linkURL, err := h.linker.StartLink(t.Context(), pending)
		if err != nil {
			t.Fatal(err)
		}
		h.fake.NextAuthorize(secondmetest.AuthorizeDecision{UserID: "42"})
		start := time.Now()
		p := h.browse(linkURL)

		expectContains(t, p, http.StatusOK, "Discord 用户 <strong>alice</strong> 已绑定 SecondMe 账号 <strong>Ada</strong>。",
			"回到 Discord，@机器人 或私信它，即可与你的分身对话。")
		if strings.Contains(p.body, "linked") {
			t.Error("a zh-CN user should get the page in Chinese only")
		}
		if p.url.Path != "/oauth/callback" || len(p.visited) != 4 || p.visited[0].Path != p.visited[1].Path {
			t.Errorf("browser path = %v, want link (confirm) → link (continue) → authorize → callback", p.visited)
		}
		authz := p.visited[2]
		if got := authz.Query(); got.Get("redirect_uri") != h.srv.URL+"/oauth/callback" ||
			got.Get("response_type") != "code" || got.Get("client_id") != h.fake.ClientID() || !validID(got.Get("state")) {
			t.Errorf("authorize query = %v", got)
		}
		checkSecurityHeaders(t, p.header)

		n := h.notifier.next(t)
		if n.pending.User != u || n.pending.Channel != "C9" || n.pending.Thread != "T9" ||
			n.pending.Interaction != "itoken" || n.pending.CreatedAt.IsZero() {
			t.Errorf("notified pending = %+v", n.pending)
		}
		if n.replaced != nil {
			t.Errorf("replaced = %+v, want nil", n.replaced)
		}
		if d := time.Until(n.deadline); n.deadline.IsZero() || d > NotifyTimeout || d < NotifyTimeout-time.Since(start)-5*time.Second {
			t.Errorf("notifier deadline in %v, want about %v", d, NotifyTimeout)
		}
		got, err := h.rawLink(u)
		if err != nil {
			t.Fatalf("raw store: %v", err)
		}
		if got.Key != u || got.SecondMeUserID != "42" || got.Name != "Ada" || got.AppScopedUserID != "asu_42" ||
			got.AvatarURL != "https://img.example/ada.png" || got.Broken {
			t.Errorf("stored link = %+v", got)
		}
		if id, ok := h.fake.TokenUser(got.Token.AccessToken); !ok || id != "42" {
			t.Errorf("stored access token belongs to %q (valid %v), want 42", id, ok)
		}
		if got.Token.RefreshToken == "" || len(got.Token.Scopes) == 0 {
			t.Errorf("stored token lacks refresh token or scopes: %+v", got.Token.Scopes)
		}
		if exp := got.Token.Expiry.Sub(h.fake.Now()); exp < 2*time.Hour-time.Minute || exp > 2*time.Hour {
			t.Errorf("expiry in %v, want 2h", exp)
		}
		if n.link.Key != u || n.link.Name != "Ada" {
			t.Errorf("notified link = %+v", n.link)
		}

		// The link id is single use.
		again := h.browse(linkURL)
		expectContains(t, again, http.StatusGone, "此链接已过期或已被使用——请重新运行 /绑定。")
		if h.fake.ExchangeCount() != 1 {
			t.Errorf("exchange count = %d, want 1", h.fake.ExchangeCount())
		}
	})
}

func TestLinkDenied(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, b backend) {
		h := newHarness(t, b, harnessOpts{})
		u := user("bob")
		h.fake.DenyNextAuthorize()
		p := h.browse(h.startLink(u))
		expectContains(t, p, http.StatusOK,
			"You declined — nothing was linked; run /link again if you change your mind.")
		checkSecurityHeaders(t, p.header)
		if _, err := h.rawLink(u); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("raw link after denial: %v, want ErrNotFound", err)
		}
		// The state was consumed: replaying the callback says expired.
		replay := h.browse(p.visited[len(p.visited)-1].String())
		expectContains(t, replay, http.StatusGone, "This link has expired or was already used")
		if h.fake.ExchangeCount() != 0 {
			t.Errorf("exchange count = %d, want 0", h.fake.ExchangeCount())
		}
	})
}

func TestReusedAndForgedStates(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, b backend) {
		h := newHarness(t, b, harnessOpts{})
		u := user("carol")
		p, _ := h.linkAs(u, "7")
		callback := p.visited[len(p.visited)-1].String()

		reused := h.browse(callback)
		expectContains(t, reused, http.StatusGone, "This link has expired or was already used — run /link again.")

		forged, err := randomID()
		if err != nil {
			t.Fatal(err)
		}
		for name, q := range map[string]string{
			"forged":   "code=lba_ac_x&state=" + forged,
			"garbage":  "code=lba_ac_x&state=%00%ff<script>",
			"missing":  "code=lba_ac_x",
			"repeated": "code=x&state=" + forged + "&state=" + forged,
			"empty":    "state=",
		} {
			p := h.browse(h.srv.URL + "/oauth/callback?" + q)
			if p.status != http.StatusGone && p.status != http.StatusBadRequest {
				t.Errorf("%s: status %d, want 410 or 400", name, p.status)
			}
			if !strings.Contains(p.body, "run /link again") || strings.Contains(p.body, "<script>") {
				t.Errorf("%s: page:\n%s", name, p.body)
			}
			checkSecurityHeaders(t, p.header)
		}
		if h.fake.ExchangeCount() != 1 {
			t.Errorf("exchange count = %d, want 1 (no code exchanged for a bad state)", h.fake.ExchangeCount())
		}
	})
}

// A state bound to user A can only ever link A, whatever else the callback
// URL carries.
func TestStateLinksOnlyItsUser(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, b backend) {
		h := newHarness(t, b, harnessOpts{})
		a, bUser := user("A"), store.UserKey{Platform: "slack", Workspace: "T1", User: "B"}
		cbA := h.callbackURL(a, secondmetest.AuthorizeDecision{UserID: "100"})
		cbB := h.callbackURL(bUser, secondmetest.AuthorizeDecision{UserID: "200"})

		// B (or anyone) completing A's state, with query parameters trying
		// to choose another user, links A, to whoever approved the code.
		hostile, err := url.Parse(cbA)
		if err != nil {
			t.Fatal(err)
		}
		q := hostile.Query()
		for _, k := range []string{"user", "User", "platform", "workspace", "user_id"} {
			q.Add(k, "B")
		}
		hostile.RawQuery = q.Encode()
		p := h.browse(hostile.String())
		expectContains(t, p, http.StatusOK, "is now linked")
		if n := h.notifier.next(t); n.pending.User != a || n.link.Key != a {
			t.Errorf("A's state notified %+v / %+v", n.pending.User, n.link.Key)
		}
		if l, err := h.rawLink(a); err != nil || l.SecondMeUserID != "100" {
			t.Errorf("A's link = %+v, %v", l, err)
		}
		if _, err := h.rawLink(bUser); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("B linked through A's state: %v", err)
		}

		// A's state with B's code: still A (the code decides the SecondMe
		// account, never the platform user).
		bCode := mustQuery(t, cbB).Get("code")
		cbA2 := h.callbackURL(a, secondmetest.AuthorizeDecision{UserID: "100"})
		mixed := mustURL(t, cbA2)
		mq := mixed.Query()
		mq.Set("code", bCode)
		mixed.RawQuery = mq.Encode()
		p = h.browse(mixed.String())
		expectContains(t, p, http.StatusOK, "is now linked")
		if n := h.notifier.next(t); n.link.Key != a || n.link.SecondMeUserID != "200" {
			t.Errorf("mixed callback linked %+v to %q", n.link.Key, n.link.SecondMeUserID)
		}
		if _, err := h.rawLink(bUser); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("B got linked: %v", err)
		}
	})
}

func TestExpiredLinkAndState(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, b backend) {
		h := newHarness(t, b, harnessOpts{linkTTL: time.Second})
		u := user("dave")
		staleLink := h.startLink(u)
		cb := h.callbackURL(u, secondmetest.AuthorizeDecision{UserID: "5"})
		time.Sleep(2100 * time.Millisecond)

		expectContains(t, h.browse(staleLink), http.StatusGone, "This link has expired or was already used")
		expectContains(t, h.browse(cb), http.StatusGone, "This link has expired or was already used")
		if _, err := h.rawLink(u); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("expired state linked: %v", err)
		}
		if h.fake.ExchangeCount() != 0 {
			t.Errorf("exchange count = %d, want 0", h.fake.ExchangeCount())
		}
	})
}

func TestExchangeFailure(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, b backend) {
		h := newHarness(t, b, harnessOpts{})
		u := user("erin")
		h.fake.QueueResponse(secondmetest.PathTokenCode, secondmetest.ErrorResponse(400, "oauth2.code.invalid", "invalid code"))
		p := h.browse(h.startLink(u))
		expectContains(t, p, http.StatusBadGateway,
			"We could not finish signing you in to SecondMe. Nothing was linked — run /link again.")
		if _, err := h.rawLink(u); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("link stored after a failed exchange: %v", err)
		}
		if !strings.Contains(h.logs.String(), "oauth2.code.invalid") {
			t.Errorf("the typed exchange error is not logged:\n%s", h.logs.String())
		}

		// user/info failing after the exchange is also a clean failure.
		h.fake.QueueResponse(secondmetest.PathUserInfo, secondmetest.ErrorResponse(500, "internal.error", "boom"))
		p = h.browse(h.startLink(u))
		expectContains(t, p, http.StatusBadGateway, "run /link again")
		if _, err := h.rawLink(u); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("link stored after user/info failed: %v", err)
		}

		// auth/me failing is not fatal.
		h.fake.QueueResponse(secondmetest.PathAuthMe, secondmetest.ErrorResponse(404, "resource.fetch.not_found", "no"))
		_, n := h.linkAs(u, "8")
		if n.link.AppScopedUserID != "" || n.link.SecondMeUserID != "8" {
			t.Errorf("link without auth/me = %+v", n.link)
		}
	})
}

func TestRelinkReplacesAndReports(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, b backend) {
		h := newHarness(t, b, harnessOpts{})
		h.fake.AddUser(secondmetest.User{ID: "1", Name: "Ada"})
		h.fake.AddUser(secondmetest.User{ID: "2", Name: "<b>Bob</b>"})
		u := user("frank")
		_, first := h.linkAs(u, "1")

		_, same := h.linkAs(u, "1")
		if same.replaced != nil {
			t.Errorf("relinking the same account reported a replacement: %+v", same.replaced)
		}
		if !same.link.CreatedAt.Equal(first.link.CreatedAt) {
			t.Errorf("CreatedAt changed on relink of the same account: %v -> %v", first.link.CreatedAt, same.link.CreatedAt)
		}

		p, other := h.linkAs(u, "2")
		if other.replaced == nil || other.replaced.Name != "Ada" || other.replaced.SecondMeUserID != "1" {
			t.Fatalf("replaced = %+v, want Ada", other.replaced)
		}
		if other.replaced.Token.AccessToken != "" || other.replaced.Token.RefreshToken != "" {
			t.Error("the replaced link handed to the notifier still carries tokens")
		}
		expectContains(t, p, http.StatusOK, "is now linked to the SecondMe account <strong>&lt;b&gt;Bob&lt;/b&gt;</strong>",
			"This replaced the link to <strong>Ada</strong>.")
		if strings.Contains(p.body, "<b>Bob") {
			t.Error("name not escaped")
		}
		if l, err := h.rawLink(u); err != nil || l.SecondMeUserID != "2" {
			t.Errorf("stored link = %+v, %v", l, err)
		}
	})
}

func TestHTMLEscapingEndToEnd(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, b backend) {
		h := newHarness(t, b, harnessOpts{})
		h.fake.AddUser(secondmetest.User{ID: "66", Name: `<script>alert(document.cookie)</script>"'&`})
		p, _ := h.linkAs(user("gina"), "66")
		if strings.Contains(p.body, "<script") {
			t.Fatalf("unescaped name in page:\n%s", p.body)
		}
		expectContains(t, p, http.StatusOK, "&lt;script&gt;alert(document.cookie)&lt;/script&gt;&#34;&#39;&amp;")
	})
}

func mustURL(t *testing.T, s string) *url.URL {
	t.Helper()
	u, err := url.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func mustQuery(t *testing.T, s string) url.Values {
	t.Helper()
	return mustURL(t, s).Query()
}
