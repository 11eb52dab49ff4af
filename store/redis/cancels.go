package redis

import (
	"context"
	"fmt"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/secondme-bridge/secondme-bridge/store"
	"github.com/secondme-bridge/secondme-bridge/store/internal/codec"
)

// Cancels returns the stop-request aggregate: one key per reply (SET NX PX
// to request, EXISTS to check), so each call is one single-slot command and
// works the same on a standalone server, Sentinel or Cluster. A first
// request is announced with PUBLISH on one channel (keys.cancelChannel),
// which every replica subscribes to (Watch): classic pub/sub reaches every
// subscriber on a standalone server, through Sentinel and across a Cluster
// (published messages travel the cluster bus), and costs the streaming
// replicas nothing while nobody stops anything — unlike polling, which
// would cost a round trip per poll per replica. MGET of several replies'
// keys would not be Cluster-safe across slots either.
func (s *Store) Cancels() store.Cancels { return cancels{s} }

type cancels struct{ s *Store }

// Request implements store.Cancels with SET NX PX.
func (c cancels) Request(ctx context.Context, replyID string, ttl time.Duration) (bool, error) {
	const op = "request cancel"
	if err := c.s.check(); err != nil {
		return false, fmt.Errorf("%s: %w", op, err)
	}
	if err := codec.CancelRequest(op, replyID, ttl); err != nil {
		return false, err
	}
	ok, err := c.s.c.SetNX(ctx, c.s.k.cancel(replyID), "1", ttl).Result()
	if err != nil {
		return false, c.s.wrap(op, err)
	}
	if ok {
		// Recorded but not announced: the streaming replica sees it only
		// when its watch restarts (Requested), so the error is returned.
		if err := c.s.c.Publish(ctx, c.s.k.cancelChannel(), replyID).Err(); err != nil {
			return true, c.s.wrap("announce cancel", err)
		}
	}
	return ok, nil
}

// watchBuffer is how many announcements a watcher may have pending.
const watchBuffer = 64

// Watch implements store.Cancels with SUBSCRIBE on the cancel channel. It
// returns once the subscription is confirmed, so that every request made
// afterwards is seen. go-redis resubscribes after a dropped connection;
// each (re)subscription is reported as "" (announcements may have been
// missed meanwhile).
func (c cancels) Watch(ctx context.Context) (<-chan string, error) {
	const op = "watch cancels"
	if err := c.s.check(); err != nil {
		return nil, fmt.Errorf("%s: %w", op, err)
	}
	ps := c.s.c.Subscribe(ctx, c.s.k.cancelChannel())
	if _, err := ps.Receive(ctx); err != nil {
		_ = ps.Close()
		return nil, c.s.wrap(op, err)
	}
	in := ps.ChannelWithSubscriptions(goredis.WithChannelSize(watchBuffer))
	out := make(chan string, watchBuffer)
	out <- ""
	go func() {
		defer close(out)
		defer ps.Close()
		for {
			var id string
			select {
			case <-ctx.Done():
				return
			case m, ok := <-in:
				if !ok {
					return
				}
				switch m := m.(type) {
				case *goredis.Subscription:
					if m.Kind != "subscribe" {
						continue
					}
				case *goredis.Message:
					if codec.CancelID(op, m.Payload) != nil {
						continue // not ours
					}
					id = m.Payload
				default:
					continue
				}
			}
			select {
			case out <- id:
			case <-ctx.Done():
				return
			}
		}
	}()
	return out, nil
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
