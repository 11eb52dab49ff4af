package bridge

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"time"

	"github.com/secondme-bridge/secondme-bridge/bridge/format"
	"github.com/secondme-bridge/secondme-bridge/platforms"
	"github.com/secondme-bridge/secondme-bridge/store"
)

// sweepClaimTTL is how long a sweeper's claim on an orphaned reply keeps
// other replicas away from it.
const sweepClaimTTL = 10 * time.Minute

// sweepLoop finalizes orphaned replies at once (including every reply
// this instance left behind before a restart), then every sweepEvery
// (replies not updated for staleAfter), until ctx is done.
func (b *Bridge) sweepLoop(ctx context.Context) {
	b.sweep(ctx, true)
	t := time.NewTicker(b.sweepEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			b.sweep(ctx, false)
			b.pruneWarned()
		}
	}
}

// sweep finalizes the orphaned in-flight replies: those not updated for
// staleAfter and, at start-up, those owned by an earlier run of this
// instance (same InstanceID, another boot id). It returns how many it
// finalized.
func (b *Bridge) sweep(ctx context.Context, startup bool) int {
	now := b.now()
	olderThan := now.Add(-b.staleAfter)
	if startup {
		olderThan = time.Time{} // everything: our own orphans are recognized by owner
	}
	recs, err := b.st.Replies().ListReplies(ctx, olderThan)
	if err != nil {
		if ctx.Err() == nil {
			b.log.Warn("list in-flight replies", "error", err)
		}
		return 0
	}
	instance := b.cfg.InstanceID + "/"
	n := 0
	for _, rec := range recs {
		stale := rec.UpdatedAt.Before(now.Add(-b.staleAfter))
		ours := strings.HasPrefix(rec.Owner, instance) && rec.Owner != b.owner
		if !stale && !ours {
			continue
		}
		p := b.platform(rec.Conversation.Platform)
		if p == nil {
			continue // another deployment's platform; leave it to them
		}
		ok, err := b.st.Dedupe().Claim(ctx, "sweep:"+rec.ID, sweepClaimTTL)
		if err != nil || !ok {
			continue
		}
		if b.finalizeOrphan(ctx, p, rec) {
			n++
		}
	}
	if n > 0 {
		b.log.Info("finalized replies interrupted by a restart", "count", n)
	}
	return n
}

// finalizeOrphan ends an orphaned reply: its last message gets its flushed
// text plus the restart notice (a native stream cannot be stopped after a
// crash, so it is edited too); without Editor a notice is sent. The record
// is then deleted. It reports success.
func (b *Bridge) finalizeOrphan(ctx context.Context, p platforms.Platform, rec store.InflightReply) bool {
	l := langOf(rec.Locale, p)
	notice := tr(l, msgRestarted)
	log := b.log.With("platform", rec.Conversation.Platform, "conversation", keyString(rec.Conversation))
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	var err error
	if e, ok := p.(platforms.Editor); ok && len(rec.Refs) > 0 {
		last := rec.Refs[len(rec.Refs)-1]
		ref := platforms.MessageRef{Channel: last.Channel, ID: last.ID, Extra: last.Extra}
		text := notice
		if strings.TrimSpace(rec.Text) != "" {
			limit := p.Limits().MaxMessageChars
			if limit <= 0 {
				limit = 2000
			}
			text = format.Preview(format.NeutralizeMentions(rec.Text), max(limit-format.RuneLen(notice)-2, 1)) + "\n\n" + notice
		}
		err = b.deliver(ctx, p, budgetsOf(p, ref), func(ctx context.Context) error {
			_, err := e.Edit(ctx, ref, platforms.Message{Text: text})
			return err
		})
	} else {
		k := rec.Conversation
		to := platforms.Target{Workspace: k.Workspace, Channel: k.Channel, Thread: k.Thread, User: k.User}
		err = b.deliver(ctx, p, sendBudgetsOf(p, to), func(ctx context.Context) error {
			_, err := p.Send(ctx, to, platforms.Message{Text: notice})
			return err
		})
	}
	if err != nil {
		log.Error("finalize interrupted reply", "error", err)
		return false
	}
	if rec.SessionID != "" {
		b.goTask(func(ctx context.Context) { b.keepOrphanSession(ctx, rec, log) })
	}
	if err := b.st.Replies().DeleteReply(ctx, rec.ID); err != nil && !errors.Is(err, store.ErrNotFound) {
		log.Warn("delete in-flight reply record", "error", err)
	}
	return true
}

// keepOrphanSession saves the session of an orphaned reply as its
// conversation's (the crashed turn never did), so that the user's next
// message continues it. It does so under the conversation's lease, and
// only if no later turn saved a session meanwhile. The lease may still be
// held by the crashed process (until it expires) or by a live turn (which
// then saves its own session, found here afterwards): it is polled for
// up to two lease lifetimes. The lease is taken under an owner of its
// own: re-acquiring under b.owner would succeed over a live turn of this
// very process (Locks.Acquire renews one's own lease) and fence it out.
func (b *Bridge) keepOrphanSession(ctx context.Context, rec store.InflightReply, log *slog.Logger) {
	key := rec.Conversation
	lockKey := (&conv{ks: keyString(key)}).lockKey()
	owner := b.owner + "/sweep/" + rec.ID
	deadline := b.now().Add(2 * b.leaseTTL)
	var l store.Lease
	for {
		var err error
		l, err = b.st.Locks().Acquire(ctx, lockKey, owner, b.leaseTTL)
		if err == nil {
			break
		}
		if !errors.Is(err, store.ErrConflict) || b.now().After(deadline) {
			log.Warn("keep the session of an interrupted reply; the next message starts a new one", "error", err)
			return
		}
		select {
		case <-time.After(b.leasePoll):
		case <-ctx.Done():
			return
		}
	}
	defer func() {
		rctx, cancel := ctxOr(ctx, 5*time.Second)
		defer cancel()
		if err := b.st.Locks().Release(rctx, l); err != nil && !errors.Is(err, store.ErrStaleFence) {
			log.Warn("release conversation lease", "error", err)
		}
	}()
	cur, err := b.st.Conversations().GetConversation(ctx, key)
	switch {
	case err == nil && (cur.SessionID == rec.SessionID || cur.LastActive.After(rec.StartedAt)):
		return // already saved, or a later turn's
	case err != nil && !errors.Is(err, store.ErrNotFound):
		log.Warn("keep the session of an interrupted reply", "error", err)
		return
	}
	c := store.Conversation{Key: key, SessionID: rec.SessionID, LastActive: rec.UpdatedAt}
	if err := b.st.Conversations().PutConversation(ctx, c, b.cfg.SessionTTL); err != nil {
		log.Warn("keep the session of an interrupted reply", "error", err)
	}
}

// pruneWarned forgets expired "slow down" warnings.
func (b *Bridge) pruneWarned() {
	now := b.now()
	b.warned.Range(func(k, v any) bool {
		if t, ok := v.(time.Time); !ok || !now.Before(t) {
			b.warned.Delete(k)
		}
		return true
	})
}
