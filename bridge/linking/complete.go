package linking

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/secondme-bridge/secondme-bridge/secondme"
	"github.com/secondme-bridge/secondme-bridge/store"
)

// completeTimeout bounds the work after the state is consumed (exchange,
// user info, store). It is detached from the request so a browser that goes
// away mid-way cannot leave a code exchanged but the link unstored.
const completeTimeout = time.Minute

// complete exchanges the code, reads the SecondMe identity, stores the link
// for p.User and renders the result.
func (l *Linker) complete(w http.ResponseWriter, r *http.Request, log *slog.Logger, p store.PendingLink, code string) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), completeTimeout)
	defer cancel()

	tok, err := l.sm.ExchangeCode(ctx, code, l.redirectURI)
	if err == nil && (tok == nil || tok.AccessToken == "") {
		err = errors.New("exchange code: response has no access token")
	}
	if err != nil {
		log.WarnContext(ctx, "oauth code exchange failed", "error", err)
		l.metrics.completed.WithLabelValues(resultExchangeFailed).Inc()
		l.renderPage(w, r, pageExchangeFailed, viewOf(p), pageData{})
		return
	}
	info, err := l.sm.UserInfo(ctx, tok.AccessToken)
	if err == nil && info == nil {
		err = errors.New("user info: empty response")
	}
	if err != nil {
		log.WarnContext(ctx, "read SecondMe user info after code exchange", "error", err)
		l.metrics.completed.WithLabelValues(resultExchangeFailed).Inc()
		l.renderPage(w, r, pageExchangeFailed, viewOf(p), pageData{})
		return
	}
	var appScoped string
	if me, err := l.sm.AuthMe(ctx, tok.AccessToken); err != nil {
		log.WarnContext(ctx, "read SecondMe auth/me (continuing without appScopedUserId)", "error", err)
	} else if me != nil {
		appScoped = me.AppScopedUserID
	}

	now := l.now()
	link := store.Link{
		Key:             p.User, // only ever the user bound to the state
		SecondMeUserID:  info.UserID,
		AppScopedUserID: appScoped,
		Name:            info.Name,
		AvatarURL:       info.Avatar,
		Token:           l.storeToken(tok, store.Token{}, now),
		CreatedAt:       now,
		UpdatedAt:       now,
	}
	link, replaced, err := l.saveLink(ctx, link)
	if err != nil {
		log.ErrorContext(ctx, "store link", "error", err)
		l.metrics.completed.WithLabelValues(resultError).Inc()
		l.renderPage(w, r, pageInternal, viewOf(p), pageData{})
		return
	}
	l.metrics.completed.WithLabelValues(resultSuccess).Inc()
	log.InfoContext(ctx, "linked", "secondme_user", link.SecondMeUserID, "replaced", replaced != nil)

	data := pageData{Name: displayName(link), UserName: p.UserName, UserID: p.User.User, Workspace: p.WorkspaceName}
	if replaced != nil {
		data.Replaced = displayName(*replaced)
	}
	l.renderPage(w, r, pageSuccess, viewOf(p), data)
	l.notify(context.WithoutCancel(r.Context()), log, p, link, replaced)
}

// saveLink stores link, replacing any previous link of the same user, and
// returns what it stored. It also returns the previous link (without its
// tokens) when it belonged to a different SecondMe account. Relinking the
// same account keeps the original CreatedAt.
//
// A different account starts clean: the conversation mappings of the
// previous one are dropped, so that no session id issued to the old
// account is ever sent with the new account's token. So are they when the
// previous link could not be read (no configured key opens it): which
// account it was is unknown.
func (l *Linker) saveLink(ctx context.Context, link store.Link) (store.Link, *store.Link, error) {
	old, err := l.store.Links().GetLink(ctx, link.Key)
	unreadable := errors.Is(err, store.ErrUnseal)
	switch {
	case errors.Is(err, store.ErrNotFound):
	case err != nil:
		return link, nil, fmt.Errorf("get previous link: %w", err)
	}
	var replaced *store.Link
	if err == nil {
		if sameAccount(old, link) {
			link.CreatedAt = old.CreatedAt
		} else {
			old.Token = store.Token{}
			replaced = &old
		}
	}
	if replaced != nil || unreadable {
		n, err := l.store.Conversations().DeleteUserConversations(ctx, link.Key)
		if err != nil {
			return link, nil, fmt.Errorf("drop the previous account's conversations: %w", err)
		}
		l.log.InfoContext(ctx, "linked a different SecondMe account: previous conversations dropped",
			userAttr(link.Key), "conversations_removed", n, "previous_unreadable", unreadable)
	}
	if err := l.store.Links().PutLink(ctx, link); err != nil {
		return link, nil, fmt.Errorf("put link: %w", err)
	}
	return link, replaced, nil
}

// notify tells the notifier, asynchronously and bounded by NotifyTimeout.
func (l *Linker) notify(ctx context.Context, log *slog.Logger, p store.PendingLink, link store.Link, replaced *store.Link) {
	n := l.getNotifier()
	if n == nil {
		log.WarnContext(ctx, "no link notifier set; the user is not told on the platform")
		return
	}
	go func() {
		ctx, cancel := context.WithTimeout(ctx, NotifyTimeout)
		defer cancel()
		defer func() {
			if v := recover(); v != nil {
				log.ErrorContext(ctx, "link notifier panicked", "panic", fmt.Sprint(v))
			}
		}()
		start := time.Now()
		n.LinkCompleted(ctx, p, link, replaced)
		if err := ctx.Err(); err != nil {
			log.WarnContext(ctx, "link notifier ran out of time", "error", err, "took", time.Since(start))
		}
	}()
}

// storeToken converts a SecondMe token to the stored form. Fields the
// response leaves empty keep their previous values (a refresh response
// without refreshToken keeps the old one). Expiry is computed on the
// Linker's clock.
func (l *Linker) storeToken(t *secondme.Token, prev store.Token, now time.Time) store.Token {
	out := prev
	out.AccessToken = t.AccessToken
	if t.RefreshToken != "" {
		out.RefreshToken = t.RefreshToken
	}
	if t.TokenType != "" {
		out.TokenType = t.TokenType
	}
	if len(t.Scopes) > 0 {
		out.Scopes = append([]string(nil), t.Scopes...)
	}
	switch {
	case t.ExpiresIn > 0:
		out.Expiry = now.Add(time.Duration(t.ExpiresIn) * time.Second)
	case !t.Expiry.IsZero():
		out.Expiry = t.Expiry
	default:
		out.Expiry = time.Time{} // unknown
	}
	return out
}

// sameAccount reports whether a and b are links to the same SecondMe
// account, comparing the strongest identifier both have.
func sameAccount(a, b store.Link) bool {
	switch {
	case a.SecondMeUserID != "" && b.SecondMeUserID != "":
		return a.SecondMeUserID == b.SecondMeUserID
	case a.AppScopedUserID != "" && b.AppScopedUserID != "":
		return a.AppScopedUserID == b.AppScopedUserID
	default:
		return a.Name == b.Name
	}
}

// displayName is how a link is named to its user.
func displayName(l store.Link) string {
	switch {
	case l.Name != "":
		return l.Name
	case l.SecondMeUserID != "":
		return l.SecondMeUserID
	default:
		return "SecondMe"
	}
}
