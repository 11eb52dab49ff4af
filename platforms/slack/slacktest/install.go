package slacktest

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"net/http"
	"net/url"
	"strings"
)

// Default OAuth credentials of the fake's app (Options.ClientID,
// ClientSecret).
const (
	DefaultClientID     = "1111.2222"
	DefaultClientSecret = "fake-client-secret"
)

// Workspace is a team that can install the app through the OAuth v2 flow
// (see AddWorkspace). Its bot token is minted by oauth.v2.access.
type Workspace struct {
	TeamID, TeamName string
	BotUserID        string
	// InstalledBy is the user who approves the install.
	InstalledBy string
}

type installState struct {
	ws      Workspace
	token   string // bot token; "" until installed
	refresh string // rotation refresh token ("" without rotation)
	revoked bool
}

// Authorize is one recorded visit of the authorize page.
type Authorize struct {
	ClientID, Scope, State, RedirectURI string
}

// AddWorkspace registers a team that may install the app; the next visit of
// the authorize page installs it (see NextInstall).
func (s *Server) AddWorkspace(ws Workspace) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if ws.BotUserID == "" {
		ws.BotUserID = "UBOT" + ws.TeamID
	}
	if ws.InstalledBy == "" {
		ws.InstalledBy = "UADMIN" + ws.TeamID
	}
	s.teams[ws.TeamID] = &installState{ws: ws}
}

// NextInstall chooses the team that the next visit of the authorize page
// installs into (the workspace the browser's user picks on Slack).
func (s *Server) NextInstall(team string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.nextTeam = team
}

// AuthorizeURL is the fake's https://slack.com/oauth/v2/authorize.
func (s *Server) AuthorizeURL() string { return s.srv.URL + "/oauth/v2/authorize" }

// Authorizes returns every visit of the authorize page.
func (s *Server) Authorizes() []Authorize {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Authorize(nil), s.authorizes...)
}

// TeamToken returns the bot token minted for team ("" before its install).
func (s *Server) TeamToken(team string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if st := s.teams[team]; st != nil {
		return st.token
	}
	return ""
}

// Uninstall removes the app from team like Slack: the team's tokens stop
// working, and app_uninstalled then tokens_revoked are delivered.
func (s *Server) Uninstall(ctx context.Context, team string) error {
	s.mu.Lock()
	st := s.teams[team]
	var botUser string
	if st != nil {
		st.revoked = true
		botUser = st.ws.BotUserID
	}
	s.mu.Unlock()
	if _, err := s.SendEventFrom(ctx, team, InnerEvent{Type: "app_uninstalled", EventTS: s.NewTS()}); err != nil {
		return err
	}
	raw := map[string]any{"type": "tokens_revoked", "event_ts": s.NewTS(), "tokens": map[string]any{"bot": []string{botUser}}}
	_, err := s.deliver(ctx, "events_api", EventCallback(team, s.opts.AppID, s.nextID("Ev"), raw), 0)
	return err
}

// SendEventFrom delivers ev as an event of team (a workspace that
// installed the app).
func (s *Server) SendEventFrom(ctx context.Context, team string, ev InnerEvent) (Ack, error) {
	if ev.EventTS == "" {
		ev.EventTS = ev.TS
	}
	return s.deliver(ctx, "events_api", EventCallback(team, s.opts.AppID, s.nextID("Ev"), ev), 0)
}

// handleAuthorize is the authorize page: it approves at once for the team
// chosen by NextInstall and redirects to redirect_uri with a one-time code
// and the state, or with error=access_denied when no team was chosen.
func (s *Server) handleAuthorize(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	a := Authorize{ClientID: q.Get("client_id"), Scope: q.Get("scope"), State: q.Get("state"), RedirectURI: q.Get("redirect_uri")}
	s.mu.Lock()
	s.authorizes = append(s.authorizes, a)
	team := s.nextTeam
	s.nextTeam = ""
	code := ""
	if a.ClientID == s.opts.ClientID && s.teams[team] != nil {
		code = "code-" + randText()
		s.codes[code] = oauthCode{team: team, redirect: a.RedirectURI}
	}
	s.mu.Unlock()
	back, err := url.Parse(a.RedirectURI)
	if err != nil || back.Host == "" {
		http.Error(w, "bad redirect_uri", http.StatusBadRequest)
		return
	}
	v := back.Query()
	if code == "" {
		v.Set("error", "access_denied")
	} else {
		v.Set("code", code)
	}
	v.Set("state", a.State)
	back.RawQuery = v.Encode()
	http.Redirect(w, r, back.String(), http.StatusFound)
}

type oauthCode struct {
	team, redirect string
}

// oauthAccess is oauth.v2.access: a code (single use, same redirect_uri)
// or, with rotation, a refresh token is exchanged for the team's bot token.
func (s *Server) oauthAccess(r *http.Request, form url.Values) apiResult {
	id, secret := form.Get("client_id"), form.Get("client_secret")
	if u, p, ok := r.BasicAuth(); ok {
		id, secret = u, p
	}
	if id != s.opts.ClientID || secret != s.opts.ClientSecret {
		return slackErr("invalid_client_id")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var st *installState
	old := ""
	switch form.Get("grant_type") {
	case "refresh_token":
		for _, t := range s.teams {
			if t.refresh != "" && t.refresh == form.Get("refresh_token") && !t.revoked {
				st = t
			}
		}
		if st == nil {
			return slackErr("invalid_refresh_token")
		}
		old = st.token
	default:
		c, found := s.codes[form.Get("code")]
		delete(s.codes, form.Get("code"))
		if !found {
			return slackErr("invalid_code")
		}
		if c.redirect != form.Get("redirect_uri") {
			return slackErr("bad_redirect_uri")
		}
		st = s.teams[c.team]
		st.revoked = false
	}
	st.token = "xoxb-" + st.ws.TeamID + "-" + randText()
	if old != "" {
		s.refreshes++ // the old token stops working: only st.token is live
	}
	res := map[string]any{
		"access_token": st.token, "token_type": "bot", "scope": "app_mentions:read,chat:write,commands,im:history",
		"bot_user_id": st.ws.BotUserID, "app_id": s.opts.AppID,
		"team":        map[string]any{"id": st.ws.TeamID, "name": st.ws.TeamName},
		"authed_user": map[string]any{"id": st.ws.InstalledBy},
	}
	if s.opts.TokenRotation {
		st.refresh = "xoxe-1-" + randText()
		res["refresh_token"], res["expires_in"] = st.refresh, int(s.opts.TokenLifetime.Seconds())
	}
	return ok(res)
}

// Refreshes counts the tokens refreshed with grant_type=refresh_token.
func (s *Server) Refreshes() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.refreshes
}

// teamOfTokenLocked returns the installed team whose live bot token is tok.
func (s *Server) teamOfTokenLocked(tok string) *installState {
	if tok == "" {
		return nil
	}
	for _, t := range s.teams {
		if t.token == tok && !t.revoked {
			return t
		}
	}
	return nil
}

func randText() string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	return strings.TrimRight(base64.RawURLEncoding.EncodeToString(b[:]), "=")
}
