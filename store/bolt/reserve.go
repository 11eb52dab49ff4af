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

// gcraState is a reservation bucket at rest: its theoretical arrival time
// (unix microseconds). The entry expires at that time, when the bucket is
// full again, so a missing entry means a full bucket.
type gcraState struct {
	TAT float64 `json:"tat"`
}

// reservationKey is the key of a reservation bucket in bucketBudgets;
// codec.Part never contains ':', so it cannot clash with a Take bucket.
func reservationKey(key string) string { return "rsv:" + codec.Part(key) }

// Reserve implements store.Budgets: the buckets are read, checked and
// written in one write transaction, all or none.
func (s *Store) Reserve(ctx context.Context, buckets []store.Bucket, after time.Duration) (store.Grant, error) {
	if s.closed.Load() {
		return store.Grant{}, fmt.Errorf("reserve budgets: %w", store.ErrClosed)
	}
	if err := codec.Reserve(buckets, after); err != nil {
		return store.Grant{}, err
	}
	if len(buckets) == 0 {
		return store.Grant{OK: true}, nil
	}
	var g store.Grant
	err := s.shortLived(ctx, func(tx *bbolt.Tx) error {
		var err error
		g, err = reserveTx(tx, buckets, after, 0, s.now())
		g.At = 0 // Reserve reports no moment
		return err
	})
	if err != nil {
		return store.Grant{}, fmt.Errorf("reserve budgets: %w", err)
	}
	return g, nil
}

// ReserveEach implements store.Budgets: the requests in order, in one
// write transaction.
func (s *Store) ReserveEach(ctx context.Context, reqs []store.Reservation) ([]store.Grant, error) {
	if s.closed.Load() {
		return nil, fmt.Errorf("reserve budgets: %w", store.ErrClosed)
	}
	need, err := codec.ReserveEach(reqs)
	if err != nil {
		return nil, err
	}
	if !need {
		return codec.GrantAll(reqs), nil
	}
	gs := make([]store.Grant, len(reqs))
	err = s.shortLived(ctx, func(tx *bbolt.Tx) error {
		now := s.now()
		for i, r := range reqs {
			if len(r.Buckets) == 0 {
				gs[i] = store.Grant{OK: true, At: r.After, Clock: now}
				continue
			}
			g, err := reserveTx(tx, r.Buckets, r.After, r.Within, now)
			if err != nil {
				return err
			}
			g.Clock = now
			gs[i] = g
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("reserve budgets: %w", err)
	}
	return gs, nil
}

// reserveTx is Reserve (within 0) or one request of ReserveEach inside
// tx, with the same arithmetic as the Redis script (codec.ReserveWithin).
func reserveTx(tx *bbolt.Tx, buckets []store.Bucket, after, within time.Duration, now time.Time) (store.Grant, error) {
	b := tx.Bucket(bucketBudgets)
	tats := make([]float64, len(buckets))
	for i, bu := range buckets {
		var st gcraState
		if _, err := getLive(b, reservationKey(bu.Key), now, &st); err != nil {
			return store.Grant{}, err
		}
		tats[i] = st.TAT
	}
	news, g := codec.ReserveWithin(buckets, tats, now, after, within)
	if !g.OK {
		return g, nil
	}
	for i, bu := range buckets {
		exp := time.UnixMicro(int64(math.Ceil(news[i])))
		if err := putExpiring(b, reservationKey(bu.Key), gcraState{TAT: news[i]}, exp); err != nil {
			return store.Grant{}, err
		}
	}
	return g, nil
}
