package partition

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/secondme-bridge/secondme-bridge/store"
)

// Gate lets one session start per window per bucket through, across every
// replica sharing the store (Discord: one IDENTIFY per 5 s per bucket
// shard_id % max_concurrency).
type Gate struct {
	budgets store.Budgets
	name    string
	window  time.Duration
}

// NewGate returns a gate on budgets under name ("discord:identify"), one
// start per window (5 s for Discord).
func NewGate(budgets store.Budgets, name string, window time.Duration) (*Gate, error) {
	if budgets == nil || name == "" || window <= 0 {
		return nil, errors.New("new partition gate: budgets, name and a positive window are required")
	}
	return &Gate{budgets: budgets, name: name, window: window}, nil
}

// Wait blocks until a start in bucket (of buckets) is allowed, or ctx is
// done. It takes the bucket's token, so the caller must start at once.
func (g *Gate) Wait(ctx context.Context, bucket, buckets int) error {
	if buckets < 1 || bucket < 0 || bucket >= buckets {
		return fmt.Errorf("wait start gate: bucket %d of %d", bucket, buckets)
	}
	key := g.name + ":" + strconv.Itoa(buckets) + ":" + strconv.Itoa(bucket)
	limit := store.Limit{Rate: 1 / g.window.Seconds(), Burst: 1}
	for {
		ok, wait, err := g.budgets.Take(ctx, key, limit, 1)
		if err != nil {
			return fmt.Errorf("wait start gate: %w", err)
		}
		if ok {
			return nil
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
	}
}
