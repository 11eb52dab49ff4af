package bolt

import (
	"context"
	"fmt"
	"time"

	bbolt "go.etcd.io/bbolt"

	"github.com/secondme-bridge/secondme-bridge/store"
	"github.com/secondme-bridge/secondme-bridge/store/internal/codec"
)

// PutReply implements store.Replies.
func (s *Store) PutReply(ctx context.Context, r store.InflightReply) error {
	if err := codec.NonEmpty("put reply", "id", r.ID); err != nil {
		return err
	}
	data, err := codec.EncodeReply(s.sealer, r)
	if err != nil {
		return fmt.Errorf("put reply: %w", err)
	}
	err = s.hotDurable(ctx, func(tx *bbolt.Tx) error {
		return tx.Bucket(bucketReplies).Put([]byte(codec.Part(r.ID)), data)
	})
	if err != nil {
		return fmt.Errorf("put reply: %w", err)
	}
	return nil
}

// DeleteReply implements store.Replies.
func (s *Store) DeleteReply(ctx context.Context, id string) error {
	// A missing record is an answer, not a failure of the shared commit
	// (hotDurable): nothing is written then.
	var missing bool
	err := s.hotDurable(ctx, func(tx *bbolt.Tx) error {
		b, k := tx.Bucket(bucketReplies), []byte(codec.Part(id))
		missing = b.Get(k) == nil
		if missing {
			return nil
		}
		return b.Delete(k)
	})
	if err == nil && missing {
		err = store.ErrNotFound
	}
	if err != nil {
		return fmt.Errorf("delete reply: %w", err)
	}
	return nil
}

// ListReplies implements store.Replies with a full scan of the (small)
// replies bucket.
func (s *Store) ListReplies(ctx context.Context, olderThan time.Time) ([]store.InflightReply, error) {
	var out []store.InflightReply
	err := s.view(ctx, func(tx *bbolt.Tx) error {
		out = out[:0]
		return tx.Bucket(bucketReplies).ForEach(func(k, v []byte) error {
			r, err := s.unreadable.Reply(ctx, s.sealer, string(k), v)
			if err != nil {
				return err
			}
			if olderThan.IsZero() || r.UpdatedAt.Before(olderThan) {
				out = append(out, r)
			}
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("list replies: %w", err)
	}
	return out, nil
}
