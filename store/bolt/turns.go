package bolt

import (
	"context"
	"fmt"
	"time"

	bbolt "go.etcd.io/bbolt"

	"github.com/secondme-bridge/secondme-bridge/store"
	"github.com/secondme-bridge/secondme-bridge/store/internal/codec"
)

// Turns returns the composite hot-path aggregate. Each method is one
// bbolt transaction built from the same steps as the single-aggregate
// methods (claimTx, takeTx, acquireTx, putExpiring, current).
func (s *Store) Turns() store.Turns { return turns{s} }

type turns struct{ s *Store }

var _ store.Turns = turns{}

// Admit implements store.Turns in one write transaction.
func (t turns) Admit(ctx context.Context, ids []string, claimTTL time.Duration, rateKey string, rate store.Limit) (store.Admission, error) {
	s := t.s
	ids, err := codec.Admit(ids, claimTTL, rate)
	if err != nil {
		return store.Admission{}, err
	}
	var a store.Admission
	err = s.shortLived(ctx, func(tx *bbolt.Tx) error {
		a = store.Admission{Claimed: true}
		now := s.now()
		for _, id := range ids {
			won, err := claimTx(tx, id, claimTTL, now)
			if err != nil {
				return err
			}
			a.Claimed = a.Claimed && won
		}
		if a.Claimed {
			var err error
			if a.Allowed, a.Wait, err = takeTx(tx, rateKey, rate, 1, now); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return store.Admission{}, fmt.Errorf("admit turn: %w", err)
	}
	return a, nil
}

// Begin implements store.Turns in one write transaction. A conversation or
// link that cannot be decoded fails the transaction, so no lock is taken.
func (t turns) Begin(ctx context.Context, key, owner string, ttl time.Duration, conv store.ConversationKey) (*store.TurnStart, error) {
	s := t.s
	if err := codec.Begin(key, owner, ttl); err != nil {
		return nil, err
	}
	var ts store.TurnStart
	err := s.hotDurable(ctx, func(tx *bbolt.Tx) error {
		ts = store.TurnStart{}
		now := s.now()
		var err error
		if ts.Lease, err = acquireTx(tx, key, owner, ttl, now); err != nil {
			return err
		}
		ts.HasConversation, err = getLive(tx.Bucket(bucketConvs), codec.Conversation(conv), now, &ts.Conversation)
		if err != nil {
			return err
		}
		ts.HasLink, err = codec.BeginLink(s.getLink(tx, &ts.Link, conv.UserKey()))
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("begin turn: %w", err)
	}
	return &ts, nil
}

// Finish implements store.Turns in one write transaction.
func (t turns) Finish(ctx context.Context, l store.Lease, c *store.Conversation, ttl time.Duration, replyID string) error {
	s := t.s
	if err := codec.Finish(l, c, ttl); err != nil {
		return err
	}
	// A stale lease is an answer found before anything is written,
	// returned after the shared commit (hotDurable), which it leaves whole.
	var stale error
	err := s.hotDurable(ctx, func(tx *bbolt.Tx) error {
		locks, now := tx.Bucket(bucketLocks), s.now()
		var err error
		if stale, err = currentOrStale(locks, l, now); stale != nil || err != nil {
			return err
		}
		if c != nil {
			if err := putExpiring(tx.Bucket(bucketConvs), codec.Conversation(c.Key), *c, addSat(now, ttl)); err != nil {
				return err
			}
		}
		if replyID != "" {
			if err := tx.Bucket(bucketReplies).Delete([]byte(codec.Part(replyID))); err != nil {
				return err
			}
			if _, err := removeInboxTx(tx, replyID); err != nil {
				return err
			}
		}
		return locks.Delete([]byte(codec.Part(l.Key)))
	})
	if err == nil {
		err = stale
	}
	if err != nil {
		return fmt.Errorf("finish turn: %w", err)
	}
	return nil
}
