package linking

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/secondme-bridge/secondme-bridge/secondme"
	"github.com/secondme-bridge/secondme-bridge/store"
)

// errLinkChanged aborts an UpdateLink whose link was refreshed, relinked or
// replaced by someone else since the refresh started.
var errLinkChanged = errors.New("link changed during refresh")

// Token returns the user's link with an access token valid for at least
// RefreshAhead, refreshing it first if needed: at most one refresh per user
// at a time in this process (singleflight) and across replicas (the store
// lock "refresh:<platform>:<scope>:<user>"). A token with an unknown expiry
// is returned as is. Errors: ErrNotLinked, ErrLinkBroken (also returned at
// once for a link already marked Broken), or a wrapped error for transient
// failures (network, SecondMe 5xx, store) when the current token has
// already expired; while it has not, a transient refresh failure is logged
// and the current link is returned (the next call tries again).
func (l *Linker) Token(ctx context.Context, user store.UserKey) (store.Link, error) {
	link, err := l.getLink(ctx, user)
	if err != nil {
		return store.Link{}, err
	}
	if !l.needsRefresh(link) {
		return link, nil
	}
	refreshed, err := l.refresh(ctx, user, link.Token.AccessToken)
	if err != nil && !errors.Is(err, ErrLinkBroken) && !errors.Is(err, ErrNotLinked) &&
		ctx.Err() == nil && !l.expired(link) {
		// A transient failure ahead of expiry: the current token still
		// works, so use it and try again on the next call.
		l.log.WarnContext(ctx, "refresh ahead of expiry failed; using the current token", userAttr(user), "error", err)
		return link, nil
	}
	return refreshed, err
}

// TurnLink is Fresh for the link a turn's start read (store.Turns.Begin):
// ErrNotLinked when there is none, and a link stored without its key gets
// user's. The link comes back by pointer, so that the conversation's
// worker, which calls this under the engine's frames, holds no copy of it
// in its own (see bridge.Bridge.beginChat).
func (l *Linker) TurnLink(ctx context.Context, user store.UserKey, start *store.TurnStart) (*store.Link, error) {
	if !start.HasLink {
		return nil, ErrNotLinked
	}
	link := start.Link
	if link.Key == (store.UserKey{}) {
		link.Key = user
	}
	fresh, err := l.Fresh(ctx, link)
	if err != nil {
		return nil, err
	}
	return &fresh, nil
}

// SessionUsable reports whether the stored conversation's session may be
// used with link: it was issued to the same SecondMe account (or its
// account is unknown, from an older version). A relink to another account
// drops the user's conversations; this also covers a turn of the old
// account that finished after the relink.
func SessionUsable(c *store.Conversation, link *store.Link) bool {
	return c.Account == "" || c.Account == link.SecondMeUserID
}

// Fresh is Token for a link the caller has just read from the store (for
// example with store.Turns.Begin): it returns link itself, without a store
// round trip, when the link is not Broken and its access token is valid for
// at least RefreshAhead (or has an unknown expiry); otherwise it behaves as
// Token(ctx, link.Key), re-reading the link and refreshing it under the
// lock. Errors as for Token (ErrLinkBroken for a link still broken).
func (l *Linker) Fresh(ctx context.Context, link store.Link) (store.Link, error) {
	if !link.Broken && !l.needsRefresh(link) {
		return link, nil
	}
	return l.Token(ctx, link.Key)
}

// RefreshAfterFailure is called once when SecondMe answered "token
// expired/invalid" for failedAccessToken. If the stored token already
// differs (someone refreshed), it returns the stored link without calling
// SecondMe. Errors as for Token.
func (l *Linker) RefreshAfterFailure(ctx context.Context, user store.UserKey, failedAccessToken string) (store.Link, error) {
	link, err := l.getLink(ctx, user)
	if err != nil {
		return store.Link{}, err
	}
	if link.Token.AccessToken != failedAccessToken && !l.expired(link) {
		return link, nil
	}
	return l.refresh(ctx, user, failedAccessToken)
}

// getLink reads the link, mapping absence to ErrNotLinked and a broken link
// to ErrLinkBroken.
func (l *Linker) getLink(ctx context.Context, user store.UserKey) (store.Link, error) {
	link, err := l.store.Links().GetLink(ctx, user)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return store.Link{}, ErrNotLinked
	case err != nil:
		return store.Link{}, fmt.Errorf("get link: %w", err)
	case link.Broken:
		return store.Link{}, ErrLinkBroken
	}
	return link, nil
}

func (l *Linker) needsRefresh(link store.Link) bool {
	exp := link.Token.Expiry
	return !exp.IsZero() && exp.Sub(l.now()) < l.refreshAhead
}

func (l *Linker) expired(link store.Link) bool {
	exp := link.Token.Expiry
	return !exp.IsZero() && !exp.After(l.now())
}

// stillNeeded reports, on a fresh read, whether the refresh asked for
// (replacing access token seen) is still to be done: no one else replaced
// seen, or what replaced it is already expired.
func (l *Linker) stillNeeded(cur store.Link, seen string) bool {
	return cur.Token.AccessToken == seen || l.expired(cur)
}

// refresh replaces the access token seen. Concurrent callers for the same
// user in this process share one flight; the flight runs on a detached,
// bounded context so that one caller giving up does not fail the others.
func (l *Linker) refresh(ctx context.Context, user store.UserKey, seen string) (store.Link, error) {
	key := user.Platform + "\x00" + user.Workspace + "\x00" + user.User
	ch := l.flight.DoChan(key, func() (any, error) {
		fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), l.flightTimout)
		defer cancel()
		return l.refreshLocked(fctx, user, seen)
	})
	select {
	case res := <-ch:
		if res.Err != nil {
			return store.Link{}, res.Err
		}
		return res.Val.(store.Link), nil
	case <-ctx.Done():
		return store.Link{}, fmt.Errorf("refresh token: %w", ctx.Err())
	}
}

// refreshLocked takes the per-user store lock (waiting a little while it is
// held elsewhere, and returning the other holder's result when it is
// enough), re-reads the link and refreshes only if still needed.
func (l *Linker) refreshLocked(ctx context.Context, user store.UserKey, seen string) (store.Link, error) {
	lockKey := "refresh:" + userPath(user)
	deadline := time.Now().Add(l.lockWait)
	var lease store.Lease
	for {
		var err error
		lease, err = l.store.Locks().Acquire(ctx, lockKey, l.owner, l.lockTTL)
		if err == nil {
			break
		}
		if !errors.Is(err, store.ErrConflict) {
			return store.Link{}, fmt.Errorf("refresh token: acquire lock: %w", err)
		}
		cur, err := l.getLink(ctx, user)
		if err != nil {
			return store.Link{}, err
		}
		if !l.stillNeeded(cur, seen) {
			return cur, nil // another replica refreshed it
		}
		if time.Now().After(deadline) {
			return store.Link{}, errors.New("refresh token: lock held elsewhere for too long")
		}
		select {
		case <-time.After(l.lockPoll):
		case <-ctx.Done():
			return store.Link{}, fmt.Errorf("refresh token: wait for lock: %w", ctx.Err())
		}
	}
	defer func() {
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		if err := l.store.Locks().Release(rctx, lease); err != nil && !errors.Is(err, store.ErrStaleFence) {
			l.log.WarnContext(rctx, "release refresh lock", userAttr(user), "error", err)
		}
	}()

	cur, err := l.getLink(ctx, user)
	if err != nil {
		return store.Link{}, err
	}
	if !l.stillNeeded(cur, seen) {
		return cur, nil
	}
	return l.doRefresh(ctx, cur)
}

// doRefresh calls SecondMe and stores the result, under the lock.
func (l *Linker) doRefresh(ctx context.Context, cur store.Link) (store.Link, error) {
	user, used := cur.Key, cur.Token.RefreshToken
	var tok *secondme.Token
	err := errors.New("link has no refresh token")
	relink := true
	if used != "" {
		tok, err = l.sm.RefreshToken(ctx, used)
		relink = secondme.IsRelinkRequired(err)
		if err == nil && (tok == nil || tok.AccessToken == "") {
			err, relink = errors.New("refresh response has no access token"), false
		}
	}
	if err != nil && relink {
		l.metrics.refresh.WithLabelValues(refreshBroken).Inc()
		l.log.WarnContext(ctx, "refresh token rejected, marking link broken", userAttr(user), "error", err)
		_, uerr := l.store.Links().UpdateLink(ctx, user, func(x store.Link) (store.Link, error) {
			if x.Token.RefreshToken != used || x.Token.AccessToken != cur.Token.AccessToken {
				return x, errLinkChanged
			}
			x.Broken = true
			x.UpdatedAt = l.now()
			return x, nil
		})
		if errors.Is(uerr, errLinkChanged) {
			return l.getLink(ctx, user) // relinked meanwhile: use the new link
		}
		if errors.Is(uerr, store.ErrNotFound) {
			return store.Link{}, ErrNotLinked // unlinked meanwhile
		}
		if uerr != nil {
			l.log.ErrorContext(ctx, "mark link broken", userAttr(user), "error", uerr)
		}
		return store.Link{}, ErrLinkBroken
	}
	if err != nil {
		l.metrics.refresh.WithLabelValues(refreshError).Inc()
		return store.Link{}, fmt.Errorf("refresh token: %w", err)
	}
	l.metrics.refresh.WithLabelValues(refreshSuccess).Inc()
	profile := l.profile(ctx, user, tok.AccessToken)
	updated, err := l.store.Links().UpdateLink(ctx, user, func(x store.Link) (store.Link, error) {
		if x.Token.RefreshToken != used || x.Token.AccessToken != cur.Token.AccessToken {
			return x, errLinkChanged
		}
		now := l.now()
		x.Token = l.storeToken(tok, x.Token, now)
		x = withProfile(x, profile)
		x.UpdatedAt = now
		return x, nil
	})
	switch {
	case errors.Is(err, errLinkChanged):
		l.log.InfoContext(ctx, "link changed during refresh; keeping the newer link", userAttr(user))
		return l.getLink(ctx, user)
	case errors.Is(err, store.ErrNotFound):
		return store.Link{}, ErrNotLinked // unlinked meanwhile
	case err != nil:
		return store.Link{}, fmt.Errorf("refresh token: store refreshed token: %w", err)
	}
	l.log.InfoContext(ctx, "token refreshed", userAttr(user), "expires_in", updated.Token.Expiry.Sub(l.now()).Round(time.Second))
	return updated, nil
}
