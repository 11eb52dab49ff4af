package secondme_test

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/secondme-bridge/secondme-bridge/secondme"
	"github.com/secondme-bridge/secondme-bridge/secondme/secondmetest"
)

const redirectURI = "https://bridge.example.com/oauth/callback"

func TestAuthorizeURL(t *testing.T) {
	t.Parallel()
	tests := []struct {
		authorize string
		want      string
	}{
		{"", "https://go.second.me/oauth/?client_id=cid&redirect_uri=https%3A%2F%2Fbridge.example.com%2Foauth%2Fcallback&response_type=code&state=st%2B1"},
		{"https://go.second-me.cn/oauth/?lang=zh", "https://go.second-me.cn/oauth/?client_id=cid&lang=zh&redirect_uri=https%3A%2F%2Fbridge.example.com%2Foauth%2Fcallback&response_type=code&state=st%2B1"},
	}
	for _, tc := range tests {
		c, err := secondme.NewClient(secondme.WithOAuth("cid", "secret", tc.authorize))
		if err != nil {
			t.Fatal(err)
		}
		got := c.AuthorizeURL(redirectURI, "st+1")
		if got != tc.want {
			t.Errorf("AuthorizeURL = %q, want %q", got, tc.want)
		}
	}
}

// authorize follows the authorize URL like a browser that stops at the
// redirect back to the bridge, and returns that redirect's query.
func authorize(t *testing.T, s *secondmetest.Server, u string) url.Values {
	t.Helper()
	hc := &http.Client{
		Transport:     s.HTTPClient().Transport,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, u, nil)
	resp, err := hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusFound {
		t.Fatalf("authorize status %d", resp.StatusCode)
	}
	loc, err := url.Parse(resp.Header.Get("Location"))
	if err != nil || !strings.HasPrefix(loc.String(), redirectURI) {
		t.Fatalf("redirect to %q", resp.Header.Get("Location"))
	}
	return loc.Query()
}

func TestOAuthFlow(t *testing.T) {
	t.Parallel()
	s, c := setup(t)
	s.AddUser(secondmetest.User{ID: "42", Name: "Ada", AppScopedUserID: "asu-42"}, "user.info", "chat")
	s.SetAuthorizeDecision(secondmetest.AuthorizeDecision{UserID: "42"})
	q := authorize(t, s, c.AuthorizeURL(redirectURI, "state-xyz"))
	if q.Get("state") != "state-xyz" || !strings.HasPrefix(q.Get("code"), "lba_ac_") {
		t.Fatalf("callback query %v", q)
	}
	before := time.Now()
	tok, err := c.ExchangeCode(t.Context(), q.Get("code"), redirectURI)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(tok.AccessToken, "lba_at_") || !strings.HasPrefix(tok.RefreshToken, "lba_rt_") ||
		tok.TokenType != "Bearer" || tok.ExpiresIn != 7200 {
		t.Errorf("token %v", tok)
	}
	if d := tok.Expiry.Sub(before); d < 7199*time.Second || d > 7201*time.Second+time.Minute {
		t.Errorf("expiry in %v", d)
	}
	if diff := cmp.Diff([]string{"user.info", "chat"}, tok.Scopes); diff != "" {
		t.Errorf("scopes: %s", diff)
	}
	if !tok.HasScope("userinfo") || !tok.HasScope("chat.write") || tok.HasScope("memory.read") {
		t.Errorf("HasScope with old names wrong: %v", tok.Scopes)
	}
	r := s.RequestsTo(secondmetest.PathTokenCode)[0]
	if r.Method != http.MethodPost || r.Header.Get("Content-Type") != "application/x-www-form-urlencoded" || r.Header.Get("Authorization") != "" {
		t.Errorf("exchange request: %s %v", r.Method, r.Header)
	}
	wantForm := url.Values{
		"grant_type": {"authorization_code"}, "code": {q.Get("code")}, "redirect_uri": {redirectURI},
		"client_id": {s.ClientID()}, "client_secret": {s.ClientSecret()},
	}
	if diff := cmp.Diff(wantForm, r.Form); diff != "" {
		t.Errorf("exchange form (-want +got):\n%s", diff)
	}
	me, err := c.AuthMe(t.Context(), tok.AccessToken)
	if err != nil || me.AppScopedUserID != "asu-42" {
		t.Errorf("AuthMe = %+v, %v", me, err)
	}
	u, err := c.UserInfo(t.Context(), tok.AccessToken)
	if err != nil || u.UserID != "42" {
		t.Errorf("UserInfo = %+v, %v", u, err)
	}
}

func TestAuthorizeDenied(t *testing.T) {
	t.Parallel()
	s, c := setup(t)
	s.DenyNextAuthorize()
	q := authorize(t, s, c.AuthorizeURL(redirectURI, "st"))
	if q.Get("error") != "access_denied" || q.Get("error_description") == "" || q.Get("state") != "st" || q.Has("code") {
		t.Errorf("denied callback %v", q)
	}
	// The one-shot denial is used up.
	if q := authorize(t, s, c.AuthorizeURL(redirectURI, "st2")); q.Get("code") == "" {
		t.Errorf("second authorization %v", q)
	}
}

func TestExchangeCodeErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		prepare func(s *secondmetest.Server, c *secondme.Client) (code, redirect string, client *secondme.Client)
		sub     string
		check   func(error) bool
	}{
		{"unknown code", func(s *secondmetest.Server, c *secondme.Client) (string, string, *secondme.Client) {
			return "lba_ac_nope", redirectURI, c
		}, "oauth2.code.invalid", nil},
		{"used twice", func(s *secondmetest.Server, c *secondme.Client) (string, string, *secondme.Client) {
			code := s.IssueCode("42", redirectURI)
			if _, err := c.ExchangeCode(t.Context(), code, redirectURI); err != nil {
				t.Fatal(err)
			}
			return code, redirectURI, c
		}, "oauth2.code.used", nil},
		{"expired", func(s *secondmetest.Server, c *secondme.Client) (string, string, *secondme.Client) {
			code := s.IssueCode("42", redirectURI)
			s.Advance(secondmetest.CodeTTL + time.Second)
			return code, redirectURI, c
		}, "oauth2.code.expired", nil},
		{"revoked", func(s *secondmetest.Server, c *secondme.Client) (string, string, *secondme.Client) {
			code := s.IssueCode("42", redirectURI)
			s.RevokeUser("42")
			return code, redirectURI, c
		}, "oauth2.code.revoked", nil},
		{"redirect mismatch", func(s *secondmetest.Server, c *secondme.Client) (string, string, *secondme.Client) {
			return s.IssueCode("42", redirectURI), redirectURI + "/other", c
		}, "oauth2.redirect_uri.mismatch", nil},
		{"secret mismatch", func(s *secondmetest.Server, c *secondme.Client) (string, string, *secondme.Client) {
			return s.IssueCode("42", redirectURI), redirectURI,
				s.Client(secondme.WithOAuth(s.ClientID(), "wrong-secret", s.AuthorizeURL()))
		}, "oauth2.client.secret_mismatch", secondme.IsOperatorProblem},
		{"unknown client", func(s *secondmetest.Server, c *secondme.Client) (string, string, *secondme.Client) {
			return s.IssueCode("42", redirectURI), redirectURI,
				s.Client(secondme.WithOAuth("other", s.ClientSecret(), s.AuthorizeURL()))
		}, "oauth2.client.invalid", secondme.IsOperatorProblem},
	}
	for _, tc := range tests {
		s, c := setup(t)
		code, redirect, client := tc.prepare(s, c)
		_, err := client.ExchangeCode(t.Context(), code, redirect)
		var ae *secondme.APIError
		if !errors.As(err, &ae) || ae.SubCode != tc.sub {
			t.Errorf("%s: err = %v, want sub-code %s", tc.name, err, tc.sub)
			continue
		}
		if tc.check != nil && !tc.check(err) {
			t.Errorf("%s: classifier false for %v", tc.name, err)
		}
		if strings.Contains(err.Error(), code) {
			t.Errorf("%s: error contains the code", tc.name)
		}
	}
}

func TestRefreshToken(t *testing.T) {
	t.Parallel()
	for _, rotate := range []bool{false, true} {
		s := secondmetest.NewServer(t, secondmetest.Options{BasePath: "/gate/lab", RotateRefreshTokens: rotate})
		c := s.Client()
		old := s.IssueToken("42")
		tok, err := c.RefreshToken(t.Context(), old.RefreshToken)
		if err != nil {
			t.Fatal(err)
		}
		if tok.AccessToken == old.AccessToken || tok.AccessToken == "" {
			t.Errorf("rotate=%v: access token not renewed", rotate)
		}
		if rotated := tok.RefreshToken != old.RefreshToken; rotated != rotate {
			t.Errorf("rotate=%v: refresh token changed=%v", rotate, rotated)
		}
		r := s.RequestsTo(secondmetest.PathTokenRefresh)[0]
		wantForm := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {old.RefreshToken},
			"client_id": {s.ClientID()}, "client_secret": {s.ClientSecret()}}
		if diff := cmp.Diff(wantForm, r.Form); diff != "" || r.Header.Get("Authorization") != "" {
			t.Errorf("refresh form (-want +got):\n%s auth %q", diff, r.Header.Get("Authorization"))
		}
		_, err = c.RefreshToken(t.Context(), old.RefreshToken)
		if rotate != (err != nil) {
			t.Errorf("rotate=%v: reusing the old refresh token: %v", rotate, err)
		}
		if rotate && !secondme.IsRelinkRequired(err) {
			t.Errorf("reused rotated token not relink: %v", err)
		}
		if s.RefreshCount() != 2 {
			t.Errorf("RefreshCount = %d", s.RefreshCount())
		}
	}
}

func TestRefreshTokenRejected(t *testing.T) {
	t.Parallel()
	for name, spoil := range map[string]func(*secondmetest.Server, *secondme.Token){
		"revoked":      func(s *secondmetest.Server, tok *secondme.Token) { s.RevokeRefreshToken(tok.RefreshToken) },
		"expired":      func(s *secondmetest.Server, tok *secondme.Token) { s.ExpireRefreshToken(tok.RefreshToken) },
		"user revoked": func(s *secondmetest.Server, _ *secondme.Token) { s.RevokeUser("42") },
		"aged out":     func(s *secondmetest.Server, _ *secondme.Token) { s.Advance(366 * 24 * time.Hour) },
	} {
		s, c := setup(t)
		tok := s.IssueToken("42")
		spoil(s, tok)
		_, err := c.RefreshToken(t.Context(), tok.RefreshToken)
		if !secondme.IsRelinkRequired(err) || secondme.IsTokenInvalid(err) {
			t.Errorf("%s: err = %v, want relink", name, err)
		}
		if strings.Contains(err.Error(), tok.RefreshToken) {
			t.Errorf("%s: error contains the refresh token", name)
		}
	}
}

func TestTokenReplyVariants(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		body string
		want *secondme.Token
		err  error
	}{
		{"camelCase", `{"code":0,"data":{"accessToken":"lba_at_1","refreshToken":"lba_rt_1","tokenType":"Bearer","expiresIn":604800,"scope":["userinfo","chat.write"]}}`,
			&secondme.Token{AccessToken: "lba_at_1", RefreshToken: "lba_rt_1", TokenType: "Bearer", ExpiresIn: 604800, Scopes: []string{"userinfo", "chat.write"}}, nil},
		{"snake_case", `{"code":0,"data":{"access_token":"lba_at_2","refresh_token":"lba_rt_2","token_type":"bearer","expires_in":"7200","scope":"user.info chat"}}`,
			&secondme.Token{AccessToken: "lba_at_2", RefreshToken: "lba_rt_2", TokenType: "bearer", ExpiresIn: 7200, Scopes: []string{"user.info", "chat"}}, nil},
		{"no refresh token", `{"code":0,"data":{"accessToken":"lba_at_3","expiresIn":60}}`,
			&secondme.Token{AccessToken: "lba_at_3", TokenType: "Bearer", ExpiresIn: 60}, nil},
		{"unwrapped RFC 6749", `{"access_token":"lba_at_4","token_type":"Bearer","expires_in":10}`,
			&secondme.Token{AccessToken: "lba_at_4", TokenType: "Bearer", ExpiresIn: 10}, nil},
		{"no expiry", `{"code":0,"data":{"accessToken":"lba_at_5"}}`,
			&secondme.Token{AccessToken: "lba_at_5", TokenType: "Bearer"}, nil},
		{"missing accessToken", `{"code":0,"data":{"refreshToken":"lba_rt_6"}}`, nil, secondme.ErrMalformedResponse},
		{"error at 200", `{"code":401,"message":"refresh token revoked","subCode":"oauth2.refresh_token.revoked"}`, nil, &secondme.APIError{}},
	}
	for _, tc := range tests {
		s, c := setup(t)
		s.QueueResponse(secondmetest.PathTokenRefresh, secondmetest.Response{Body: tc.body})
		tok, err := c.RefreshToken(t.Context(), "lba_rt_old")
		switch want := tc.err.(type) {
		case nil:
			if err != nil {
				t.Errorf("%s: %v", tc.name, err)
				continue
			}
			if (tok.ExpiresIn == 0) != tok.Expiry.IsZero() {
				t.Errorf("%s: expiresIn %d expiry %v", tc.name, tok.ExpiresIn, tok.Expiry)
			}
			tok.Expiry = time.Time{}
			if diff := cmp.Diff(tc.want, tok); diff != "" {
				t.Errorf("%s: (-want +got):\n%s", tc.name, diff)
			}
		case *secondme.APIError:
			if !secondme.IsRelinkRequired(err) {
				t.Errorf("%s: err = %v", tc.name, err)
			}
		default:
			if !errors.Is(err, want) {
				t.Errorf("%s: err = %v, want %v", tc.name, err, want)
			}
		}
	}
	// The fake's snake_case mode end to end.
	s := secondmetest.NewServer(t, secondmetest.Options{SnakeCaseTokens: true})
	tok, err := s.Client().ExchangeCode(t.Context(), s.IssueCode("7", redirectURI), redirectURI)
	if err != nil || tok.AccessToken == "" || tok.RefreshToken == "" || tok.ExpiresIn != 7200 {
		t.Errorf("snake case exchange: %v, %v", tok, err)
	}
}

func TestOAuthValidation(t *testing.T) {
	t.Parallel()
	s, c := setup(t)
	noOAuth, _ := secondme.NewClient(secondme.WithBaseURL(s.BaseURL()))
	checks := map[string]error{}
	_, checks["no oauth exchange"] = noOAuth.ExchangeCode(t.Context(), "lba_ac_x", redirectURI)
	_, checks["no oauth refresh"] = noOAuth.RefreshToken(t.Context(), "lba_rt_x")
	_, checks["empty code"] = c.ExchangeCode(t.Context(), "", redirectURI)
	_, checks["empty redirect"] = c.ExchangeCode(t.Context(), "lba_ac_x", "")
	_, checks["empty refresh"] = c.RefreshToken(t.Context(), "")
	for name, err := range checks {
		var ve *secondme.ValidationError
		if !errors.As(err, &ve) {
			t.Errorf("%s: err = %v, want ValidationError", name, err)
		}
	}
	if n := len(s.Requests()); n != 0 {
		t.Errorf("%d requests sent", n)
	}
}

func TestHasScope(t *testing.T) {
	t.Parallel()
	tests := []struct {
		granted []string
		name    string
		want    bool
	}{
		{[]string{"userinfo"}, "userinfo", true},
		{[]string{"user.info"}, "userinfo", true},
		{[]string{"userinfo"}, "user.info", true},
		{[]string{"userinfo"}, "user.info.shades", true},
		{[]string{"user.info.shades"}, "userinfo", false},
		{[]string{"chat"}, "chat.write", true},
		{[]string{"chat"}, "chat.read", true},
		{[]string{"chat.write"}, "chat", false},
		{[]string{"chat.write", "chat.read"}, "chat", true},
		{[]string{"note.add"}, "note.write", true},
		{[]string{"note.write"}, "note.add", true},
		{[]string{"chat.read"}, "chat.write", false},
		{nil, "voice", false},
	}
	for _, tc := range tests {
		tok := &secondme.Token{Scopes: tc.granted}
		if got := tok.HasScope(tc.name); got != tc.want {
			t.Errorf("%v.HasScope(%q) = %v, want %v", tc.granted, tc.name, got, tc.want)
		}
	}
	var nilTok *secondme.Token
	if nilTok.HasScope("chat") {
		t.Error("nil token has a scope")
	}
}

func TestTokenFormattingRedacts(t *testing.T) {
	t.Parallel()
	tok := &secondme.Token{AccessToken: "lba_at_SECRET1", RefreshToken: "lba_rt_SECRET2", TokenType: "Bearer", ExpiresIn: 10}
	var buf bytes.Buffer
	slog.New(slog.NewJSONHandler(&buf, nil)).Info("token", "tok", tok, "val", *tok)
	for _, out := range []string{fmt.Sprint(tok), fmt.Sprintf("%+v", *tok), fmt.Sprintf("%#v", tok), fmt.Sprintf("%v", []*secondme.Token{tok}), buf.String()} {
		if strings.Contains(out, "SECRET") {
			t.Errorf("formatted token leaks: %s", out)
		}
	}
}
