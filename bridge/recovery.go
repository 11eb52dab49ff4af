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

// sweepLoop runs the recovery sweep at once, then whenever a process
// vanishes from the liveness records (checked every orphanEvery, one small
// read), and every sweepEvery in any case (the stale-after rule, and
// anything a failed check missed), until ctx is done.
func (b *Bridge) sweepLoop(ctx context.Context) {
	b.sweep(ctx, true)
	last := b.now()
	prev, _ := b.aliveSet(ctx)
	t := time.NewTicker(b.orphanEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		alive, err := b.aliveSet(ctx)
		vanished := false
		if err == nil {
			for o := range prev {
				if !alive[o] {
					vanished = true
				}
			}
			prev = alive
		}
		if vanished || b.now().Sub(last) >= b.sweepEvery {
			b.sweep(ctx, false)
			last = b.now()
			b.pruneWarned()
		}
	}
}

// aliveSet returns the owners with a live liveness record.
func (b *Bridge) aliveSet(ctx context.Context) (map[string]bool, error) {
	live, err := b.st.Liveness().Alive(ctx)
	if err != nil {
		if ctx.Err() == nil {
			b.log.Warn("list live processes", "error", err)
		}
		return nil, err
	}
	alive := make(map[string]bool, len(live))
	for _, o := range live {
		alive[o] = true
	}
	return alive, nil
}

// sweep takes over what stopped processes left behind. An owner is dead
// when it has no live liveness record (store.Liveness), or when it is an
// earlier boot of this instance id; a reply record of a version that kept
// no liveness record (not Live) counts as orphaned by the second rule
// only, so that a rolling upgrade does not take over live replies. The
// in-flight replies of dead owners, and any reply not updated for
// staleAfter (the last resort), are
// finalized (finalizeOrphan); then the inbox entries of dead owners are
// adopted and answered here, in order (adoptInbox); the dead owners'
// conversation leases are released on the way. It returns how many
// replies it finalized.
func (b *Bridge) sweep(ctx context.Context, startup bool) int {
	now := b.now()
	isDead := b.deadOwners(ctx)
	recs, err := b.st.Replies().ListReplies(ctx, time.Time{})
	if err != nil {
		if ctx.Err() == nil {
			b.log.Warn("list in-flight replies", "error", err)
		}
		return 0
	}
	n := 0
	inflight := map[string]bool{}
	dead := map[string]bool{}
	for _, rec := range recs {
		inflight[rec.ID] = true
		stale := rec.UpdatedAt.Before(now.Add(-b.staleAfter))
		orphan := isDead(rec.Owner) && (rec.Live || b.earlierBoot(rec.Owner))
		if !stale && !orphan {
			continue
		}
		if orphan {
			dead[rec.Owner] = true
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
			b.met.recovered.WithLabelValues("reply").Inc()
			n++
		}
	}
	if n > 0 {
		b.log.Info("finalized replies interrupted by a stopped process", "count", n, "startup", startup)
	}
	es, err := b.st.Inbox().List(ctx)
	if err != nil {
		if ctx.Err() == nil {
			b.log.Warn("list inbox", "error", err)
		}
		return n
	}
	for _, e := range es {
		if isDead(e.Owner) {
			dead[e.Owner] = true
		}
	}
	b.adoptInbox(ctx, dead, inflight)
	return n
}

// deadOwners returns the test for dead owners: not this process, and an
// earlier boot of this instance id or without a live liveness record.
// When the liveness records cannot be read, only the first rule applies.
func (b *Bridge) deadOwners(ctx context.Context) func(owner string) bool {
	instance := b.cfg.InstanceID + "/"
	alive, err := b.aliveSet(ctx)
	return func(owner string) bool {
		switch {
		case owner == b.owner:
			return false
		case strings.HasPrefix(owner, instance):
			return true // this instance restarted: that boot is gone
		default:
			return err == nil && !alive[owner]
		}
	}
}

// earlierBoot reports whether owner is an earlier boot of this instance id.
func (b *Bridge) earlierBoot(owner string) bool {
	return owner != b.owner && strings.HasPrefix(owner, b.cfg.InstanceID+"/")
}

// finalizeOrphan ends an orphaned reply without taking anything users saw
// away from it: a native stream gets the restart notice appended and is
// stopped; an edited message gets its recorded text (never less than it
// showed) plus the notice, or, when both do not fit, keeps its text and
// the notice follows as a new message; a reply with no message recorded
// (written ahead, or a platform without Editor) gets the notice as a new
// message. Then its inbox entry, its record and its owner's lease on the
// conversation are deleted, in that order (an entry never outlives its
// record unseen). It reports success.
func (b *Bridge) finalizeOrphan(ctx context.Context, p platforms.Platform, rec store.InflightReply) bool {
	l := langOf(rec.Locale, p)
	notice := tr(l, msgRestarted)
	log := b.log.With("platform", rec.Conversation.Platform, "conversation", keyString(rec.Conversation))
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	k := rec.Conversation
	to := platforms.Target{Workspace: platforms.WorkspaceID(k.Workspace), Channel: platforms.ChannelID(k.Channel), Thread: platforms.ThreadID(k.Thread), User: platforms.UserID(k.User)}
	send := func(text string) error {
		return b.deliver(ctx, p, sendBudgetsOf(p, to), func(ctx context.Context) error {
			_, err := p.Send(ctx, to, platforms.Message{Text: text})
			return err
		})
	}
	var err error
	switch {
	case len(rec.Refs) == 0:
		err = send(notice)
	case rec.Native && b.stopOrphanStream(ctx, p, rec, notice, log):
	default:
		err = b.editOrphan(ctx, p, rec, notice, send)
	}
	if err != nil {
		log.Error("finalize interrupted reply", "error", err)
		return false
	}
	if rec.Owner != b.owner {
		b.breakLease(ctx, rec.Conversation, rec.Owner)
	}
	// The session is saved now if the conversation is free (it is, once the
	// dead owner's lease is broken), so that the messages adopted next
	// continue it; otherwise in the background, once it is free.
	if rec.SessionID != "" && !b.keepOrphanSession(ctx, rec, log, false) {
		b.goTask(func(ctx context.Context) { b.keepOrphanSession(ctx, rec, log, true) })
	}
	if err := b.st.Inbox().Remove(ctx, rec.ID); err != nil && !errors.Is(err, store.ErrNotFound) {
		log.Warn("remove inbox entry", "error", err)
	}
	if err := b.st.Replies().DeleteReply(ctx, rec.ID); err != nil && !errors.Is(err, store.ErrNotFound) {
		log.Warn("delete in-flight reply record", "error", err)
	}
	return true
}

// stopOrphanStream finishes an orphaned native stream: the notice is
// appended and the stream stopped (any process with the bot token can:
// the ref names the channel and the message). It reports success; on
// failure the caller edits the message instead.
func (b *Bridge) stopOrphanStream(ctx context.Context, p platforms.Platform, rec store.InflightReply, notice string, log *slog.Logger) bool {
	s := platforms.ResolveCaps(p).Streamer
	if s == nil {
		return false
	}
	last := rec.Refs[len(rec.Refs)-1]
	ref := platforms.MessageRef{Channel: platforms.ChannelID(last.Channel), ID: platforms.MessageID(last.ID), Extra: last.Extra}
	budgets := budgetsOf(p, ref)
	if err := b.deliver(ctx, p, budgets, func(ctx context.Context) error {
		return s.AppendStream(ctx, ref, "\n\n"+notice)
	}); err != nil {
		log.Warn("append the restart notice to an interrupted stream; editing it instead", "error", err)
		if err := s.StopStream(ctx, ref); err != nil {
			log.Debug("stop interrupted stream", "error", err)
		}
		return false
	}
	if err := b.deliver(ctx, p, budgets, func(ctx context.Context) error {
		return s.StopStream(ctx, ref)
	}); err != nil {
		log.Warn("stop an interrupted stream (its text and notice are shown)", "error", err)
	}
	return true
}

// editOrphan edits the orphan's last message to its recorded text plus the
// notice when both fit in one message, and otherwise to the recorded text
// alone (a preview at the full limit, as the reply showed it), sending the
// notice after it. Without Editor the notice is sent.
func (b *Bridge) editOrphan(ctx context.Context, p platforms.Platform, rec store.InflightReply, notice string, send func(string) error) error {
	e := platforms.ResolveCaps(p).Editor
	if e == nil {
		return send(notice)
	}
	last := rec.Refs[len(rec.Refs)-1]
	ref := platforms.MessageRef{Channel: platforms.ChannelID(last.Channel), ID: platforms.MessageID(last.ID), Extra: last.Extra}
	limit := p.Limits().MaxMessageChars
	if limit <= 0 {
		limit = 2000
	}
	body := format.NeutralizeMentions(rec.Text)
	text, after := notice, ""
	switch {
	case strings.TrimSpace(body) == "":
	case format.RuneLen(body)+2+format.RuneLen(notice) <= limit:
		text = format.Preview(body, limit-2-format.RuneLen(notice)) + "\n\n" + notice
	default:
		text, after = format.Preview(body, limit), notice
	}
	if err := b.deliver(ctx, p, budgetsOf(p, ref), func(ctx context.Context) error {
		_, err := e.Edit(ctx, ref, platforms.Message{Text: text})
		return err
	}); err != nil {
		return err
	}
	if after != "" {
		return send(after)
	}
	return nil
}

// keepOrphanSession saves the session of an orphaned reply as its
// conversation's (the crashed turn never did), bound to the SecondMe
// account it was issued to, so that the user's next message continues it.
// It does so under the conversation's lease, only if the user is still
// linked to that account (sameAccountNow), and only if no later turn saved
// a session meanwhile. The lease may still be
// held by the crashed process (until it expires) or by a live turn (which
// then saves its own session, found here afterwards): it is polled for
// up to two lease lifetimes. The lease is taken under an owner of its
// own: re-acquiring under b.owner would succeed over a live turn of this
// very process (Locks.Acquire renews one's own lease) and fence it out.
//
// Without patient it tries once and reports false when the lease is held
// (the caller then tries patiently in the background); it reports true
// when it is done, whatever the outcome.
func (b *Bridge) keepOrphanSession(ctx context.Context, rec store.InflightReply, log *slog.Logger, patient bool) bool {
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
		if errors.Is(err, store.ErrConflict) && !patient {
			return false
		}
		if !errors.Is(err, store.ErrConflict) || b.now().After(deadline) {
			log.Warn("keep the session of an interrupted reply; the next message starts a new one", "error", err)
			return true
		}
		select {
		case <-time.After(b.leasePoll):
		case <-ctx.Done():
			return true
		}
	}
	defer func() {
		rctx, cancel := ctxOr(ctx, 5*time.Second)
		defer cancel()
		if err := b.st.Locks().Release(rctx, l); err != nil && !errors.Is(err, store.ErrStaleFence) {
			log.Warn("release conversation lease", "error", err)
		}
	}()
	if !b.sameAccountNow(ctx, rec, log) {
		return true
	}
	cur, err := b.st.Conversations().GetConversation(ctx, key)
	switch {
	case err == nil && (cur.SessionID == rec.SessionID || cur.LastActive.After(rec.StartedAt)):
		return true // already saved, or a later turn's
	case err != nil && !errors.Is(err, store.ErrNotFound):
		log.Warn("keep the session of an interrupted reply", "error", err)
		return true
	}
	c := store.Conversation{Key: key, SessionID: rec.SessionID, LastActive: rec.UpdatedAt, Account: rec.Account}
	if err := b.st.Conversations().PutConversation(ctx, c, b.cfg.SessionTTL); err != nil {
		log.Warn("keep the session of an interrupted reply", "error", err)
	}
	return true
}

// sameAccountNow reports whether the orphan's user is still linked to the
// SecondMe account its session was issued to (rec.Account): only then is
// the session kept. After a relink to another account (which dropped the
// old account's conversations), an unlink, or with a record that does not
// name its account (an older version's) while the link does, the session
// is not restored: it must never be sent with another account's token.
func (b *Bridge) sameAccountNow(ctx context.Context, rec store.InflightReply, log *slog.Logger) bool {
	link, err := b.st.Links().GetLink(ctx, rec.Conversation.UserKey())
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
