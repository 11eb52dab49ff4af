package bolt

import (
	"context"
	"fmt"
	"time"

	bbolt "go.etcd.io/bbolt"

	"github.com/secondme-bridge/secondme-bridge/store"
	"github.com/secondme-bridge/secondme-bridge/store/internal/codec"
)

// PutState implements store.States.
func (s *Store) PutState(ctx context.Context, id string, p store.PendingLink, ttl time.Duration) error {
	if err := codec.NonEmpty("put state", "id", id); err != nil {
		return err
	}
	if err := codec.TTL("put state", ttl); err != nil {
		return err
	}
	err := s.update(ctx, func(tx *bbolt.Tx) error {
		b, k, now := tx.Bucket(bucketStates), codec.Part(id), s.now()
		if ok, err := getLive(b, k, now, nil); err != nil || ok {
			if ok {
				return store.ErrConflict
			}
			return err
		}
		return putExpiring(b, k, p, addSat(now, ttl))
	})
	if err != nil {
		return fmt.Errorf("put state: %w", err)
	}
	return nil
}

// ConsumeState implements store.States: the read and the delete are one
// write transaction, so exactly one caller gets the state.
func (s *Store) ConsumeState(ctx context.Context, id string) (store.PendingLink, error) {
	var (
		p     store.PendingLink
		found bool
	)
	err := s.update(ctx, func(tx *bbolt.Tx) error {
		b, k := tx.Bucket(bucketStates), codec.Part(id)
		var err error
		if found, err = getLive(b, k, s.now(), &p); err != nil {
			return err
		}
		return b.Delete([]byte(k)) // an expired entry goes too
	})
	if err == nil && !found {
		err = store.ErrNotFound
	}
	if err != nil {
		return store.PendingLink{}, fmt.Errorf("consume state: %w", err)
	}
	return p, nil
}

// Claim implements store.Dedupe.
func (s *Store) Claim(ctx context.Context, id string, ttl time.Duration) (bool, error) {
	if err := codec.NonEmpty("claim event", "id", id); err != nil {
		return false, err
	}
	if err := codec.TTL("claim event", ttl); err != nil {
		return false, err
	}
	won := false
	err := s.update(ctx, func(tx *bbolt.Tx) error {
		var err error
		won, err = claimTx(tx, id, ttl, s.now())
		return err
	})
	if err != nil {
		return false, fmt.Errorf("claim event: %w", err)
	}
	return won, nil
}

// claimTx claims id for ttl in tx and reports whether it was new.
func claimTx(tx *bbolt.Tx, id string, ttl time.Duration, now time.Time) (bool, error) {
	b, k := tx.Bucket(bucketDedupe), codec.Part(id)
	ok, err := getLive(b, k, now, nil)
	if err != nil || ok {
		return false, err
	}
	return true, putExpiring(b, k, true, addSat(now, ttl))
}
