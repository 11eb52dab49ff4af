package bolt

import (
	"context"
	"fmt"
	"time"

	bbolt "go.etcd.io/bbolt"

	"github.com/secondme-bridge/secondme-bridge/store"
	"github.com/secondme-bridge/secondme-bridge/store/internal/codec"
)

// Liveness returns the liveness aggregate. Open empties it: bbolt locks
// the file, so a record found there is from a process that is gone.
func (s *Store) Liveness() store.Liveness { return liveness{s} }

type liveness struct{ s *Store }

var _ store.Liveness = liveness{}

// Beat implements store.Liveness.
func (l liveness) Beat(ctx context.Context, owner string, ttl time.Duration) error {
	if err := codec.Expiring("beat", "owner", owner, ttl); err != nil {
		return err
	}
	err := l.s.update(ctx, func(tx *bbolt.Tx) error {
		return putExpiring(tx.Bucket(bucketLiveness), codec.Part(owner), owner, addSat(l.s.now(), ttl))
	})
	if err != nil {
		return fmt.Errorf("beat: %w", err)
	}
	return nil
}

// Alive implements store.Liveness.
func (l liveness) Alive(ctx context.Context) ([]string, error) {
	var out []string
	err := l.s.view(ctx, func(tx *bbolt.Tx) error {
		out = out[:0]
		b, now := tx.Bucket(bucketLiveness), l.s.now()
		return b.ForEach(func(k, _ []byte) error {
			var owner string
			ok, err := getLive(b, string(k), now, &owner)
			if err != nil {
				return err
			}
			if ok {
				out = append(out, owner)
			}
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("list live owners: %w", err)
	}
	return out, nil
}

// Leave implements store.Liveness.
func (l liveness) Leave(ctx context.Context, owner string) error {
	err := l.s.update(ctx, func(tx *bbolt.Tx) error {
		return tx.Bucket(bucketLiveness).Delete([]byte(codec.Part(owner)))
	})
	if err != nil {
		return fmt.Errorf("leave: %w", err)
	}
	return nil
}

// Break implements store.Locks.
func (s *Store) Break(ctx context.Context, key, owner string) error {
	if err := codec.NonEmpty("break lock", "key", key); err != nil {
		return err
	}
	err := s.update(ctx, func(tx *bbolt.Tx) error {
		b, k := tx.Bucket(bucketLocks), codec.Part(key)
		var cur lockState
		held, err := getLive(b, k, s.now(), &cur)
		if err != nil {
			return err
		}
		if !held || cur.Owner != owner {
			return store.ErrNotFound
		}
		return b.Delete([]byte(k))
	})
	if err != nil {
		return fmt.Errorf("break lock: %w", err)
	}
	return nil
}
