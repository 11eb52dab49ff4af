package main

import (
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/secondme-bridge/secondme-bridge/platforms/slack/slacktest"
	"github.com/secondme-bridge/secondme-bridge/secondme/secondmetest"
)

// installOptions is a Slack end-to-end bridge (mode "socket" or "http")
// with the install flow on, against the fake's authorize page.
func installOptions(e2eMode string) e2eOptions {
	return e2eOptions{slack: true, slackMode: e2eMode, slackExtra: "" +
		"  install:\n" +
		"    client_id: \"" + slacktest.DefaultClientID + "\"\n" +
		"    client_secret: \"" + slacktest.DefaultClientSecret + "\"\n" +
		"    authorize_url: \"AUTHORIZE\"\n"}
}

// browser is a real HTTP client with its own cookie jar.
func browser(t *testing.T) *http.Client {
	t.Helper()
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &http.Client{Jar: jar, Timeout: 10 * time.Second}
}

func getPage(t *testing.T, c *http.Client, u string) (int, string, *url.URL) {
	t.Helper()
	resp, err := c.Get(u)
	if err != nil {
		t.Fatalf("GET %s: %v", u, err)
	}
	defer func() { _ = resp.Body.Close() }()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), resp.Request.URL
}

// installWorkspace installs the app into team through the flow, in a fresh
// browser: /slack/install → the fake authorize page → the callback.
func installWorkspace(t *testing.T, e *e2e, team, name string) {
	t.Helper()
	e.sl.NextInstall(team)
	code, page, _ := getPage(t, browser(t), e.base+"/slack/install")
	if code != http.StatusOK || !strings.Contains(page, "Installed in "+name) || !strings.Contains(page, "已安装到") {
		t.Fatalf("install page for %s = %d:\n%s\nlogs:\n%s", team, code, page, e.logs)
	}
	if e.sl.TeamToken(team) == "" {
		t.Fatalf("no token minted for %s", team)
	}
}

// linkSlackUserIn is linkSlackUser in an installed workspace.
func linkSlackUserIn(t *testing.T, e *e2e, team, channel, user, smUserID, smName string) {
	t.Helper()
	e.sm.AddUser(secondmetest.User{ID: smUserID, Name: smName})
	e.sm.SetAuthorizeDecision(secondmetest.AuthorizeDecision{UserID: smUserID})
	ack, err := e.sl.SendSlashCommand(slackCtx(t), slacktest.SlashCommand{Team: team, User: user, Channel: channel, Text: "link"})
	if err != nil {
		t.Fatalf("/secondme link in %s: %v\nlogs:\n%s", team, err, e.logs)
	}
	prompt := waitResponsePost(t, e, ack.ResponseURL, func(p slacktest.ResponsePost) bool { return len(buttonURLs(p.Blocks)) > 0 })
	code, page := e.followLink(t, buttonURLs(prompt.Blocks)[0])
	if code != 200 || !strings.Contains(page, "is now linked") {
		t.Fatalf("link page in %s = %d:\n%s", team, code, page)
	}
}

// callsIn returns the tokens of the Web API calls about channel.
func callsIn(e *e2e, channel string) (tokens []string) {
	for _, m := range []string{"chat.postMessage", "chat.update", "chat.startStream", "chat.appendStream", "chat.stopStream", "chat.postEphemeral"} {
		for _, c := range e.sl.Calls(m) {
			ch := c.Form.Get("channel")
			if ch == channel {
				tokens = append(tokens, c.Token)
			}
		}
	}
	return tokens
}

// TestE2ESlackWorkspaceInstalls: two workspaces install the app through the
// OAuth v2 flow (in Socket Mode and in HTTP mode); a linked user's mention
// in each is answered with that workspace's own token; the configured
// bot_token keeps serving its team; one workspace uninstalls (its install
// is deleted: its events are no longer answered, the other's are).
func TestE2ESlackWorkspaceInstalls(t *testing.T) {
	t.Parallel()
	for _, mode := range []string{"socket", "http"} {
		t.Run(mode, func(t *testing.T) {
			t.Parallel()
			e := startInstallE2E(t, installOptions(mode))
			e.sl.AddWorkspace(slacktest.Workspace{TeamID: "T2", TeamName: "Beta"})
			e.sl.AddWorkspace(slacktest.Workspace{TeamID: "T3", TeamName: "Gamma"})
			installWorkspace(t, e, "T2", "Beta")
			installWorkspace(t, e, "T3", "Gamma")
			if a := e.sl.Authorizes(); len(a) != 2 || a[0].ClientID != slacktest.DefaultClientID ||
				a[0].RedirectURI != e.base+"/slack/oauth/callback" || !strings.Contains(a[0].Scope, "chat:write") {
				t.Errorf("authorize visits = %+v", a)
			}

			linkSlackUserIn(t, e, "T2", "C2", "U2", "42", "Ada")
			linkSlackUserIn(t, e, "T3", "C3", "U3", "43", "Grace")
			for _, w := range []struct{ team, channel, user string }{{"T2", "C2", "U2"}, {"T3", "C3", "U3"}} {
				e.sm.QueueStream(secondmetest.Script{Deltas: []string{"Hi from ", w.team}})
				p, err := e.sl.MentionIn(slackCtx(t), w.team, w.user, w.channel, "", "hello")
				if err != nil {
					t.Fatal(err)
				}
				waitSlackReply(t, e, w.channel, p.TS, "Hi from "+w.team)
				tokens := callsIn(e, w.channel)
				if len(tokens) == 0 {
					t.Fatalf("no Web API call for %s", w.channel)
				}
				for _, tok := range tokens {
					if tok != e.sl.TeamToken(w.team) {
						t.Errorf("a call in %s (%s) used another token than the workspace's", w.channel, w.team)
					}
				}
			}
			// The configured bot token still serves its own team.
			linkSlackUser(t, e, "U1", "44", "Linus")
			e.sm.QueueStream(secondmetest.Script{Deltas: []string{"Hi from T1"}})
			p, err := e.sl.Mention(slackCtx(t), "U1", slackChannel, "", "hello")
			if err != nil {
				t.Fatal(err)
			}
			waitSlackReply(t, e, slackChannel, p.TS, "Hi from T1")
			for _, tok := range callsIn(e, slackChannel) {
				if tok != e.sl.BotToken() {
					t.Error("a call in the configured team used another token than slack.bot_token")
				}
			}

			// T3 uninstalls: its install is gone, T2 carries on.
			if err := e.sl.Uninstall(slackCtx(t), "T3"); err != nil {
				t.Fatal(err)
			}
			before := len(callsIn(e, "C3"))
			chats := len(e.sm.RequestsTo(secondmetest.PathChatStream))
			p3, err := e.sl.MentionIn(slackCtx(t), "T3", "U3", "C3", "", "still there?")
			if err != nil {
				t.Fatal(err)
			}
			e.sm.QueueStream(secondmetest.Script{Deltas: []string{"Still ", "T2"}})
			p2, err := e.sl.MentionIn(slackCtx(t), "T2", "U2", "C2", "", "still there?")
			if err != nil {
				t.Fatal(err)
			}
			waitSlackReply(t, e, "C2", p2.TS, "Still T2")
			if n := len(callsIn(e, "C3")); n != before || len(e.sl.BotReplies("C3", p3.TS)) != 0 {
				t.Errorf("the uninstalled workspace was answered (%d calls in C3 after the uninstall)", n-before)
			}
			if n := len(e.sm.RequestsTo(secondmetest.PathChatStream)); n != chats+1 {
				t.Errorf("%d chat calls for one mention in T2 and one in the uninstalled T3, want 1", n-chats)
			}
			if !strings.Contains(e.logs.String(), "slack workspace uninstalled") {
				t.Errorf("no uninstall in the logs:\n%s", e.logs)
			}
			assertNoInstallSecrets(t, e, "T2", "T3")
		})
	}
}

// startInstallE2E is startE2E with the fake's authorize URL in the config.
func startInstallE2E(t *testing.T, o e2eOptions) *e2e {
	t.Helper()
	// The fake Slack exists only once startE2E made it; the authorize URL
	// is its /oauth/v2/authorize, so point it there after the fact through
	// the config's placeholder.
	e := &e2e{sm: secondmetest.New(t), sl: slacktest.NewServer(t, slacktest.Options{})}
	o.slackExtra = strings.ReplaceAll(o.slackExtra, "AUTHORIZE", e.sl.AuthorizeURL())
	for attempt := 1; !e.serve(t, o, attempt < 3); attempt++ {
	}
	if code, rb := waitReady(t, e.base); code != http.StatusOK {
		t.Fatalf("/readyz = %d %+v; logs:\n%s", code, rb, e.logs)
	}
	if o.slackMode == "http" {
		e.sl.DeliverOverHTTP(e.base, slackSigningSecret)
	}
	return e
}

func assertNoInstallSecrets(t *testing.T, e *e2e, teams ...string) {
	t.Helper()
	e.assertNoSecrets(t)
	logs := e.logs.String()
	for _, team := range teams {
		if tok := e.sl.TeamToken(team); tok != "" && strings.Contains(logs, tok) {
			t.Errorf("logs contain the bot token of %s", team)
		}
	}
	if strings.Contains(logs, slacktest.DefaultClientSecret) {
		t.Error("logs contain the client secret")
	}
	if strings.Contains(logs, "code-") {
		t.Error("logs contain an OAuth code")
	}
}

// TestE2ESlackInstallHostile: the callback refuses a state from another
// browser (no nonce cookie), a tampered state, a replayed callback, and
// a cancelled authorization, each with a page that says what to do, and
// none of them reaches oauth.v2.access or stores anything.
func TestE2ESlackInstallHostile(t *testing.T) {
	t.Parallel()
	e := startInstallE2E(t, installOptions("socket"))
	e.sl.AddWorkspace(slacktest.Workspace{TeamID: "T2", TeamName: "Beta"})
	noRedirect := func(c *http.Client) *http.Client {
		c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
		return c
	}
	// Browser A starts; the authorize redirect is opened by browser B.
	a := noRedirect(browser(t))
	resp, err := a.Get(e.base + "/slack/install")
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	authorize := resp.Header.Get("Location")
	if resp.StatusCode != http.StatusFound || !strings.HasPrefix(authorize, e.sl.AuthorizeURL()+"?") {
		t.Fatalf("/slack/install = %d to %q", resp.StatusCode, authorize)
	}
	for _, c := range resp.Cookies() {
		if c.Name == "secondme_slack_install" && (!c.HttpOnly || c.SameSite != http.SameSiteLaxMode || c.Path != "/") {
			t.Errorf("nonce cookie %+v: want HttpOnly, SameSite=Lax, Path=/ (a public URL may have a path prefix)", c)
		}
	}
	e.sl.NextInstall("T2")
	code, page, _ := getPage(t, browser(t), authorize)
	if code != http.StatusBadRequest || !strings.Contains(page, "another browser") || !strings.Contains(page, "其他浏览器") {
		t.Errorf("callback in another browser = %d:\n%s", code, page)
	}

	// A tampered state, in the right browser.
	u, _ := url.Parse(authorize)
	q := u.Query()
	q.Set("state", q.Get("state")+"x")
	u.RawQuery = q.Encode()
	e.sl.NextInstall("T2")
	a.CheckRedirect = nil
	if code, page, _ := getPage(t, a, u.String()); code != http.StatusBadRequest || !strings.Contains(page, "Install failed") {
		t.Errorf("tampered state = %d:\n%s", code, page)
	}

	// A cancelled authorization (no team chosen: access_denied).
	if code, page, _ := getPage(t, browser(t), e.base+"/slack/install"); code != http.StatusBadRequest || !strings.Contains(page, "Install cancelled") {
		t.Errorf("cancelled install = %d:\n%s", code, page)
	}

	// A good install, step by step, then its callback replayed in the same
	// browser with the nonce cookie put back: the state is single-use.
	b := noRedirect(browser(t))
	resp, err = b.Get(e.base + "/slack/install")
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	var nonce *http.Cookie
	for _, c := range resp.Cookies() {
		if c.Name == "secondme_slack_install" {
			nonce = c
		}
	}
	if nonce == nil {
		t.Fatal("/slack/install set no nonce cookie")
	}
	e.sl.NextInstall("T2")
	resp, err = b.Get(resp.Header.Get("Location"))
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	callback := resp.Header.Get("Location")
	if code, page, _ := getPage(t, b, callback); code != http.StatusOK || !strings.Contains(page, "Installed in Beta") {
		t.Fatalf("callback = %d:\n%s", code, page)
	}
	accesses := len(e.sl.Calls("oauth.v2.access"))
	base, _ := url.Parse(e.base + "/slack/")
	b.Jar.SetCookies(base, []*http.Cookie{{Name: nonce.Name, Value: nonce.Value, Path: "/"}})
	if code, page, _ := getPage(t, b, callback); code != http.StatusBadRequest || !strings.Contains(page, "already used") || !strings.Contains(page, "已被使用") {
		t.Errorf("replayed callback = %d:\n%s", code, page)
	}
	if n := len(e.sl.Calls("oauth.v2.access")); n != accesses || accesses != 1 {
		t.Errorf("oauth.v2.access called %d times then %d, want once (only the good install)", accesses, n)
	}
	assertNoInstallSecrets(t, e, "T2")
}

// TestE2ESlackInstallTokenRotation: with token rotation, a workspace's bot
// token about to expire is refreshed (oauth.v2.access with the refresh
// token) before use; the reply goes out with the new token, and the new
// pair is stored (the next refresh uses the rotated refresh token).
func TestE2ESlackInstallTokenRotation(t *testing.T) {
	t.Parallel()
	o := installOptions("socket")
	e := &e2e{sm: secondmetest.New(t), sl: slacktest.NewServer(t, slacktest.Options{TokenRotation: true, TokenLifetime: time.Minute})}
	o.slackExtra = strings.ReplaceAll(o.slackExtra, "AUTHORIZE", e.sl.AuthorizeURL())
	for attempt := 1; !e.serve(t, o, attempt < 3); attempt++ {
	}
	if code, rb := waitReady(t, e.base); code != http.StatusOK {
		t.Fatalf("/readyz = %d %+v", code, rb)
	}
	e.sl.AddWorkspace(slacktest.Workspace{TeamID: "T2", TeamName: "Beta"})
	installWorkspace(t, e, "T2", "Beta")
	installed := e.sl.TeamToken("T2")
	linkSlackUserIn(t, e, "T2", "C2", "U2", "42", "Ada")
	if e.sl.Refreshes() == 0 || e.sl.TeamToken("T2") == installed {
		t.Fatalf("a token one minute from expiry was used without a refresh (%d refreshes)", e.sl.Refreshes())
	}
	refreshes := e.sl.Refreshes()
	e.sm.QueueStream(secondmetest.Script{Deltas: []string{"rotated"}})
	p, err := e.sl.MentionIn(slackCtx(t), "T2", "U2", "C2", "", "hi")
	if err != nil {
		t.Fatal(err)
	}
	waitSlackReply(t, e, "C2", p.TS, "rotated")
	if e.sl.Refreshes() <= refreshes {
		t.Errorf("no refresh with the rotated refresh token (%d refreshes)", e.sl.Refreshes())
	}
	for _, tok := range callsIn(e, "C2") {
		if tok == installed {
			t.Error("a call used the token minted at install after it was refreshed")
		}
	}
	assertNoInstallSecrets(t, e, "T2")
}
