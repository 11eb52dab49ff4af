package bolt

import (
	"context"
	"fmt"
	"time"

	bbolt "go.etcd.io/bbolt"

	"github.com/secondme-bridge/secondme-bridge/store"
	"github.com/secondme-bridge/secondme-bridge/store/internal/codec"
)

// Take implements store.Budgets: refill, take and store happen in one
// write transaction.
func (s *Store) Take(ctx context.Context, key string, limit store.Limit, n int) (bool, time.Duration, error) {
	if err := codec.Take(limit, n); err != nil {
		return false, 0, err
	}
	var (
		ok   bool
		wait time.Duration
	)
	err := s.shortLived(ctx, func(tx *bbolt.Tx) error {
		var err error
		ok, wait, err = takeTx(tx, key, limit, n, s.now())
		return err
	})
	if err != nil {
		return false, 0, fmt.Errorf("take budget: %w", err)
	}
	return ok, wait, nil
}

// takeTx takes n tokens from the bucket of key in tx, or reports how long
// until there will be n (taking nothing). The entry expires when the bucket
// would be full again, so a missing entry means a full bucket.
func takeTx(tx *bbolt.Tx, key string, limit store.Limit, n int, now time.Time) (bool, time.Duration, error) {
	b, k := tx.Bucket(bucketBudgets), codec.Part(key)
	var st codec.Tokens
	found, err := getLive(b, k, now, &st)
	if err != nil {
		return false, 0, err
	}
	prev := &st
	if !found {
		prev = nil
	}
	next, ok, wait, full := codec.TakeTokens(prev, now, limit, n)
	if !ok {
		return false, wait, nil
	}
	return true, 0, putExpiring(b, k, next, addSat(now, full))
}
