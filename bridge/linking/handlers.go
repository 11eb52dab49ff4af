package linking

import (
	"context"
	"crypto/subtle"
	"errors"
	"net/http"
	"net/url"

	"github.com/secondme-bridge/secondme-bridge/store"
)

// maxCodeLen bounds the OAuth code accepted from the query string; SecondMe
// codes are short (lba_ac_…).
const maxCodeLen = 512

// Routes registers /link/{id} (GET and HEAD: the confirmation page; POST:
// Continue) and GET /oauth/callback. GET and HEAD never consume anything;
// other methods get 405.
func (l *Linker) Routes(mux *http.ServeMux) {
	mux.HandleFunc("/link/{id}", l.handleLink)
	mux.HandleFunc("/oauth/callback", l.handleCallback)
}

// allowRead answers 405 to methods other than GET and HEAD, and a bodyless
// 200 to HEAD (so that link previewers never consume a one-time id). It
// reports whether the handler should go on.
func (l *Linker) allowRead(w http.ResponseWriter, r *http.Request, allow string) bool {
	switch r.Method {
	case http.MethodGet:
		return true
	case http.MethodHead:
		securityHeaders(w.Header())
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.WriteHeader(http.StatusOK)
		return false
	default:
		w.Header().Set("Allow", allow)
		l.renderPage(w, r, pageMethod, pageView{}, pageData{})
		return false
	}
}

// linkHint is the view a link URL's query hints at (?p=discord&hl=zh),
// for pages shown when the link itself is gone.
func (l *Linker) linkHint(r *http.Request) pageView {
	q := r.URL.Query()
	platform, lang := l.hint(q.Get("p"), q.Get("hl"))
	return pageView{Platform: platform, Locale: lang}
}

// hintQuery renders a view as the link URL's hint query ("?p=…&hl=…", or
// "" when there is nothing to hint).
func hintQuery(v pageView) string {
	q := url.Values{}
	if v.Platform != "" {
		q.Set("p", v.Platform)
	}
	if lang := langOf(v.Locale); lang != "" {
		q.Set("hl", lang)
	}
	if len(q) == 0 {
		return ""
	}
	return "?" + q.Encode()
}

// viewOf is the view of a pending link's user.
func viewOf(p store.PendingLink) pageView {
	return pageView{Platform: p.User.Platform, Locale: p.Locale}
}

// handleLink serves the confirmation page (GET, HEAD) and its Continue
// button (POST).
func (l *Linker) handleLink(w http.ResponseWriter, r *http.Request) {
	if r.Method == http.MethodPost {
		l.continueLink(w, r)
		return
	}
	if !l.allowRead(w, r, "GET, HEAD, POST") {
		return
	}
	ctx := r.Context()
	id := r.PathValue("id")
	if !validID(id) {
		l.renderPage(w, r, pageInvalid, l.linkHint(r), pageData{})
		return
	}
	p, ok := l.pendingLink(w, r, id, "read link id", l.store.States().GetState)
	if !ok {
		return
	}
	// One token per browser, kept while it is valid: two link pages open
	// in one browser (two tabs, a retry) must not invalidate each other.
	csrf := l.cookie(r, cookieCSRF)
	if !validID(csrf) {
		var err error
		if csrf, err = randomID(); err != nil {
			l.log.ErrorContext(ctx, "create csrf token", "error", err)
			l.renderPage(w, r, pageInternal, viewOf(p), pageData{})
			return
		}
	}
	l.setCookie(w, cookieCSRF, csrf, l.linkTTL, http.SameSiteStrictMode)
	l.log.InfoContext(ctx, "link confirmation shown", userAttr(p.User), "link_hash", shortHash(id))
	l.renderPage(w, r, pageConfirm, viewOf(p), pageData{
		UserName: p.UserName, UserID: p.User.User, Workspace: p.WorkspaceName,
		Form: &pageForm{Action: "/link/" + id + hintQuery(viewOf(p)), CSRF: csrf},
	})
}

// pendingLink looks the link id up with get (GetState or ConsumeState).
// When it fails it renders the page that says so (expired, or internal
// for a store error logged as op) and reports false.
func (l *Linker) pendingLink(w http.ResponseWriter, r *http.Request, id, op string,
	get func(context.Context, string) (store.PendingLink, error),
) (store.PendingLink, bool) {
	ctx := r.Context()
	p, err := get(ctx, linkPrefix+id)
	switch {
	case errors.Is(err, store.ErrNotFound):
		l.log.InfoContext(ctx, "link id unknown, expired or used", "link_hash", shortHash(id))
		l.renderPage(w, r, pageExpired, l.linkHint(r), pageData{})
		return p, false
	case err != nil:
		l.log.ErrorContext(ctx, "look up link id", "op", op, "link_hash", shortHash(id), "error", err)
		l.renderPage(w, r, pageInternal, l.linkHint(r), pageData{})
		return p, false
	}
	return p, true
}

// continueLink is the confirmation page's Continue: it checks the CSRF
// token against the cookie the page set, consumes the link id, binds a new
// OAuth state to a nonce held in a cookie of this browser, and redirects
// to SecondMe's authorize page.
func (l *Linker) continueLink(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	id := r.PathValue("id")
	if !validID(id) {
		l.renderPage(w, r, pageInvalid, l.linkHint(r), pageData{})
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
	formErr := r.ParseForm()
	token, cookie := r.PostForm.Get("csrf"), l.cookie(r, cookieCSRF)
	if formErr != nil || !l.sameOrigin(r) || token == "" ||
		subtle.ConstantTimeCompare([]byte(token), []byte(cookie)) != 1 {
		// A forged cross-site post, or a browser without the page's
		// cookie: nothing is consumed.
		l.log.WarnContext(ctx, "link continue refused: csrf token or origin check failed", "link_hash", shortHash(id),
			"has_cookie", cookie != "", "has_token", token != "")
		l.renderPage(w, r, pageForbidden, l.linkHint(r), pageData{})
		return
	}
	p, ok := l.pendingLink(w, r, id, "consume link id", l.store.States().ConsumeState)
	if !ok {
		return
	}
	nonce, err := randomID()
	var state string
	if err == nil {
		state, err = randomID()
	}
	if err == nil {
		p.BrowserHash = nonceHash(nonce)
		err = l.store.States().PutState(ctx, statePrefix+state, p, l.linkTTL)
	}
	if err != nil {
		l.log.ErrorContext(ctx, "create oauth state", userAttr(p.User), "error", err)
		l.renderPage(w, r, pageInternal, viewOf(p), pageData{})
		return
	}
	flow := l.parseFlowCookie(r).with(nonce)
	flow.platform, flow.lang = l.hint(p.User.Platform, langOf(p.Locale))
	l.setCookie(w, cookieFlow, flow.String(), l.linkTTL, http.SameSiteLaxMode)
	l.log.InfoContext(ctx, "link continued, redirecting to SecondMe", userAttr(p.User),
		"link_hash", shortHash(id), "state_hash", shortHash(state))
	securityHeaders(w.Header())
	http.Redirect(w, r, l.sm.AuthorizeURL(l.redirectURI, state), http.StatusSeeOther)
}

// handleCallback is the OAuth redirect target. The platform user linked is
// always the one bound to the state; nothing in the query chooses it. A
// browser without the nonce cookie of the browser that continued the link
// is refused before anything else (the code is never exchanged).
func (l *Linker) handleCallback(w http.ResponseWriter, r *http.Request) {
	if !l.allowRead(w, r, "GET, HEAD") {
		return
	}
	ctx := r.Context()
	flow := l.parseFlowCookie(r)
	hintView := pageView{Platform: flow.platform, Locale: flow.lang}
	q := r.URL.Query()
	states := q["state"]
	if len(states) != 1 || !validID(states[0]) {
		l.log.InfoContext(ctx, "oauth callback with a missing, repeated or malformed state", "states", len(states))
		l.metrics.completed.WithLabelValues(resultExpired).Inc()
		l.renderPage(w, r, pageInvalid, hintView, pageData{})
		return
	}
	state := states[0]
	log := l.log.With("state_hash", shortHash(state))
	p, err := l.store.States().ConsumeState(ctx, statePrefix+state)
	switch {
	case errors.Is(err, store.ErrNotFound):
		log.InfoContext(ctx, "oauth state unknown, expired or used")
		l.metrics.completed.WithLabelValues(resultExpired).Inc()
		l.renderPage(w, r, pageExpired, hintView, pageData{})
		return
	case err != nil:
		log.ErrorContext(ctx, "consume oauth state", "error", err)
		l.metrics.completed.WithLabelValues(resultError).Inc()
		l.renderPage(w, r, pageInternal, hintView, pageData{})
		return
	}
	log = log.With(userAttr(p.User))
	view := viewOf(p)
	nonce := flow.matching(p.BrowserHash)
	if nonce == "" {
		// Another browser than the one that continued the link: a victim
		// approving an attacker's authorize URL, or a phone that handed the
		// authorize step to another app. The state is spent either way.
		log.WarnContext(ctx, "oauth callback refused: not the browser that continued the link", "has_cookie", len(flow.nonces) > 0)
		l.metrics.completed.WithLabelValues(resultWrongBrowser).Inc()
		l.renderPage(w, r, pageWrongBrowser, view, pageData{})
		return
	}
	// The nonce is spent; the hints stay for a replayed callback's page.
	l.setCookie(w, cookieFlow, flow.without(nonce).String(), l.linkTTL, http.SameSiteLaxMode)

	if errs := q["error"]; len(errs) > 0 {
		if len(errs) == 1 && errs[0] == "access_denied" {
			log.InfoContext(ctx, "user declined the SecondMe authorization")
			l.metrics.completed.WithLabelValues(resultDenied).Inc()
			l.renderPage(w, r, pageDenied, view, pageData{})
			return
		}
		// The error value is chosen by whoever sent the browser here: log
		// only whether it is a known one.
		log.WarnContext(ctx, "SecondMe returned an authorization error", "known_error", knownOAuthError(errs))
		l.metrics.completed.WithLabelValues(resultError).Inc()
		l.renderPage(w, r, pageProviderError, view, pageData{})
		return
	}
	codes := q["code"]
	if len(codes) != 1 || codes[0] == "" || len(codes[0]) > maxCodeLen {
		log.WarnContext(ctx, "oauth callback without a usable code", "codes", len(codes))
		l.metrics.completed.WithLabelValues(resultError).Inc()
		l.renderPage(w, r, pageMissingCode, view, pageData{})
		return
	}
	l.complete(w, r, log, p, codes[0])
}

// knownOAuthError returns the RFC 6749 error code in errs when there is
// exactly one recognised value, else "other".
func knownOAuthError(errs []string) string {
	if len(errs) != 1 {
		return "other"
	}
	switch errs[0] {
	case "invalid_request", "unauthorized_client", "unsupported_response_type",
		"invalid_scope", "server_error", "temporarily_unavailable":
		return errs[0]
	}
	return "other"
}
