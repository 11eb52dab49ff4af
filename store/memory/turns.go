package memory

import (
	"context"
	"time"

	"github.com/secondme-bridge/secondme-bridge/store"
	"github.com/secondme-bridge/secondme-bridge/store/internal/codec"
)

// turns implements store.Turns; each method holds the Data's mutex once,
// built from the same steps as the single-aggregate methods.
type turns struct{ s *Store }

var _ store.Turns = turns{}

// Admit implements store.Turns.
func (t turns) Admit(ctx context.Context, ids []string, claimTTL time.Duration, rateKey string, rate store.Limit) (store.Admission, error) {
	ids, err := codec.Admit(ids, claimTTL, rate)
	if err != nil {
		return store.Admission{}, err
	}
	a := store.Admission{Claimed: true}
	err = t.s.do(ctx, "admit turn", func(d *Data, now time.Time) error {
		for _, id := range ids {
			a.Claimed = d.claim(id, claimTTL, now) && a.Claimed
		}
		if a.Claimed {
			a.Allowed, a.Wait = d.take(rateKey, rate, 1, now)
		}
		return nil
	})
	if err != nil {
		return store.Admission{}, err
	}
	return a, nil
}

// Begin implements store.Turns. A link that cannot be decoded fails the
// call before the lock is taken.
func (t turns) Begin(ctx context.Context, key, owner string, ttl time.Duration, conv store.ConversationKey) (*store.TurnStart, error) {
	if err := codec.Begin(key, owner, ttl); err != nil {
		return nil, err
	}
	var ts store.TurnStart
	err := t.s.do(ctx, "begin turn", func(d *Data, now time.Time) error {
		if cur, held := getLive(d.locks, key, now); held && cur.owner != owner {
			return store.ErrConflict
		}
		var err error
		if ts.HasLink, err = codec.BeginLink(t.s.getLink(d, &ts.Link, conv.UserKey())); err != nil {
			return err
		}
		ts.Conversation, ts.HasConversation = getLive(d.convs[conv.UserKey()], conv, now)
		ts.Lease, err = d.acquire(key, owner, ttl, now)
		return err
	})
	if err != nil {
		return nil, err
	}
	return &ts, nil
}

// Finish implements store.Turns.
func (t turns) Finish(ctx context.Context, l store.Lease, c *store.Conversation, ttl time.Duration, replyID string) error {
	if err := codec.Finish(l, c, ttl); err != nil {
		return err
	}
	return t.s.do(ctx, "finish turn", func(d *Data, now time.Time) error {
		if err := d.current(l, now); err != nil {
			return err
		}
		if c != nil {
			d.putConversation(*c, now.Add(ttl))
		}
		delete(d.replies, replyID)
		d.removeInbox(replyID)
		delete(d.locks, l.Key)
		return nil
	})
}
