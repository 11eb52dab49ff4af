package redis

import (
	"context"
	"fmt"
	"time"

	"github.com/secondme-bridge/secondme-bridge/store"
	"github.com/secondme-bridge/secondme-bridge/store/internal/codec"
)

// Cancels returns the stop-request aggregate: one key per reply (SET NX PX
// to request, EXISTS to poll), so each call is one single-slot command and
// works the same on a standalone server, Sentinel or Cluster.
func (s *Store) Cancels() store.Cancels { return cancels{s} }

type cancels struct{ s *Store }

// Request implements store.Cancels with SET NX PX.
func (c cancels) Request(ctx context.Context, replyID string, ttl time.Duration) (bool, error) {
	const op = "request cancel"
	if err := c.s.check(); err != nil {
		return false, fmt.Errorf("%s: %w", op, err)
	}
	if err := codec.CancelID(op, replyID); err != nil {
		return false, err
	}
	if err := codec.TTL(op, ttl); err != nil {
		return false, err
	}
	ok, err := c.s.c.SetNX(ctx, c.s.k.cancel(replyID), "1", ttl).Result()
	if err != nil {
		return false, c.s.wrap(op, err)
	}
	return ok, nil
}

// Requested implements store.Cancels with EXISTS.
func (c cancels) Requested(ctx context.Context, replyID string) (bool, error) {
	const op = "cancel requested"
	if err := c.s.check(); err != nil {
		return false, fmt.Errorf("%s: %w", op, err)
	}
	if err := codec.CancelID(op, replyID); err != nil {
		return false, err
	}
	n, err := c.s.c.Exists(ctx, c.s.k.cancel(replyID)).Result()
	if err != nil {
		return false, c.s.wrap(op, err)
	}
	return n > 0, nil
}
