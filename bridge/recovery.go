package bridge

import (
	"context"
	"errors"
	"time"

	"github.com/secondme-bridge/secondme-bridge/bridge/internal/keys"
	"github.com/secondme-bridge/secondme-bridge/bridge/internal/orphan"
	"github.com/secondme-bridge/secondme-bridge/bridge/text"
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
	prev, _ := b.live.AliveSet(ctx)
	t := time.NewTicker(b.tim.orphanEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		alive, err := b.live.AliveSet(ctx)
		vanished := false
		if err == nil {
			for o := range prev {
				if !alive[o] {
					vanished = true
				}
			}
			prev = alive
		}
		if vanished || b.now().Sub(last) >= b.tim.sweepEvery {
			b.sweep(ctx, false)
			last = b.now()
			b.pruneWarned()
		}
	}
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
	isDead := b.live.DeadOwners(ctx)
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
		stale := rec.UpdatedAt.Before(now.Add(-b.tim.staleAfter))
		orphan := isDead(rec.Owner) && (rec.Live || b.live.EarlierBoot(rec.Owner))
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
			b.met.Recovered.WithLabelValues("reply").Inc()
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

// finalizeOrphan ends an orphaned reply without taking anything users saw
// away from it: a reply cut off in its final delivery gets the rest of its
// final text (its recorded FinalParts) and no notice; a native stream gets
// the restart notice appended and is stopped; an edited message gets its
// recorded text (never less than it showed) plus the notice, or, when both
// do not fit, keeps its text and the notice follows as a new message; a
// reply with no message recorded (written ahead, or a platform without
// Editor) gets the notice as a new message. Then its inbox entry, its record and its owner's lease on the
// conversation are deleted, in that order (an entry never outlives its
// record unseen). It reports success.
func (b *Bridge) finalizeOrphan(ctx context.Context, p platforms.Platform, rec store.InflightReply) bool {
	l := text.Of(rec.Locale, p)
	notice := text.T(l, text.MsgRestarted)
	log := b.log.With("platform", rec.Conversation.Platform, "conversation", keys.Conv(rec.Conversation))
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	err := b.out.FinishOrphan(ctx, p, rec, notice, log)
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
	if rec.SessionID != "" && !orphan.KeepSession(ctx, b.orphanDeps(), rec, log, false) {
		b.goTask(func(ctx context.Context) { orphan.KeepSession(ctx, b.orphanDeps(), rec, log, true) })
	}
	if err := b.st.Inbox().Remove(ctx, rec.ID); err != nil && !errors.Is(err, store.ErrNotFound) {
		log.Warn("remove inbox entry", "error", err)
	}
	if err := b.st.Replies().DeleteReply(ctx, rec.ID); err != nil && !errors.Is(err, store.ErrNotFound) {
		log.Warn("delete in-flight reply record", "error", err)
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

// orphanDeps is what keeping an orphan's session needs.
func (b *Bridge) orphanDeps() orphan.Deps {
	return orphan.Deps{
		Store: b.st, Owner: b.owner, Now: b.now, Key: keys.Conv,
		LeaseTTL: b.tim.leaseTTL, LeasePoll: b.tim.leasePoll, SessionTTL: b.cfg.SessionTTL,
	}
}
