package bolt

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"time"

	bbolt "go.etcd.io/bbolt"

	"github.com/secondme-bridge/secondme-bridge/store"
	"github.com/secondme-bridge/secondme-bridge/store/internal/codec"
)

// lockState is the value of a held lock. The fence counter lives apart, in
// bucketFences, and is never deleted, so fences never repeat.
type lockState struct {
	Owner string `json:"owner"`
	Fence uint64 `json:"fence"`
}

// Acquire implements store.Locks.
func (s *Store) Acquire(ctx context.Context, key, owner string, ttl time.Duration) (store.Lease, error) {
	if err := codec.Lock("acquire lock", key, owner, ttl); err != nil {
		return store.Lease{}, err
	}
	var l store.Lease
	err := s.update(ctx, func(tx *bbolt.Tx) error {
		var err error
		l, err = acquireTx(tx, key, owner, ttl, s.now())
		return err
	})
	if err != nil {
		return store.Lease{}, fmt.Errorf("acquire lock: %w", err)
	}
	return l, nil
}

// acquireTx takes the lock of key for owner in tx, or returns
// store.ErrConflict.
func acquireTx(tx *bbolt.Tx, key, owner string, ttl time.Duration, now time.Time) (store.Lease, error) {
	locks, fences, k := tx.Bucket(bucketLocks), tx.Bucket(bucketFences), codec.Part(key)
	var cur lockState
	held, err := getLive(locks, k, now, &cur)
	if err != nil {
		return store.Lease{}, err
	}
	if held && cur.Owner != owner {
		return store.Lease{}, store.ErrConflict
	}
	var fence uint64 = 1
	if v := fences.Get([]byte(k)); len(v) == 8 {
		fence = binary.BigEndian.Uint64(v) + 1
	}
	if err := fences.Put([]byte(k), binary.BigEndian.AppendUint64(nil, fence)); err != nil {
		return store.Lease{}, err
	}
	l := store.Lease{Key: key, Owner: owner, Fence: fence, Expiry: addSat(now, ttl)}
	return l, putExpiring(locks, k, lockState{Owner: owner, Fence: fence}, l.Expiry)
}

// Extend implements store.Locks.
func (s *Store) Extend(ctx context.Context, l store.Lease, ttl time.Duration) (store.Lease, error) {
	if err := codec.TTL("extend lock", ttl); err != nil {
		return store.Lease{}, err
	}
	if err := s.ifCurrent(ctx, "extend lock", l, func(b *bbolt.Bucket, now time.Time) error {
		l.Expiry = addSat(now, ttl)
		return putExpiring(b, codec.Part(l.Key), lockState{Owner: l.Owner, Fence: l.Fence}, l.Expiry)
	}); err != nil {
		return store.Lease{}, err
	}
	return l, nil
}

// Release implements store.Locks. The fence counter is kept.
func (s *Store) Release(ctx context.Context, l store.Lease) error {
	return s.ifCurrent(ctx, "release lock", l, func(b *bbolt.Bucket, _ time.Time) error {
		return b.Delete([]byte(codec.Part(l.Key)))
	})
}

// Validate implements store.Locks.
func (s *Store) Validate(ctx context.Context, l store.Lease) error {
	if err := codec.Lease("validate lock", l); err != nil {
		return err
	}
	err := s.view(ctx, func(tx *bbolt.Tx) error {
		return current(tx.Bucket(bucketLocks), l, s.now())
	})
	if err != nil {
		return fmt.Errorf("validate lock: %w", err)
	}
	return nil
}

// ifCurrent runs fn in a write transaction if l is the current lease of
// its key, and returns store.ErrStaleFence otherwise.
func (s *Store) ifCurrent(ctx context.Context, op string, l store.Lease, fn func(b *bbolt.Bucket, now time.Time) error) error {
	if err := codec.Lease(op, l); err != nil {
		return err
	}
	// A stale lease is an answer found before anything is written: it is
	// returned after the commit (as store.ErrStaleFence), so that a burst
	// of extensions and releases shares one (hotDurable) whatever the
	// answers.
	var stale error
	err := s.hotDurable(ctx, func(tx *bbolt.Tx) error {
		b, now := tx.Bucket(bucketLocks), s.now()
		var err error
		if stale, err = currentOrStale(b, l, now); stale != nil || err != nil {
			return err
		}
		return fn(b, now)
	})
	if err == nil {
		err = stale
	}
	if err != nil {
		return fmt.Errorf("%s: %w", op, err)
	}
	return nil
}

// currentOrStale is current for a transaction shared with other calls
// (hotDurable): a stale lease is an answer, returned apart as stale
// (nothing is written then, and the transaction goes on for the others),
// any other error fails the transaction.
func currentOrStale(b *bbolt.Bucket, l store.Lease, now time.Time) (stale, err error) {
	err = current(b, l, now)
	if errors.Is(err, store.ErrStaleFence) {
		return err, nil
	}
	return nil, err
}

func current(b *bbolt.Bucket, l store.Lease, now time.Time) error {
	var cur lockState
	held, err := getLive(b, codec.Part(l.Key), now, &cur)
	if err != nil {
		return err
	}
	if !held || cur.Owner != l.Owner || cur.Fence != l.Fence {
		return store.ErrStaleFence
	}
	return nil
}
