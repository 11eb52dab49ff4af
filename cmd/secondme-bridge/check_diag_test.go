package main

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/secondme-bridge/secondme-bridge/secondme/secondmetest"
)

// runCheck runs check on a config file with a short per-check timeout.
func runCheck(t *testing.T, yaml string, timeout time.Duration) (int, string) {
	t.Helper()
	path := writeConfig(t, yaml)
	c, stdout, stderr := testCLI(nil)
	c.checkTimeout = timeout
	code := c.run(t.Context(), []string{"check", "--config", path})
	if strings.Contains(stderr.String(), "panic") {
		t.Fatalf("stderr: %s", stderr)
	}
	return code, stdout.String()
}

func wantLines(t *testing.T, out string, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(out, w) {
			t.Errorf("output lacks %q:\n%s", w, out)
		}
	}
}

// TestCheckNoAnswerRefusedAndReview tells the three apart, each with the
// URL actually called and its fix: a listener that never answers ("no
// answer"), a closed port ("connection refused"), and SecondMe answering
// that the app still awaits review.
func TestCheckNoAnswerRefusedAndReview(t *testing.T) {
	t.Parallel()
	sv := newServices(t)
	silent := "http://" + silentListener(t) + "/api/v9"
	closed := "http://" + freeAddr(t) + "/api/"
	yaml := goodYAML(sv)
	yaml = strings.Replace(yaml, sv.discord.APIURL(), silent, 1)
	yaml = strings.Replace(yaml, sv.slack.APIURL(), closed, 1)
	sv.secondme.QueueResponse(secondmetest.PathTokenRefresh,
		secondmetest.ErrorResponse(http.StatusForbidden, "oauth2.application.pending_review", "application pending review"))
	// 2 s per check: the silent listener costs that, the others answer at once
	// even on a loaded machine.
	code, out := runCheck(t, yaml, 2*time.Second)
	if code != exitFailure {
		t.Errorf("exit code = %d, want 1", code)
	}
	silentHost := strings.TrimSuffix(strings.TrimPrefix(silent, "http://"), "/api/v9")
	closedHost := strings.TrimSuffix(strings.TrimPrefix(closed, "http://"), "/api/")
	wantLines(t, out,
		"FAIL  discord token: no answer within the timeout: ",
		"[GET "+silent+"/users/@me]\n      fix: "+silentHost+" did not answer in time: a firewall may drop outbound HTTPS from this machine (allow it, or set HTTPS_PROXY), or discord.api_url (now \""+silent+"\") points at a host that accepts but never answers\n",
		"FAIL  slack bot token and app token: connection refused: nothing listens at that address (",
		"[POST "+closed+"auth.test]\n      fix: nothing listens at "+closedHost+": check slack.api_url (now \""+closed+"\") and that the service (or your proxy) is up\n",
		"FAIL  secondme client credentials: SecondMe refused the client: oauth2.application.pending_review (HTTP 403) [POST "+sv.secondme.BaseURL()+"/api/oauth/token/refresh]\n"+
			"      fix: the app is waiting for SecondMe's review: see https://develop.second.me → your app; check passes once it is approved\n",
	)
	if strings.Contains(out, "https://discord.com/api/v9/users/@me") {
		t.Errorf("check names Discord's default URL though discord.api_url points elsewhere:\n%s", out)
	}
}

// fakeSlackAPI is a Slack Web API answering auth.test with the given
// X-OAuth-Scopes and apps.connections.open with connOpen.
func fakeSlackAPI(t *testing.T, scopes, connOpen string) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		switch r.URL.Path {
		case "/api/auth.test":
			w.Header().Set("X-OAuth-Scopes", scopes)
			fmt.Fprint(w, `{"ok":true,"url":"https://acme.slack.com/","team":"Acme","user":"secondme","team_id":"T1","user_id":"U1","bot_id":"B1"}`)
		case "/api/apps.connections.open":
			fmt.Fprint(w, connOpen)
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(srv.Close)
	return srv.URL + "/api/"
}

// TestCheckSlackScopes names the missing bot scopes (from auth.test's
// X-OAuth-Scopes) and the app-level token's missing connections:write.
func TestCheckSlackScopes(t *testing.T) {
	t.Parallel()
	sv := newServices(t)
	allButTwo := "app_mentions:read,channels:history,chat:write,chat:write.customize,commands,files:read,groups:history,im:read,im:write"
	api := fakeSlackAPI(t, allButTwo, `{"ok":true,"url":"wss://wss.example/link"}`)
	_, out := runCheck(t, strings.Replace(goodYAML(sv), sv.slack.APIURL(), api, 1), 5*time.Second)
	wantLines(t, out,
		"FAIL  slack bot token and app token: the bot token lacks the scope(s) im:history, users:read [POST "+api+"auth.test, POST "+api+"apps.connections.open]\n"+
			"      fix: add them at https://api.slack.com/apps → your app → OAuth & Permissions → Bot Token Scopes (or create the app from `secondme-bridge slack-manifest`), reinstall the app to the workspace, and put the new xoxb- token in slack.bot_token\n")

	all := allButTwo + ",im:history,users:read"
	api = fakeSlackAPI(t, all, `{"ok":false,"error":"missing_scope","needed":"connections:write","provided":"authorizations:read"}`)
	_, out = runCheck(t, strings.Replace(goodYAML(sv), sv.slack.APIURL(), api, 1), 5*time.Second)
	wantLines(t, out,
		"FAIL  slack bot token and app token: Slack answered missing_scope to the app-level token (needs connections:write) [POST "+api+"auth.test, POST "+api+"apps.connections.open]\n"+
			"      fix: https://api.slack.com/apps → your app → Basic Information → App-Level Tokens: generate a token with connections:write and put it in slack.app_token\n")

	api = fakeSlackAPI(t, all, `{"ok":true,"url":"wss://wss.example/link"}`)
	code, out := runCheck(t, strings.Replace(goodYAML(sv), sv.slack.APIURL(), api, 1), 5*time.Second)
	if code != exitOK {
		t.Errorf("every scope present: exit %d\n%s", code, out)
	}
}

// TestCheckSecondMeWrongBase: an API base that answers 404 without a
// SecondMe error envelope points at secondme.api_url.
func TestCheckSecondMeWrongBase(t *testing.T) {
	t.Parallel()
	sv := newServices(t)
	wrong := httptest.NewServer(http.NotFoundHandler())
	t.Cleanup(wrong.Close)
	_, out := runCheck(t, strings.Replace(goodYAML(sv), sv.secondme.BaseURL(), wrong.URL+"/gate", 1), 5*time.Second)
	wantLines(t, out, "[POST "+wrong.URL+"/gate/api/oauth/token/refresh]\n",
		"      fix: secondme.api_url (now \""+wrong.URL+"/gate\") must be SecondMe's API base, https://api.mindverse.com/gate/lab\n")
}
