package linking

import (
	"errors"
	"net/http"

	"github.com/secondme-bridge/secondme-bridge/store"
)

// maxCodeLen bounds the OAuth code accepted from the query string; SecondMe
// codes are short (lba_ac_…).
const maxCodeLen = 512

// Routes registers GET /link/{id} and GET /oauth/callback on mux. Both
// answer HEAD without consuming anything, and 405 to any other method.
func (l *Linker) Routes(mux *http.ServeMux) {
	mux.HandleFunc("/link/{id}", l.handleLink)
	mux.HandleFunc("/oauth/callback", l.handleCallback)
}

// allowRead answers 405 to methods other than GET and HEAD, and a bodyless
// 200 to HEAD (so that link previewers never consume a one-time id). It
// reports whether the handler should go on.
func (l *Linker) allowRead(w http.ResponseWriter, r *http.Request) bool {
	switch r.Method {
	case http.MethodGet:
		return true
	case http.MethodHead:
		securityHeaders(w.Header())
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.WriteHeader(http.StatusOK)
		return false
	default:
		w.Header().Set("Allow", "GET, HEAD")
		l.renderPage(w, r, pageMethod, "", pageData{})
		return false
	}
}

// handleLink consumes a one-time link id and redirects the browser to
// SecondMe's authorize page with a new OAuth state bound to the same
// pending link.
func (l *Linker) handleLink(w http.ResponseWriter, r *http.Request) {
	if !l.allowRead(w, r) {
		return
	}
	ctx := r.Context()
	id := r.PathValue("id")
	if !validID(id) {
		l.renderPage(w, r, pageInvalid, "", pageData{})
		return
	}
	p, err := l.store.States().ConsumeState(ctx, linkPrefix+id)
	switch {
	case errors.Is(err, store.ErrNotFound):
		l.log.InfoContext(ctx, "link id unknown, expired or used", "link_hash", shortHash(id))
		l.renderPage(w, r, pageExpired, "", pageData{})
		return
	case err != nil:
		l.log.ErrorContext(ctx, "consume link id", "link_hash", shortHash(id), "error", err)
		l.renderPage(w, r, pageInternal, "", pageData{})
		return
	}
	state, err := randomID()
	if err == nil {
		err = l.store.States().PutState(ctx, statePrefix+state, p, l.linkTTL)
	}
	if err != nil {
		l.log.ErrorContext(ctx, "create oauth state", userAttr(p.User), "error", err)
		l.renderPage(w, r, pageInternal, p.Locale, pageData{})
		return
	}
	l.log.InfoContext(ctx, "link opened, redirecting to SecondMe", userAttr(p.User),
		"link_hash", shortHash(id), "state_hash", shortHash(state))
	securityHeaders(w.Header())
	http.Redirect(w, r, l.sm.AuthorizeURL(l.redirectURI, state), http.StatusFound)
}

// handleCallback is the OAuth redirect target. The platform user linked is
// always the one bound to the state; nothing in the query chooses it.
func (l *Linker) handleCallback(w http.ResponseWriter, r *http.Request) {
	if !l.allowRead(w, r) {
		return
	}
	ctx := r.Context()
	q := r.URL.Query()
	states := q["state"]
	if len(states) != 1 || !validID(states[0]) {
		l.log.InfoContext(ctx, "oauth callback with a missing, repeated or malformed state", "states", len(states))
		l.metrics.completed.WithLabelValues(resultExpired).Inc()
		l.renderPage(w, r, pageInvalid, "", pageData{})
		return
	}
	state := states[0]
	log := l.log.With("state_hash", shortHash(state))
	p, err := l.store.States().ConsumeState(ctx, statePrefix+state)
	switch {
	case errors.Is(err, store.ErrNotFound):
		log.InfoContext(ctx, "oauth state unknown, expired or used")
		l.metrics.completed.WithLabelValues(resultExpired).Inc()
		l.renderPage(w, r, pageExpired, "", pageData{})
		return
	case err != nil:
		log.ErrorContext(ctx, "consume oauth state", "error", err)
		l.metrics.completed.WithLabelValues(resultError).Inc()
		l.renderPage(w, r, pageInternal, "", pageData{})
		return
	}
	log = log.With(userAttr(p.User))

	if errs := q["error"]; len(errs) > 0 {
		if len(errs) == 1 && errs[0] == "access_denied" {
			log.InfoContext(ctx, "user declined the SecondMe authorization")
			l.metrics.completed.WithLabelValues(resultDenied).Inc()
			l.renderPage(w, r, pageDenied, p.Locale, pageData{})
			return
		}
		// The error value is chosen by whoever sent the browser here: log
		// only whether it is a known one.
		log.WarnContext(ctx, "SecondMe returned an authorization error", "known_error", knownOAuthError(errs))
		l.metrics.completed.WithLabelValues(resultError).Inc()
		l.renderPage(w, r, pageProviderError, p.Locale, pageData{})
		return
	}
	codes := q["code"]
	if len(codes) != 1 || codes[0] == "" || len(codes[0]) > maxCodeLen {
		log.WarnContext(ctx, "oauth callback without a usable code", "codes", len(codes))
		l.metrics.completed.WithLabelValues(resultError).Inc()
		l.renderPage(w, r, pageMissingCode, p.Locale, pageData{})
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
