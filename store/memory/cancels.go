package memory

import (
	"context"
	"fmt"
	"time"

	"github.com/secondme-bridge/secondme-bridge/store"
	"github.com/secondme-bridge/secondme-bridge/store/internal/codec"
)

// cancels implements store.Cancels on the shared Data.
type cancels struct{ s *Store }

var _ store.Cancels = cancels{}

// Request implements store.Cancels.
func (c cancels) Request(ctx context.Context, replyID string, ttl time.Duration) (bool, error) {
	const op = "request cancel"
	if err := codec.CancelRequest(op, replyID, ttl); err != nil {
		return false, err
	}
	first := false
	err := c.s.do(ctx, op, func(d *Data, now time.Time) error {
		if exp, ok := d.cancels[replyID]; ok && now.Before(exp) {
			return nil
		}
		d.cancels[replyID], first = now.Add(ttl), true
		return nil
	})
	if first {
		c.s.d.stops.Publish(replyID)
	}
	return first, err
}

// Watch implements store.Cancels: every store on the same Data (the
// replicas of a test) sees the requests.
func (c cancels) Watch(ctx context.Context) (<-chan string, error) {
	if c.s.closed.Load() {
		return nil, fmt.Errorf("watch cancels: %w", store.ErrClosed)
	}
	return c.s.d.stops.Watch(ctx), nil
}

// Requested implements store.Cancels.
func (c cancels) Requested(ctx context.Context, replyID string) (bool, error) {
	const op = "cancel requested"
	if err := codec.CancelID(op, replyID); err != nil {
		return false, err
	}
	found := false
	err := c.s.do(ctx, op, func(d *Data, now time.Time) error {
		exp, ok := d.cancels[replyID]
		found = ok && now.Before(exp)
		return nil
	})
	return found, err
}
