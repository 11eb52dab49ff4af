package bolt

import (
	"context"
	"fmt"
	"math"
	"time"

	bbolt "go.etcd.io/bbolt"

	"github.com/secondme-bridge/secondme-bridge/store"
	"github.com/secondme-bridge/secondme-bridge/store/internal/codec"
)

// Lease implements store.Budgets on the Reserve buckets, in one write
// transaction.
func (s *Store) Lease(ctx context.Context, bk store.Bucket, want int) (store.Leased, error) {
	if err := codec.LeaseArgs("lease budget", bk, want); err != nil {
		return store.Leased{}, err
	}
	var l store.Leased
	err := s.shortLived(ctx, func(tx *bbolt.Tx) error {
		b, k := tx.Bucket(bucketBudgets), reservationKey(bk.Key)
		now := s.now()
		var st gcraState
		if _, err := getLive(b, k, now, &st); err != nil {
			return err
		}
		var tat float64
		tat, l.Granted, l.Wait = codec.LeaseAt(st.TAT, now, bk, want)
		if l.Granted == 0 {
			return nil
		}
		return putExpiring(b, k, gcraState{TAT: tat}, time.UnixMicro(int64(math.Ceil(tat))))
	})
	if err != nil {
		return store.Leased{}, fmt.Errorf("lease budget: %w", err)
	}
	return l, nil
}

// Return implements store.Budgets, in one write transaction.
func (s *Store) Return(ctx context.Context, bk store.Bucket, n int) error {
	if err := codec.LeaseArgs("return budget", bk, n); err != nil {
		return err
	}
	err := s.shortLived(ctx, func(tx *bbolt.Tx) error {
		b, k := tx.Bucket(bucketBudgets), reservationKey(bk.Key)
		now := s.now()
		var st gcraState
		found, err := getLive(b, k, now, &st)
		if err != nil || !found {
			return err // a forgotten bucket is full
		}
		tat, keep := codec.ReturnAt(st.TAT, now, bk, n)
		if !keep {
			return b.Delete([]byte(k))
		}
		return putExpiring(b, k, gcraState{TAT: tat}, time.UnixMicro(int64(math.Ceil(tat))))
	})
	if err != nil {
		return fmt.Errorf("return budget: %w", err)
	}
	return nil
}
