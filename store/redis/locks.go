package redis

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/secondme-bridge/secondme-bridge/store"
	"github.com/secondme-bridge/secondme-bridge/store/internal/codec"
)

// Acquire implements store.Locks with acquireScript. Lease.Expiry is the
// local time before the call plus ttl: never later than the server's.
func (s *Store) Acquire(ctx context.Context, key, owner string, ttl time.Duration) (store.Lease, error) {
	if err := s.check(); err != nil {
		return store.Lease{}, fmt.Errorf("acquire lock: %w", err)
	}
	if err := codec.Lock("acquire lock", key, owner, ttl); err != nil {
		return store.Lease{}, err
	}
	start := time.Now()
	fence, err := acquireScript.Run(ctx, s.c, []string{s.k.lock(key), s.k.fence(key)}, owner, ms(ttl)).Int64()
	if err != nil {
		return store.Lease{}, s.wrap("acquire lock", err)
	}
	if fence <= 0 {
		return store.Lease{}, fmt.Errorf("acquire lock: %w", store.ErrConflict)
	}
	return store.Lease{Key: key, Owner: owner, Fence: uint64(fence), Expiry: start.Add(ttl)}, nil
}

// Extend implements store.Locks.
func (s *Store) Extend(ctx context.Context, l store.Lease, ttl time.Duration) (store.Lease, error) {
	start := time.Now()
	if err := s.lease(ctx, "extend lock", l, "extend", ttl); err != nil {
		return store.Lease{}, err
	}
	l.Expiry = start.Add(ttl)
	return l, nil
}

// Release implements store.Locks. The fence counter is kept.
func (s *Store) Release(ctx context.Context, l store.Lease) error {
	return s.lease(ctx, "release lock", l, "release", 0)
}

// Validate implements store.Locks.
func (s *Store) Validate(ctx context.Context, l store.Lease) error {
	return s.lease(ctx, "validate lock", l, "validate", 0)
}

// lease runs leaseScript for op in mode (validate, extend to ttl or
// release); a lease that is not current is store.ErrStaleFence.
func (s *Store) lease(ctx context.Context, op string, l store.Lease, mode string, ttl time.Duration) error {
	if err := s.check(); err != nil {
		return fmt.Errorf("%s: %w", op, err)
	}
	if mode == "extend" {
		if err := codec.TTL(op, ttl); err != nil {
			return err
		}
	}
	if err := codec.Lease(op, l); err != nil {
		return err
	}
	ok, err := s.pipe.script(ctx, leaseScript, []string{s.k.lock(l.Key)},
		l.Owner, strconv.FormatUint(l.Fence, 10), mode, ms(ttl)).Int()
	if err != nil {
		return s.wrap(op, err)
	}
	if ok != 1 {
		return fmt.Errorf("%s: %w", op, store.ErrStaleFence)
	}
	return nil
}
