package orphan

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/secondme-bridge/secondme-bridge/bridge/internal/lease"
	"github.com/secondme-bridge/secondme-bridge/bridge/render"
	"github.com/secondme-bridge/secondme-bridge/store"
)

// Deps is what KeepSession needs.
type Deps struct {
	Store store.Store
	// Owner is this process's lease owner; the session is saved under an
	// owner of its own derived from it.
	Owner string
	Now   func() time.Time
	// Key encodes a conversation key as the engine's lock keys do.
	Key func(store.ConversationKey) string
	// LeaseTTL and LeasePoll are the conversation lease's lifetime and
	// the poll while another holds it; SessionTTL is the conversation
	// record's inactivity TTL.
	LeaseTTL, LeasePoll, SessionTTL time.Duration
}

// KeepSession saves the session of an orphaned reply as its
// conversation's (the crashed turn never did), bound to the SecondMe
// account it was issued to, so that the user's next message continues it.
// It does so under the conversation's lease, only if the user is still
// linked to that account (sameAccount), and only if no later turn saved
// a session meanwhile. The lease may still be
// held by the crashed process (until it expires) or by a live turn (which
// then saves its own session, found here afterwards): it is polled for
// up to two lease lifetimes. The lease is taken under an owner of its
// own: re-acquiring under d.Owner would succeed over a live turn of this
// very process (Locks.Acquire renews one's own lease) and fence it out.
//
// Without patient it tries once and reports false when the lease is held
// (the caller then tries patiently in the background); it reports true
// when it is done, whatever the outcome.
func KeepSession(ctx context.Context, d Deps, rec store.InflightReply, log *slog.Logger, patient bool) bool {
	key := rec.Conversation
	lockKey := lease.LockKey(d.Key(key))
	owner := d.Owner + "/sweep/" + rec.ID
	deadline := d.Now().Add(2 * d.LeaseTTL)
	var l store.Lease
	for {
		var err error
		l, err = d.Store.Locks().Acquire(ctx, lockKey, owner, d.LeaseTTL)
		if err == nil {
			break
		}
		if errors.Is(err, store.ErrConflict) && !patient {
			return false
		}
		if !errors.Is(err, store.ErrConflict) || d.Now().After(deadline) {
			log.Warn("keep the session of an interrupted reply; the next message starts a new one", "error", err)
			return true
		}
		select {
		case <-time.After(d.LeasePoll):
		case <-ctx.Done():
			return true
		}
	}
	defer func() {
		rctx, cancel := render.CtxOr(ctx, 5*time.Second)
		defer cancel()
		if err := d.Store.Locks().Release(rctx, l); err != nil && !errors.Is(err, store.ErrStaleFence) {
			log.Warn("release conversation lease", "error", err)
		}
	}()
	if !sameAccount(ctx, d, rec, log) {
		return true
	}
	cur, err := d.Store.Conversations().GetConversation(ctx, key)
	switch {
	case err == nil && (cur.SessionID == rec.SessionID || cur.LastActive.After(rec.StartedAt)):
		return true // already saved, or a later turn's
	case err != nil && !errors.Is(err, store.ErrNotFound):
		log.Warn("keep the session of an interrupted reply", "error", err)
		return true
	}
	c := store.Conversation{Key: key, SessionID: rec.SessionID, LastActive: rec.UpdatedAt, Account: rec.Account}
	if err := d.Store.Conversations().PutConversation(ctx, c, d.SessionTTL); err != nil {
		log.Warn("keep the session of an interrupted reply", "error", err)
	}
	return true
}

// sameAccount reports whether the orphan's user is still linked to the
// SecondMe account its session was issued to (rec.Account): only then is
// the session kept. After a relink to another account (which dropped the
// old account's conversations), an unlink, or with a record that does not
// name its account (an older version's) while the link does, the session
// is not restored: it must never be sent with another account's token.
func sameAccount(ctx context.Context, d Deps, rec store.InflightReply, log *slog.Logger) bool {
	link, err := d.Store.Links().GetLink(ctx, rec.Conversation.UserKey())
	switch {
	case errors.Is(err, store.ErrNotFound):
		log.Info("interrupted reply's session not kept: the user is no longer linked")
		return false
	case err != nil:
		log.Warn("keep the session of an interrupted reply; the next message starts a new one", "error", err)
		return false
	case link.SecondMeUserID != rec.Account:
		log.Info("interrupted reply's session not kept: the user is now linked to another SecondMe account")
		return false
	}
	return true
}
