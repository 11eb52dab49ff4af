package secondme

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"time"
)

// OAuth token endpoints, relative to the base URL.
const (
	pathTokenCode    = "/api/oauth/token/code"
	pathTokenRefresh = "/api/oauth/token/refresh"
)

// Token is an OAuth token pair as returned by the code exchange or a
// refresh. Its String and LogValue methods redact the secrets.
type Token struct {
	AccessToken  string
	RefreshToken string // may be empty after a refresh: keep the old one then
	TokenType    string
	ExpiresIn    int64     // seconds, as sent
	Expiry       time.Time // now + ExpiresIn; zero if ExpiresIn == 0
	Scopes       []string  // granted scopes, as sent
}

// scopeAliases maps a scope name to the names that also grant it
// (secondme-api.md §3.2: old and new names coexist).
var scopeAliases = map[string][]string{
	"userinfo":         {"user.info"},
	"user.info":        {"userinfo"},
	"user.info.shades": {"userinfo"},
	"chat.read":        {"chat"},
	"chat.write":       {"chat"},
	"note.write":       {"note.add"},
	"note.add":         {"note.write"},
}

// HasScope reports whether the token grants name, comparing old and new
// spellings: "userinfo" ⇔ "user.info" (and "userinfo" ⇒
// "user.info.shades"), "chat" ⇒ "chat.read" and "chat.write" (and "chat"
// needs both of them), "note.add" ⇔ "note.write".
func (t *Token) HasScope(name string) bool {
	if t == nil {
		return false
	}
	if slices.Contains(t.Scopes, name) {
		return true
	}
	for _, alias := range scopeAliases[name] {
		if slices.Contains(t.Scopes, alias) {
			return true
		}
	}
	if name == "chat" {
		return slices.Contains(t.Scopes, "chat.read") && slices.Contains(t.Scopes, "chat.write")
	}
	return false
}

// String implements fmt.Stringer without the secrets.
func (t Token) String() string {
	return fmt.Sprintf("secondme.Token{type=%s expiresIn=%d scopes=%v access=%s refresh=%s}",
		t.TokenType, t.ExpiresIn, t.Scopes, mask(t.AccessToken), mask(t.RefreshToken))
}

// GoString implements fmt.GoStringer without the secrets.
func (t Token) GoString() string { return t.String() }

// LogValue implements slog.LogValuer without the secrets.
func (t Token) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("type", t.TokenType),
		slog.Int64("expires_in", t.ExpiresIn),
		slog.Time("expiry", t.Expiry),
		slog.Any("scopes", t.Scopes),
		slog.Bool("has_refresh_token", t.RefreshToken != ""),
	)
}

func mask(s string) string {
	if s == "" {
		return `""`
	}
	return "[REDACTED]"
}

// AuthorizeURL returns the authorize page URL that starts the OAuth flow:
// the configured authorize URL (its query preserved) with client_id,
// redirect_uri, response_type=code and state. No /authorize suffix is added.
//
// SecondMe API docs: https://develop-docs.second.me/zh/docs/api-reference/oauth
func (c *Client) AuthorizeURL(redirectURI, state string) string {
	u := *c.authorizeURL
	q := u.Query()
	q.Set("client_id", c.clientID)
	q.Set("redirect_uri", redirectURI)
	q.Set("response_type", "code")
	q.Set("state", state)
	u.RawQuery = q.Encode()
	return u.String()
}

// ExchangeCode exchanges an authorization code (lba_ac_…, single use, valid
// 5 minutes) for a token pair. redirectURI must equal the one used in
// AuthorizeURL. It posts a form with client_secret in the body and no
// Authorization header.
//
// SecondMe API docs: https://develop-docs.second.me/zh/docs/api-reference/oauth
func (c *Client) ExchangeCode(ctx context.Context, code, redirectURI string) (*Token, error) {
	if err := c.checkOAuth(); err != nil {
		return nil, err
	}
	if code == "" {
		return nil, &ValidationError{Field: "code", Problem: "is empty"}
	}
	if redirectURI == "" {
		return nil, &ValidationError{Field: "redirect_uri", Problem: "is empty"}
	}
	form := url.Values{
		"grant_type":    {"authorization_code"},
		"code":          {code},
		"redirect_uri":  {redirectURI},
		"client_id":     {c.clientID},
		"client_secret": {c.clientSecret},
	}
	return c.tokenCall(ctx, pathTokenCode, form, code)
}

// RefreshToken exchanges a refresh token for a new token pair. The returned
// RefreshToken is whatever the server sent: the same one (no rotation), a
// new one (rotation), or empty, in which case the caller keeps the old one.
// Always persist a non-empty returned refresh token.
//
// SecondMe API docs: https://develop-docs.second.me/zh/docs/api-reference/oauth
func (c *Client) RefreshToken(ctx context.Context, refreshToken string) (*Token, error) {
	if err := c.checkOAuth(); err != nil {
		return nil, err
	}
	if refreshToken == "" {
		return nil, &ValidationError{Field: "refresh_token", Problem: "is empty"}
	}
	form := url.Values{
		"grant_type":    {"refresh_token"},
		"refresh_token": {refreshToken},
		"client_id":     {c.clientID},
		"client_secret": {c.clientSecret},
	}
	return c.tokenCall(ctx, pathTokenRefresh, form, refreshToken)
}

func (c *Client) checkOAuth() error {
	if c.clientID == "" || c.clientSecret == "" {
		return &ValidationError{Field: "oauth client", Problem: "client id and secret are not configured (WithOAuth)"}
	}
	return nil
}

// tokenData accepts the documented camelCase and a snake_case variant.
type tokenData struct {
	AccessToken       flexString  `json:"accessToken"`
	AccessTokenSnake  flexString  `json:"access_token"`
	RefreshToken      flexString  `json:"refreshToken"`
	RefreshTokenSnake flexString  `json:"refresh_token"`
	TokenType         flexString  `json:"tokenType"`
	TokenTypeSnake    flexString  `json:"token_type"`
	ExpiresIn         flexInt     `json:"expiresIn"`
	ExpiresInSnake    flexInt     `json:"expires_in"`
	Scope             flexStrings `json:"scope"`
	Scopes            flexStrings `json:"scopes"`
}

func (c *Client) tokenCall(ctx context.Context, path string, form url.Values, secret string) (*Token, error) {
	ac := apiCall{method: http.MethodPost, path: path, form: form, noAuth: true, secrets: []string{secret, c.clientSecret}}
	var td tokenData
	body, err := c.do(ctx, ac, &td)
	if err != nil {
		return nil, err
	}
	if td.AccessToken.V == "" && td.AccessTokenSnake.V == "" {
		// Tolerate an unwrapped RFC 6749 reply.
		var flat tokenData
		if json.Unmarshal(body, &flat) == nil {
			td = flat
		}
	}
	tok := &Token{
		AccessToken:  cmp.Or(td.AccessToken.V, td.AccessTokenSnake.V),
		RefreshToken: cmp.Or(td.RefreshToken.V, td.RefreshTokenSnake.V),
		TokenType:    cmp.Or(td.TokenType.V, td.TokenTypeSnake.V, "Bearer"),
		ExpiresIn:    td.ExpiresIn.V,
		Scopes:       []string(td.Scope),
	}
	if !td.ExpiresIn.Set {
		tok.ExpiresIn = td.ExpiresInSnake.V
	}
	if len(tok.Scopes) == 0 {
		tok.Scopes = []string(td.Scopes)
	}
	if tok.AccessToken == "" {
		return nil, fmt.Errorf("secondme: POST %s: token reply without accessToken: %w", path, ErrMalformedResponse)
	}
	if tok.ExpiresIn > 0 {
		tok.Expiry = c.now().Add(time.Duration(tok.ExpiresIn) * time.Second)
	}
	return tok, nil
}
