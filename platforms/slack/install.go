package slack

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// InstallConfig turns on installs into any workspace through OAuth v2
// (Config.Install).
type InstallConfig struct {
	// ClientID and ClientSecret are the app's (Basic Information → App
	// Credentials). Required.
	ClientID, ClientSecret string
	// PublicURL is the bridge's public base URL; Slack redirects back to
	// PublicURL + CallbackPath. Required by EnableInstalls.
	PublicURL string
	// AuthorizeURL is Slack's authorize page, default
	// DefaultAuthorizeURL.
	AuthorizeURL string
	// Scopes are the bot scopes asked for; default DefaultScopes.
	Scopes []string
	// Store keeps the installs; Once makes each state single-use.
	// Required by EnableInstalls (New accepts them nil, for wiring that
	// builds the store later; Run refuses to start without them).
	Store InstallStore
	Once  OnceClaimer
}

// Install flow paths, mounted by InstallRoutes.
const (
	InstallPath  = "/slack/install"
	CallbackPath = "/slack/oauth/callback"
)

// DefaultAuthorizeURL is Slack's OAuth v2 authorize page.
const DefaultAuthorizeURL = "https://slack.com/oauth/v2/authorize"

// DefaultScopes are the bot scopes the bridge needs: the manifest's.
var DefaultScopes = botScopes

// stateTTL bounds the time between /slack/install and the callback.
const stateTTL = 10 * time.Minute

// nonceCookie binds a state to the browser that started the install. Its
// path is / (a public URL may have a path prefix the routes sit under);
// behind https it gets the __Host- prefix, so no sibling subdomain can set
// it (the browser then insists on Secure, Path=/ and no Domain).
const nonceCookie = "secondme_slack_install"

// nonceCookieName is nonceCookie with the __Host- prefix behind https.
func (a *Adapter) nonceCookieName() string {
	if a.secureCookies() {
		return "__Host-" + nonceCookie
	}
	return nonceCookie
}

func (a *Adapter) secureCookies() bool { return strings.HasPrefix(a.cfg.Install.PublicURL, "https://") }

func (c *InstallConfig) validate() []error {
	var errs []error
	if c.ClientID == "" || c.ClientSecret == "" {
		errs = append(errs, errors.New("slack.install: client_id and client_secret are required"))
	}
	return errs
}

func (c *InstallConfig) redirectURI() string {
	return strings.TrimRight(c.PublicURL, "/") + CallbackPath
}

// InstallRoutes mounts GET /slack/install (starts the install: a nonce
// cookie for this browser, a signed single-use state, a redirect to Slack)
// and GET /slack/oauth/callback (checks the state against the cookie,
// exchanges the code with oauth.v2.access, stores the workspace's token).
// It does nothing without Config.Install.
func (a *Adapter) InstallRoutes(mux *http.ServeMux) {
	if a.cfg.Install == nil {
		return
	}
	mux.HandleFunc("GET "+InstallPath, a.handleInstall)
	mux.HandleFunc("GET "+CallbackPath, a.handleCallback)
}

// stateMAC signs a state: its id, expiry and the hash of the browser's
// nonce, under a key derived from the client secret.
func (a *Adapter) stateMAC(id string, exp int64, nonceHash []byte) []byte {
	k := sha256.Sum256([]byte("secondme-bridge/slack/install-state/v1\x00" + a.cfg.Install.ClientSecret))
	m := hmac.New(sha256.New, k[:])
	fmt.Fprintf(m, "%s\x00%d\x00", id, exp)
	m.Write(nonceHash)
	return m.Sum(nil)
}

func randToken() string {
	var b [24]byte
	_, _ = rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}

func (a *Adapter) handleInstall(w http.ResponseWriter, r *http.Request) {
	ic := a.cfg.Install
	nonce, id := randToken(), randToken()
	exp := time.Now().Add(stateTTL).Unix()
	nh := sha256.Sum256([]byte(nonce))
	state := id + "." + strconv.FormatInt(exp, 10) + "." + base64.RawURLEncoding.EncodeToString(a.stateMAC(id, exp, nh[:]))
	http.SetCookie(w, &http.Cookie{
		Name: a.nonceCookieName(), Value: nonce, Path: "/", MaxAge: int(stateTTL.Seconds()),
		HttpOnly: true, Secure: a.secureCookies(), SameSite: http.SameSiteLaxMode,
	})
	authorize := ic.AuthorizeURL
	if authorize == "" {
		authorize = DefaultAuthorizeURL
	}
	scopes := ic.Scopes
	if len(scopes) == 0 {
		scopes = DefaultScopes
	}
	q := url.Values{"client_id": {ic.ClientID}, "scope": {strings.Join(scopes, ",")}, "state": {state}, "redirect_uri": {ic.redirectURI()}}
	w.Header().Set("Cache-Control", "no-store")
	http.Redirect(w, r, authorize+"?"+q.Encode(), http.StatusFound)
}

// checkState verifies state against the browser's nonce cookie and claims
// it (single use). It returns a user-facing problem, or "".
func (a *Adapter) checkState(r *http.Request, state string) string {
	c, err := r.Cookie(a.nonceCookieName())
	if err != nil || c.Value == "" {
		return "This install link was started in another browser, or it expired. Start again from the install page."
	}
	parts := strings.Split(state, ".")
	if len(parts) != 3 {
		return "This install link is not valid. Start again from the install page."
	}
	exp, err := strconv.ParseInt(parts[1], 10, 64)
	mac, err2 := base64.RawURLEncoding.DecodeString(parts[2])
	nh := sha256.Sum256([]byte(c.Value))
	if err != nil || err2 != nil || !hmac.Equal(mac, a.stateMAC(parts[0], exp, nh[:])) {
		return "This install link was started in another browser, or it is not valid. Start again from the install page."
	}
	if time.Now().Unix() > exp {
		return "This install link expired. Start again from the install page."
	}
	first, err := a.cfg.Install.Once.Claim(r.Context(), "slack-install-state:"+parts[0], stateTTL)
	if err != nil {
		a.log.Error("claim slack install state", "err", err)
		return "The bridge could not check this install link right now. Try again in a minute."
	}
	if !first {
		return "This install link was already used. Start again from the install page."
	}
	return ""
}

func (a *Adapter) handleCallback(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	// The nonce is spent whatever happens next.
	http.SetCookie(w, &http.Cookie{Name: a.nonceCookieName(), Value: "", Path: "/", MaxAge: -1, HttpOnly: true, Secure: a.secureCookies()})
	if problem := a.checkState(r, q.Get("state")); problem != "" {
		installPage(w, http.StatusBadRequest, "Install failed", problem, "安装失败", zhProblem(problem))
		return
	}
	if e := q.Get("error"); e != "" || q.Get("code") == "" {
		installPage(w, http.StatusBadRequest, "Install cancelled",
			"Slack did not install the app (it was cancelled or refused). Start again from the install page.",
			"安装已取消", "Slack 未安装此应用（已取消或被拒绝）。请从安装页面重新开始。")
		return
	}
	res, err := a.oauthAccess(r.Context(), map[string]string{"code": q.Get("code"), "redirect_uri": a.cfg.Install.redirectURI()})
	if err != nil || res.Team.ID == "" || !strings.HasPrefix(res.AccessToken, "xoxb-") {
		a.log.Warn("slack oauth.v2.access failed", "err", err)
		installPage(w, http.StatusBadGateway, "Install failed",
			"Slack did not confirm the install. Start again from the install page.",
			"安装失败", "Slack 未确认此次安装。请从安装页面重新开始。")
		return
	}
	in := Install{
		Team: res.Team.ID, BotUserID: res.BotUserID, BotToken: res.AccessToken,
		RefreshToken: res.RefreshToken, Expiry: res.expiry(), Scopes: strings.Split(res.Scope, ","),
		InstalledBy: res.AuthedUser.ID,
	}
	if err := a.cfg.Install.Store.PutInstall(r.Context(), in); err != nil {
		a.log.Error("store slack install", "team", in.Team, "err", err)
		installPage(w, http.StatusServiceUnavailable, "Install failed",
			"The bridge could not save the install. Try again in a minute.",
			"安装失败", "桥接服务暂时无法保存此次安装。请一分钟后重试。")
		return
	}
	a.forget(in.Team)
	a.log.Info("slack workspace installed", "team", in.Team, "rotation", in.RefreshToken != "")
	name := res.Team.Name
	if name == "" {
		name = res.Team.ID
	}
	installPage(w, http.StatusOK, "Installed in "+name,
		"Mention the app or use /secondme link in Slack to link your SecondMe account.",
		"已安装到 "+name, "在 Slack 中提及此应用，或使用 /secondme link 关联你的 SecondMe 账号。")
}

func zhProblem(en string) string {
	switch {
	case strings.Contains(en, "already used"):
		return "此安装链接已被使用。请从安装页面重新开始。"
	case strings.Contains(en, "expired") && !strings.Contains(en, "another browser"):
		return "此安装链接已过期。请从安装页面重新开始。"
	case strings.Contains(en, "right now"):
		return "桥接服务暂时无法验证此安装链接。请一分钟后重试。"
	default:
		return "此安装链接是在其他浏览器中发起的、已过期或无效。请从安装页面重新开始。"
	}
}

var installTmpl = template.Must(template.New("install").Parse(`<!doctype html>
<html><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">
<title>{{.Title}}</title></head>
<body><h1>{{.Title}}</h1><p>{{.Text}}</p><h1 lang="zh-Hans">{{.TitleZH}}</h1><p lang="zh-Hans">{{.TextZH}}</p></body></html>
`))

func installPage(w http.ResponseWriter, status int, title, text, titleZH, textZH string) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Referrer-Policy", "no-referrer")
	w.WriteHeader(status)
	_ = installTmpl.Execute(w, map[string]string{"Title": title, "Text": text, "TitleZH": titleZH, "TextZH": textZH})
}

// oauthResult is oauth.v2.access's answer.
type oauthResult struct {
	OK           bool   `json:"ok"`
	Error        string `json:"error"`
	AccessToken  string `json:"access_token"`
	TokenType    string `json:"token_type"`
	Scope        string `json:"scope"`
	BotUserID    string `json:"bot_user_id"`
	RefreshToken string `json:"refresh_token"`
	ExpiresIn    int64  `json:"expires_in"`
	Team         struct {
		ID   string `json:"id"`
		Name string `json:"name"`
	} `json:"team"`
	AuthedUser struct {
		ID string `json:"id"`
	} `json:"authed_user"`
}

func (r oauthResult) expiry() time.Time {
	if r.ExpiresIn <= 0 {
		return time.Time{}
	}
	return time.Now().Add(time.Duration(r.ExpiresIn) * time.Second)
}

// oauthAccess calls oauth.v2.access with the app's credentials (HTTP Basic)
// and fields. Errors never contain the codes or tokens.
func (a *Adapter) oauthAccess(ctx context.Context, fields map[string]string) (oauthResult, error) {
	form := url.Values{}
	for k, v := range fields {
		form.Set(k, v)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, a.cfg.apiURL()+"oauth.v2.access", strings.NewReader(form.Encode()))
	if err != nil {
		return oauthResult{}, fmt.Errorf("oauth.v2.access: %w", err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(a.cfg.Install.ClientID, a.cfg.Install.ClientSecret)
	resp, err := a.cfg.httpClient().Do(req)
	if err != nil {
		return oauthResult{}, errors.New("oauth.v2.access: request failed")
	}
	defer func() { _ = resp.Body.Close() }()
	var res oauthResult
	if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&res); err != nil {
		return oauthResult{}, fmt.Errorf("oauth.v2.access: status %d, undecodable answer", resp.StatusCode)
	}
	if !res.OK {
		return oauthResult{}, fmt.Errorf("oauth.v2.access: %s", res.Error)
	}
	return res, nil
}

// EnableInstalls turns the install flow on (see Config.Install), for
// wiring that builds the store after the adapter. Call it before Run and
// InstallRoutes.
func (a *Adapter) EnableInstalls(ic InstallConfig) error {
	if a.running.Load() {
		return errors.New("enable slack installs: already running")
	}
	if ic.Store == nil || ic.Once == nil {
		return errors.New("enable slack installs: needs an install store and a once claimer")
	}
	if u, err := url.Parse(ic.PublicURL); err != nil || u.Host == "" {
		return errors.New("enable slack installs: needs http.public_url, where Slack redirects back")
	}
	cfg := a.cfg
	cfg.Install = &ic
	if err := cfg.Validate(); err != nil {
		return fmt.Errorf("enable slack installs: %w", err)
	}
	s, err := newSealer(ic.ClientSecret + "\x00" + cfg.BotToken)
	if err != nil {
		return fmt.Errorf("enable slack installs: %w", err)
	}
	a.cfg, a.sealer = cfg, s
	return nil
}
