package secondmetest

import (
	"cmp"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/secondme-bridge/secondme-bridge/secondme"
)

// CodeTTL is the lifetime of an authorization code.
const CodeTTL = 5 * time.Minute

// AuthorizeDecision is what the fake user does on the authorize page.
type AuthorizeDecision struct {
	// UserID is who approves; "" means DefaultUserID. Unknown users are
	// created with a default profile.
	UserID string
	// Deny makes the page redirect with an error instead of a code.
	Deny bool
	// Error and ErrorDescription of a denial; defaults "access_denied" and
	// "The user denied the authorization request".
	Error            string
	ErrorDescription string
	// NoCode makes the page redirect back with the state only: neither a
	// code nor an error (a broken provider).
	NoCode bool
}

type codeState struct {
	userID, redirectURI string
	expires             time.Time
	used, revoked       bool
}

// accessState is an access token or API key.
type accessState struct {
	userID  string
	expires time.Time // zero for API keys
	revoked string    // sub-code answered when revoked
	expired bool
}

type refreshState struct {
	userID  string
	expires time.Time
	revoked bool
	expired bool
	rotated bool
}

// SetAuthorizeDecision sets the standing decision of the authorize page
// (the default approves as DefaultUserID).
func (s *Server) SetAuthorizeDecision(d AuthorizeDecision) {
	s.mu.Lock()
	s.authDefault = d
	s.mu.Unlock()
}

// NextAuthorize queues a one-shot decision for the next authorization; it
// takes precedence over the standing decision.
func (s *Server) NextAuthorize(d AuthorizeDecision) {
	s.mu.Lock()
	s.authQueue = append(s.authQueue, d)
	s.mu.Unlock()
}

// DenyNextAuthorize makes the next authorization redirect with
// error=access_denied.
func (s *Server) DenyNextAuthorize() { s.NextAuthorize(AuthorizeDecision{Deny: true}) }

// IssueCode mints an authorization code for userID bound to redirectURI,
// as if the user had approved on the authorize page.
func (s *Server) IssueCode(userID, redirectURI string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.issueCodeLocked(s.ensureUserLocked(userID), redirectURI)
}

func (s *Server) issueCodeLocked(userID, redirectURI string) string {
	code := randToken("lba_ac_")
	s.codes[code] = &codeState{userID: userID, redirectURI: redirectURI, expires: s.nowLocked().Add(CodeTTL)}
	return code
}

// IssueToken mints a valid token pair for userID (created with a default
// profile if unknown, DefaultUserID if empty) without the browser flow.
// Expiry is computed from the real clock, as secondme.Client does.
func (s *Server) IssueToken(userID string) *secondme.Token {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.issueTokenLocked(s.ensureUserLocked(userID))
}

func (s *Server) issueTokenLocked(userID string) *secondme.Token {
	at, rt := randToken("lba_at_"), randToken("lba_rt_")
	now := s.nowLocked()
	s.access[at] = &accessState{userID: userID, expires: now.Add(s.opts.AccessTTL)}
	s.refresh[rt] = &refreshState{userID: userID, expires: now.Add(s.opts.RefreshTTL)}
	return s.tokenLocked(userID, at, rt)
}

func (s *Server) tokenLocked(userID, at, rt string) *secondme.Token {
	return &secondme.Token{
		AccessToken:  at,
		RefreshToken: rt,
		TokenType:    "Bearer",
		ExpiresIn:    int64(s.opts.AccessTTL / time.Second),
		Expiry:       time.Now().Add(s.opts.AccessTTL),
		Scopes:       slices.Clone(s.users[userID].scopes),
	}
}

// AddAPIKey mints a legacy personal API key (lba_ak_…) for userID.
func (s *Server) AddAPIKey(userID string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	key := randToken("lba_ak_")
	s.apiKeys[key] = &accessState{userID: s.ensureUserLocked(userID)}
	return key
}

// ExpireAccessToken makes accessToken answer 401 oauth2.token.expired.
func (s *Server) ExpireAccessToken(accessToken string) {
	s.mu.Lock()
	if st := s.access[accessToken]; st != nil {
		st.expired = true
	}
	s.mu.Unlock()
}

// RevokeAccessToken makes accessToken answer 401 oauth2.token.revoked.
func (s *Server) RevokeAccessToken(accessToken string) {
	s.mu.Lock()
	if st := s.lookupLocked(accessToken); st != nil {
		st.revoked = "oauth2.token.revoked"
	}
	s.mu.Unlock()
}

// ExpireRefreshToken makes refreshing with it answer 401
// oauth2.refresh_token.expired.
func (s *Server) ExpireRefreshToken(refreshToken string) {
	s.mu.Lock()
	if st := s.refresh[refreshToken]; st != nil {
		st.expired = true
	}
	s.mu.Unlock()
}

// RevokeRefreshToken makes refreshing with it answer 401
// oauth2.refresh_token.revoked.
func (s *Server) RevokeRefreshToken(refreshToken string) {
	s.mu.Lock()
	if st := s.refresh[refreshToken]; st != nil {
		st.revoked = true
	}
	s.mu.Unlock()
}

// RevokeUser revokes the app's authorization for userID: existing access
// tokens and API keys answer 401 oauth2.authorization.revoked, refresh
// tokens 401 oauth2.refresh_token.revoked, and unused codes
// oauth2.code.revoked. Tokens issued later are valid.
func (s *Server) RevokeUser(userID string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, m := range []map[string]*accessState{s.access, s.apiKeys} {
		for _, st := range m {
			if st.userID == userID {
				st.revoked = "oauth2.authorization.revoked"
			}
		}
	}
	for _, st := range s.refresh {
		if st.userID == userID {
			st.revoked = true
		}
	}
	for _, st := range s.codes {
		if st.userID == userID {
			st.revoked = true
		}
	}
}

// SetAccessTTL sets the lifetime (and expiresIn) of tokens issued later.
func (s *Server) SetAccessTTL(d time.Duration) {
	s.mu.Lock()
	s.opts.AccessTTL = d
	s.mu.Unlock()
}

// SetRotateRefreshTokens switches refresh-token rotation.
func (s *Server) SetRotateRefreshTokens(on bool) {
	s.mu.Lock()
	s.opts.RotateRefreshTokens = on
	s.mu.Unlock()
}

// RefreshCount is the number of POSTs to the refresh endpoint, successful
// or not.
func (s *Server) RefreshCount() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.refreshCount
}

// ExchangeCount is the number of POSTs to the code exchange endpoint.
func (s *Server) ExchangeCount() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.exchangeCount
}

// TokenUser returns the owner of accessToken (or API key) if it is
// currently valid.
func (s *Server) TokenUser(accessToken string) (userID string, ok bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.lookupLocked(accessToken)
	if st == nil || s.validLocked(st) != "" {
		return "", false
	}
	return st.userID, true
}

func (s *Server) lookupLocked(tok string) *accessState {
	if strings.HasPrefix(tok, "lba_ak_") {
		return s.apiKeys[tok]
	}
	return s.access[tok]
}

// validLocked returns "" for a usable token, else the sub-code to answer.
func (s *Server) validLocked(st *accessState) string {
	switch {
	case st.revoked != "":
		return st.revoked
	case st.expired || (!st.expires.IsZero() && !s.nowLocked().Before(st.expires)):
		return "oauth2.token.expired"
	}
	return ""
}

func bearer(r *http.Request) (string, bool) {
	h := r.Header.Get("Authorization")
	if len(h) < 7 || !strings.EqualFold(h[:7], "bearer ") {
		return "", false
	}
	tok := strings.TrimSpace(h[7:])
	return tok, tok != ""
}

// authenticate checks the Bearer token and, when scopes are given, that
// the user holds one of them. It writes the error reply and returns false
// when the request must stop.
func (s *Server) authenticate(w http.ResponseWriter, r *http.Request, scopes ...string) (string, bool) {
	tok, ok := bearer(r)
	if !ok {
		writeJSON(w, http.StatusUnauthorized, map[string]any{"detail": "需要认证"})
		return "", false
	}
	s.mu.Lock()
	st := s.lookupLocked(tok)
	var sub, userID string
	var granted []string
	if st == nil {
		sub = "oauth2.token.invalid"
	} else {
		sub, userID = s.validLocked(st), st.userID
		if u := s.users[userID]; u != nil {
			granted = u.scopes
		}
	}
	s.mu.Unlock()
	if sub != "" {
		s.writeErr(w, http.StatusUnauthorized, sub, "access token rejected: "+sub)
		return "", false
	}
	if len(scopes) > 0 && !slices.ContainsFunc(scopes, func(sc string) bool { return slices.Contains(granted, sc) }) {
		s.writeErr(w, http.StatusForbidden, "oauth2.scope.insufficient", "missing scope: "+scopes[0])
		return "", false
	}
	return userID, true
}

func (s *Server) handleAuthorize(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	if q.Get("client_id") != s.opts.ClientID {
		s.writeErr(w, http.StatusBadRequest, "oauth2.client.invalid", "unknown client_id")
		return
	}
	redirect, err := url.Parse(q.Get("redirect_uri"))
	if err != nil || (redirect.Scheme != "http" && redirect.Scheme != "https") || redirect.Host == "" ||
		(len(s.opts.RedirectURIs) > 0 && !slices.Contains(s.opts.RedirectURIs, q.Get("redirect_uri"))) {
		s.writeErr(w, http.StatusBadRequest, "oauth2.redirect_uri.invalid", "redirect_uri is not registered")
		return
	}
	if q.Get("response_type") != "code" {
		s.writeErr(w, http.StatusBadRequest, "invalid.param", "response_type must be code")
		return
	}
	state := q.Get("state")
	if state == "" {
		s.writeErr(w, http.StatusBadRequest, "invalid.param", "state is required")
		return
	}
	s.mu.Lock()
	d := s.authDefault
	if len(s.authQueue) > 0 {
		d = s.authQueue[0]
		s.authQueue = s.authQueue[1:]
	}
	rq := redirect.Query()
	switch {
	case d.NoCode:
	case d.Deny:
		rq.Set("error", cmp.Or(d.Error, "access_denied"))
		rq.Set("error_description", cmp.Or(d.ErrorDescription, "The user denied the authorization request"))
	default:
		rq.Set("code", s.issueCodeLocked(s.ensureUserLocked(d.UserID), q.Get("redirect_uri")))
	}
	s.mu.Unlock()
	rq.Set("state", state)
	redirect.RawQuery = rq.Encode()
	http.Redirect(w, r, redirect.String(), http.StatusFound)
}

// tokenForm parses a token endpoint form, answering 422 for a non-form
// body or missing fields.
func (s *Server) tokenForm(w http.ResponseWriter, r *http.Request, fields ...string) (url.Values, bool) {
	var form url.Values
	if rec := r.Header.Get("Content-Type"); strings.HasPrefix(rec, "application/x-www-form-urlencoded") && r.ParseForm() == nil {
		form = r.PostForm
	}
	var missing []string
	for _, f := range fields {
		if form.Get(f) == "" {
			missing = append(missing, f)
		}
	}
	if len(missing) > 0 {
		writeMissing(w, missing...)
		return nil, false
	}
	if form.Get("client_id") != s.opts.ClientID {
		s.writeErr(w, http.StatusBadRequest, "oauth2.client.invalid", "unknown client_id")
		return nil, false
	}
	if form.Get("client_secret") != s.opts.ClientSecret {
		s.writeErr(w, http.StatusUnauthorized, "oauth2.client.secret_mismatch", "client secret mismatch")
		return nil, false
	}
	return form, true
}

func (s *Server) handleTokenCode(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	s.exchangeCount++
	s.mu.Unlock()
	form, ok := s.tokenForm(w, r, "grant_type", "code", "redirect_uri", "client_id", "client_secret")
	if !ok {
		return
	}
	if form.Get("grant_type") != "authorization_code" {
		s.writeErr(w, http.StatusBadRequest, "oauth2.grant_type.invalid", "grant_type must be authorization_code")
		return
	}
	s.mu.Lock()
	st := s.codes[form.Get("code")]
	var sub string
	switch {
	case st == nil:
		sub = "oauth2.code.invalid"
	case st.revoked:
		sub = "oauth2.code.revoked"
	case st.used:
		sub = "oauth2.code.used"
	case !s.nowLocked().Before(st.expires):
		sub = "oauth2.code.expired"
	case st.redirectURI != form.Get("redirect_uri"):
		sub = "oauth2.redirect_uri.mismatch"
	}
	var tok *secondme.Token
	if sub == "" {
		st.used = true
		tok = s.issueTokenLocked(st.userID)
	}
	s.mu.Unlock()
	if sub != "" {
		s.writeErr(w, http.StatusBadRequest, sub, "authorization code rejected: "+sub)
		return
	}
	s.writeToken(w, tok)
}

func (s *Server) handleTokenRefresh(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	s.refreshCount++
	s.mu.Unlock()
	form, ok := s.tokenForm(w, r, "grant_type", "refresh_token", "client_id", "client_secret")
	if !ok {
		return
	}
	if form.Get("grant_type") != "refresh_token" {
		s.writeErr(w, http.StatusBadRequest, "oauth2.grant_type.invalid", "grant_type must be refresh_token")
		return
	}
	rt := form.Get("refresh_token")
	s.mu.Lock()
	st := s.refresh[rt]
	status, sub := http.StatusUnauthorized, ""
	switch {
	case st == nil || st.rotated:
		status, sub = http.StatusBadRequest, "oauth2.refresh_token.invalid"
	case st.revoked:
		sub = "oauth2.refresh_token.revoked"
	case st.expired || !s.nowLocked().Before(st.expires):
		sub = "oauth2.refresh_token.expired"
	}
	var tok *secondme.Token
	if sub == "" {
		at := randToken("lba_at_")
		s.access[at] = &accessState{userID: st.userID, expires: s.nowLocked().Add(s.opts.AccessTTL)}
		newRT := rt
		if s.opts.RotateRefreshTokens {
			st.rotated = true
			newRT = randToken("lba_rt_")
			s.refresh[newRT] = &refreshState{userID: st.userID, expires: s.nowLocked().Add(s.opts.RefreshTTL)}
		}
		tok = s.tokenLocked(st.userID, at, newRT)
	}
	s.mu.Unlock()
	if sub != "" {
		s.writeErr(w, status, sub, "refresh token rejected: "+sub)
		return
	}
	s.writeToken(w, tok)
}

func (s *Server) writeToken(w http.ResponseWriter, t *secondme.Token) {
	data := map[string]any{
		"accessToken": t.AccessToken, "refreshToken": t.RefreshToken, "tokenType": t.TokenType,
		"expiresIn": t.ExpiresIn, "scope": t.Scopes,
	}
	if s.opts.SnakeCaseTokens {
		data = map[string]any{
			"access_token": t.AccessToken, "refresh_token": t.RefreshToken, "token_type": t.TokenType,
			"expires_in": t.ExpiresIn, "scope": t.Scopes,
		}
	}
	writeOK(w, data)
}
