package bolt

import (
	"context"
	"encoding/json"
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
	data, err := codec.EncodeState(s.sealer, p)
	if err != nil {
		return fmt.Errorf("put state: %w", err)
	}
	err = s.update(ctx, func(tx *bbolt.Tx) error {
		b, now := tx.Bucket(bucketStates), s.now()
		// The id is a secret: only its keyed hash is stored.
		for _, k := range s.sealer.HashIDs(id) {
			if ok, err := getLive(b, k, now, nil); err != nil || ok {
				if ok {
					return store.ErrConflict
				}
				return err
			}
		}
		return putExpiring(b, s.sealer.HashID(id), json.RawMessage(data), addSat(now, ttl))
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
		raw   json.RawMessage
		found bool
		name  string
	)
	err := s.update(ctx, func(tx *bbolt.Tx) error {
		b := tx.Bucket(bucketStates)
		for _, k := range s.sealer.HashIDs(id) {
			if b.Get([]byte(k)) == nil {
				continue
			}
			var err error
			if found, err = getLive(b, k, s.now(), &raw); err != nil {
				return err
			}
			name = k
			return b.Delete([]byte(k)) // an expired entry goes too
		}
		return nil
	})
	return s.foundState(ctx, "consume state", name, raw, found, err)
}

// GetState implements store.States: a read transaction, nothing consumed.
func (s *Store) GetState(ctx context.Context, id string) (store.PendingLink, error) {
	var (
		raw   json.RawMessage
		found bool
		name  string
	)
	err := s.view(ctx, func(tx *bbolt.Tx) error {
		b := tx.Bucket(bucketStates)
		for _, k := range s.sealer.HashIDs(id) {
			ok, err := getLive(b, k, s.now(), &raw)
			if err != nil || ok {
				found, name = ok, k
				return err
			}
		}
		return nil
	})
	return s.foundState(ctx, "get state", name, raw, found, err)
}

// foundState finishes a state lookup of op: the decoded state of the
// record name when found, ErrNotFound when not, err wrapped when the
// transaction failed.
func (s *Store) foundState(ctx context.Context, op, name string, raw json.RawMessage, found bool, err error) (store.PendingLink, error) {
	var p store.PendingLink
	if err == nil && found {
		p, err = s.decodeState(ctx, name, raw)
	}
	if err == nil && !found {
		err = store.ErrNotFound
	}
	if err != nil {
		return store.PendingLink{}, fmt.Errorf("%s: %w", op, err)
	}
	return p, nil
}

// decodeState decodes a stored pending link named name (a keyed hash); a
// handle no key opens is dropped and warned about once.
func (s *Store) decodeState(ctx context.Context, name string, raw []byte) (store.PendingLink, error) {
	return s.unreadable.State(ctx, s.sealer, name, raw)
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
	err := s.shortLived(ctx, func(tx *bbolt.Tx) error {
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
