package bolt

import (
	"context"
	"fmt"
	"time"

	bbolt "go.etcd.io/bbolt"

	"github.com/secondme-bridge/secondme-bridge/store"
	"github.com/secondme-bridge/secondme-bridge/store/internal/codec"
)

// Cancels returns the stop-request aggregate: bucket "cancels", reply id
// → expiring entry, swept like the dedupe claims.
func (s *Store) Cancels() store.Cancels { return cancels{s} }

type cancels struct{ s *Store }

// Request implements store.Cancels in one write transaction.
func (c cancels) Request(ctx context.Context, replyID string, ttl time.Duration) (bool, error) {
	const op = "request cancel"
	if err := codec.CancelRequest(op, replyID, ttl); err != nil {
		return false, err
	}
	first := false
	err := c.s.update(ctx, func(tx *bbolt.Tx) error {
		b, now := tx.Bucket(bucketCancels), c.s.now()
		live, err := getLive(b, replyID, now, nil)
		if err != nil || live {
			return err
		}
		first = true
		return putExpiring(b, replyID, true, addSat(now, ttl))
	})
	if err != nil {
		return false, fmt.Errorf("%s: %w", op, err)
	}
	if first {
		c.s.stops.Publish(replyID)
	}
	return first, nil
}

// Watch implements store.Cancels in process: a bolt file has one handle at
// a time, so every request is made through this Store.
func (c cancels) Watch(ctx context.Context) (<-chan string, error) {
	if c.s.closed.Load() {
		return nil, fmt.Errorf("watch cancels: %w", store.ErrClosed)
	}
	return c.s.stops.Watch(ctx), nil
}

// Requested implements store.Cancels in one read transaction.
func (c cancels) Requested(ctx context.Context, replyID string) (bool, error) {
	const op = "cancel requested"
	if err := codec.CancelID(op, replyID); err != nil {
		return false, err
	}
	found := false
	err := c.s.view(ctx, func(tx *bbolt.Tx) error {
		var err error
		found, err = getLive(tx.Bucket(bucketCancels), replyID, c.s.now(), nil)
		return err
	})
	if err != nil {
		return false, fmt.Errorf("%s: %w", op, err)
	}
	return found, nil
}
