package secondmetest_test

import (
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/secondme-bridge/secondme-bridge/secondme/secondmetest"
)

const cb = "https://bridge.example.com/oauth/callback"

func authorizeQuery(s *secondmetest.Server, clientID, redirect, responseType, state string) string {
	v := url.Values{"client_id": {clientID}, "redirect_uri": {redirect}, "response_type": {responseType}}
	if state != "" {
		v.Set("state", state)
	}
	return s.AuthorizeURL() + "?" + v.Encode()
}

func TestAuthorizePage(t *testing.T) {
	t.Parallel()
	s := secondmetest.NewServer(t, secondmetest.Options{RedirectURIs: []string{cb, cb + "?team=1"}})
	id := s.ClientID()
	tests := []struct {
		name    string
		url     string
		status  int
		subCode string
	}{
		{"wrong client", authorizeQuery(s, "other", cb, "code", "st"), 400, "oauth2.client.invalid"},
		{"unregistered redirect", authorizeQuery(s, id, "https://evil.example/cb", "code", "st"), 400, "oauth2.redirect_uri.invalid"},
		{"relative redirect", authorizeQuery(s, id, "/cb", "code", "st"), 400, "oauth2.redirect_uri.invalid"},
		{"response type token", authorizeQuery(s, id, cb, "token", "st"), 400, "invalid.param"},
		{"no state", authorizeQuery(s, id, cb, "code", ""), 400, "invalid.param"},
		{"ok", authorizeQuery(s, id, cb, "code", "st"), 302, ""},
	}
	for _, tc := range tests {
		status, _, body := do(t, s, "GET", tc.url, "", "", "")
		if status != tc.status || (tc.subCode != "" && field(t, body, "subCode") != tc.subCode) {
			t.Errorf("%s: %d %s", tc.name, status, body)
		}
	}
	// The redirect keeps the redirect URI's own query.
	_, h, _ := do(t, s, "GET", authorizeQuery(s, id, cb+"?team=1", "code", "st"), "", "", "")
	loc, _ := url.Parse(h.Get("Location"))
	if q := loc.Query(); q.Get("team") != "1" || q.Get("state") != "st" || !strings.HasPrefix(q.Get("code"), "lba_ac_") {
		t.Errorf("Location %s", loc)
	}
}

func TestAuthorizeDecisions(t *testing.T) {
	t.Parallel()
	s := secondmetest.New(t)
	s.AddUser(secondmetest.User{ID: "a"})
	s.SetAuthorizeDecision(secondmetest.AuthorizeDecision{UserID: "a"})
	s.NextAuthorize(secondmetest.AuthorizeDecision{UserID: "b"})
	s.NextAuthorize(secondmetest.AuthorizeDecision{Deny: true, Error: "server_error", ErrorDescription: "nope"})
	s.NextAuthorize(secondmetest.AuthorizeDecision{NoCode: true})
	var got []string
	for range 4 {
		_, h, _ := do(t, s, "GET", authorizeQuery(s, s.ClientID(), cb, "code", "st"), "", "", "")
		loc, _ := url.Parse(h.Get("Location"))
		q := loc.Query()
		if q.Get("state") != "st" {
			t.Errorf("redirect %s lacks the state", loc)
		}
		if q.Get("code") == "" && q.Get("error") == "" {
			got = append(got, "no code")
			continue
		}
		if e := q.Get("error"); e != "" {
			got = append(got, e+":"+q.Get("error_description"))
			continue
		}
		tok, err := s.Client().ExchangeCode(t.Context(), q.Get("code"), cb)
		if err != nil {
			t.Fatal(err)
		}
		uid, _ := s.TokenUser(tok.AccessToken)
		got = append(got, uid)
	}
	if diff := cmp.Diff([]string{"b", "server_error:nope", "no code", "a"}, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	if _, ok := s.User("b"); !ok {
		t.Error("user b not created on approval")
	}
}

func TestTokenEndpointForms(t *testing.T) {
	t.Parallel()
	s := secondmetest.New(t)
	code := s.IssueCode("1", cb)
	base := url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {cb},
		"client_id": {s.ClientID()}, "client_secret": {s.ClientSecret()}}
	// JSON is refused like FastAPI does.
	status, _, body := do(t, s, "POST", s.URL+secondmetest.PathTokenCode, "application/json", `{"grant_type":"authorization_code"}`, "")
	if status != 422 || !strings.Contains(body, "Field required") {
		t.Errorf("json body: %d %s", status, body)
	}
	wrongGrant := url.Values{}
	for k, v := range base {
		wrongGrant[k] = v
	}
	wrongGrant.Set("grant_type", "password")
	status, _, body = do(t, s, "POST", s.URL+secondmetest.PathTokenCode, "application/x-www-form-urlencoded", wrongGrant.Encode(), "")
	if status != 400 || field(t, body, "subCode") != "oauth2.grant_type.invalid" {
		t.Errorf("grant type: %d %s", status, body)
	}
	status, _, body = do(t, s, "POST", s.URL+secondmetest.PathTokenCode, "application/x-www-form-urlencoded", base.Encode(), "")
	data, _ := field(t, body, "data").(map[string]any)
	if status != 200 || !strings.HasPrefix(data["accessToken"].(string), "lba_at_") || data["expiresIn"] != float64(7200) {
		t.Errorf("exchange: %d %s", status, body)
	}
	if s.ExchangeCount() != 3 {
		t.Errorf("ExchangeCount = %d", s.ExchangeCount())
	}
}

func TestTokenLifecycle(t *testing.T) {
	t.Parallel()
	s := secondmetest.NewServer(t, secondmetest.Options{AccessTTL: time.Minute, LegacyErrorField: true})
	tok := s.IssueToken("1")
	if tok.ExpiresIn != 60 || time.Until(tok.Expiry) > time.Minute {
		t.Errorf("token %v", tok)
	}
	if uid, ok := s.TokenUser(tok.AccessToken); !ok || uid != "1" {
		t.Errorf("TokenUser = %q %v", uid, ok)
	}
	s.Advance(time.Minute)
	if _, ok := s.TokenUser(tok.AccessToken); ok {
		t.Error("expired token valid")
	}
	status, _, body := do(t, s, "GET", s.URL+secondmetest.PathAuthMe, "", "", tok.AccessToken)
	if status != 401 || field(t, body, "error_code") != "oauth2.token.expired" {
		t.Errorf("expired: %d %s", status, body)
	}
	s.SetAccessTTL(time.Hour)
	if s.IssueToken("1").ExpiresIn != 3600 {
		t.Error("SetAccessTTL ignored")
	}
	s.SetRotateRefreshTokens(true)
	nt, err := s.Client().RefreshToken(t.Context(), tok.RefreshToken)
	if err != nil || nt.RefreshToken == tok.RefreshToken {
		t.Errorf("rotation: %v %v", nt, err)
	}
	key := s.AddAPIKey("1")
	if uid, ok := s.TokenUser(key); !ok || uid != "1" {
		t.Error("API key invalid")
	}
	s.RevokeUser("1")
	if _, ok := s.TokenUser(key); ok {
		t.Error("API key survived RevokeUser")
	}
}
