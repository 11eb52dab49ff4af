package memory

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/secondme-bridge/secondme-bridge/store"
	"github.com/secondme-bridge/secondme-bridge/store/internal/codec"
)

// liveness implements store.Liveness. Handles on one Data share their
// records, as replicas on one Redis do.
type liveness struct{ s *Store }

var _ store.Liveness = liveness{}

// Beat implements store.Liveness.
func (l liveness) Beat(ctx context.Context, owner string, ttl time.Duration) error {
	if err := codec.Expiring("beat", "owner", owner, ttl); err != nil {
		return err
	}
	return l.s.do(ctx, "beat", func(d *Data, now time.Time) error {
		d.live[owner] = now.Add(ttl)
		return nil
	})
}

// Alive implements store.Liveness.
func (l liveness) Alive(ctx context.Context) ([]string, error) {
	var out []string
	err := l.s.do(ctx, "list live owners", func(d *Data, now time.Time) error {
		for owner, exp := range d.live {
			if now.Before(exp) {
				out = append(out, owner)
			}
		}
		return nil
	})
	return out, err
}

// Leave implements store.Liveness.
func (l liveness) Leave(ctx context.Context, owner string) error {
	return l.s.do(ctx, "leave", func(d *Data, _ time.Time) error {
		delete(d.live, owner)
		return nil
	})
}

// Break implements store.Locks.
func (s *Store) Break(ctx context.Context, key, owner string) error {
	if err := codec.NonEmpty("break lock", "key", key); err != nil {
		return err
	}
	return s.do(ctx, "break lock", func(d *Data, now time.Time) error {
		if cur, held := getLive(d.locks, key, now); !held || cur.owner != owner {
			return store.ErrNotFound
		}
		delete(d.locks, key)
		return nil
	})
}

// inbox implements store.Inbox.
type inbox struct{ s *Store }

var _ store.Inbox = inbox{}

// Enter implements store.Turns.
func (t turns) Enter(ctx context.Context, ids []string, claimTTL time.Duration, rateKey string, rate store.Limit, e store.InboxEntry, bound int) (store.Admission, error) {
	ids, err := codec.Enter(ids, claimTTL, rate, e, bound)
	if err != nil {
		return store.Admission{}, err
	}
	rec, err := codec.EncodeInbox(t.s.sealer, e)
	if err != nil {
		return store.Admission{}, err
	}
	a := store.Admission{Claimed: true}
	err = t.s.do(ctx, "enter turn", func(d *Data, now time.Time) error {
		if _, dup := d.inbox[rec.ID]; dup {
			return fmt.Errorf("inbox entry %q already exists", rec.ID)
		}
		for _, id := range ids {
			a.Claimed = d.claim(id, claimTTL, now) && a.Claimed
		}
		if !a.Claimed {
			return nil
		}
		if a.Allowed, a.Wait = d.take(rateKey, rate, 1, now); !a.Allowed {
			return nil
		}
		if d.inboxN[rec.Conv] >= bound {
			a.Full = true
			return nil
		}
		d.inboxSeq++
		rec.Seq = d.inboxSeq
		d.inbox[rec.ID] = rec
		d.inboxN[rec.Conv]++
		return nil
	})
	if err != nil {
		return store.Admission{}, err
	}
	return a, nil
}

// removeInbox deletes the entry id; it reports whether there was one.
func (d *Data) removeInbox(id string) bool {
	rec, ok := d.inbox[id]
	if !ok {
		return false
	}
	delete(d.inbox, id)
	if d.inboxN[rec.Conv]--; d.inboxN[rec.Conv] <= 0 {
		delete(d.inboxN, rec.Conv)
	}
	return true
}

// List implements store.Inbox.
func (i inbox) List(ctx context.Context) ([]store.InboxEntry, error) {
	return i.collect(ctx, "list inbox", func(*codec.InboxRecord) bool { return true })
}

// Remove implements store.Inbox.
func (i inbox) Remove(ctx context.Context, id string) error {
	return i.s.do(ctx, "remove inbox entry", func(d *Data, _ time.Time) error {
		if !d.removeInbox(id) {
			return store.ErrNotFound
		}
		return nil
	})
}

// Adopt implements store.Inbox.
func (i inbox) Adopt(ctx context.Context, from, to string) ([]store.InboxEntry, error) {
	if err := codec.NonEmpty("adopt inbox", "owner", to); err != nil {
		return nil, err
	}
	return i.collect(ctx, "adopt inbox", func(rec *codec.InboxRecord) bool {
		if rec.Owner != from {
			return false
		}
		rec.Owner = to
		return true
	})
}

// collect returns the entries for which pick (which may change the
// record) reports true, by Seq.
func (i inbox) collect(ctx context.Context, op string, pick func(*codec.InboxRecord) bool) ([]store.InboxEntry, error) {
	var out []store.InboxEntry
	err := i.s.do(ctx, op, func(d *Data, _ time.Time) error {
		for id, rec := range d.inbox {
			if pick(&rec) {
				d.inbox[id] = rec
				out = append(out, codec.OpenInbox(i.s.sealer, rec))
			}
		}
		return nil
	})
	slices.SortFunc(out, func(a, b store.InboxEntry) int { return cmp.Compare(a.Seq, b.Seq) })
	return out, err
}
