package memory

import (
	"context"
	"time"

	"github.com/secondme-bridge/secondme-bridge/store"
	"github.com/secondme-bridge/secondme-bridge/store/internal/codec"
)

// lockState is a held lock.
type lockState struct {
	owner string
	fence uint64
}

// Acquire implements store.Locks.
func (s *Store) Acquire(ctx context.Context, key, owner string, ttl time.Duration) (store.Lease, error) {
	if err := codec.Lock("acquire lock", key, owner, ttl); err != nil {
		return store.Lease{}, err
	}
	var l store.Lease
	err := s.do(ctx, "acquire lock", func(d *Data, now time.Time) error {
		var err error
		l, err = d.acquire(key, owner, ttl, now)
		return err
	})
	return l, err
}

// acquire takes the lock of key for owner, or returns store.ErrConflict.
func (d *Data) acquire(key, owner string, ttl time.Duration, now time.Time) (store.Lease, error) {
	if cur, held := getLive(d.locks, key, now); held && cur.owner != owner {
		return store.Lease{}, store.ErrConflict
	}
	d.fences[key]++
	l := store.Lease{Key: key, Owner: owner, Fence: d.fences[key], Expiry: now.Add(ttl)}
	d.locks[key] = item[lockState]{v: lockState{owner: owner, fence: l.Fence}, exp: l.Expiry}
	return l, nil
}

// Extend implements store.Locks.
func (s *Store) Extend(ctx context.Context, l store.Lease, ttl time.Duration) (store.Lease, error) {
	if err := codec.TTL("extend lock", ttl); err != nil {
		return store.Lease{}, err
	}
	err := s.ifCurrent(ctx, "extend lock", l, func(d *Data, now time.Time) {
		l.Expiry = now.Add(ttl)
		d.locks[l.Key] = item[lockState]{v: lockState{owner: l.Owner, fence: l.Fence}, exp: l.Expiry}
	})
	if err != nil {
		return store.Lease{}, err
	}
	return l, nil
}

// Release implements store.Locks. The fence counter is kept.
func (s *Store) Release(ctx context.Context, l store.Lease) error {
	return s.ifCurrent(ctx, "release lock", l, func(d *Data, _ time.Time) { delete(d.locks, l.Key) })
}

// Validate implements store.Locks.
func (s *Store) Validate(ctx context.Context, l store.Lease) error {
	return s.ifCurrent(ctx, "validate lock", l, func(*Data, time.Time) {})
}

// ifCurrent runs fn if l is the current lease of its key, and returns
// store.ErrStaleFence otherwise.
func (s *Store) ifCurrent(ctx context.Context, op string, l store.Lease, fn func(d *Data, now time.Time)) error {
	if err := codec.Lease(op, l); err != nil {
		return err
	}
	return s.do(ctx, op, func(d *Data, now time.Time) error {
		if err := d.current(l, now); err != nil {
			return err
		}
		fn(d, now)
		return nil
	})
}

func (d *Data) current(l store.Lease, now time.Time) error {
	cur, held := getLive(d.locks, l.Key, now)
	if !held || cur.owner != l.Owner || cur.fence != l.Fence {
		return store.ErrStaleFence
	}
	return nil
}
