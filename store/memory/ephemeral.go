package memory

import (
	"context"
	"time"

	"github.com/secondme-bridge/secondme-bridge/store"
	"github.com/secondme-bridge/secondme-bridge/store/internal/codec"
)

// PutState implements store.States.
func (s *Store) PutState(ctx context.Context, id string, p store.PendingLink, ttl time.Duration) error {
	if err := codec.Expiring("put state", "id", id, ttl); err != nil {
		return err
	}
	return s.do(ctx, "put state", func(d *Data, now time.Time) error {
		if _, ok := getLive(d.states, id, now); ok {
			return store.ErrConflict
		}
		d.states[id] = item[store.PendingLink]{v: p, exp: now.Add(ttl)}
		return nil
	})
}

// ConsumeState implements store.States.
func (s *Store) ConsumeState(ctx context.Context, id string) (store.PendingLink, error) {
	var p store.PendingLink
	err := s.do(ctx, "consume state", func(d *Data, now time.Time) error {
		var ok bool
		p, ok = getLive(d.states, id, now)
		delete(d.states, id) // an expired entry goes too
		if !ok {
			return store.ErrNotFound
		}
		return nil
	})
	return p, err
}

// Claim implements store.Dedupe.
func (s *Store) Claim(ctx context.Context, id string, ttl time.Duration) (bool, error) {
	if err := codec.Expiring("claim event", "id", id, ttl); err != nil {
		return false, err
	}
	won := false
	err := s.do(ctx, "claim event", func(d *Data, now time.Time) error {
		won = d.claim(id, ttl, now)
		return nil
	})
	return won, err
}

// claim claims id for ttl and reports whether it was new.
func (d *Data) claim(id string, ttl time.Duration, now time.Time) bool {
	if exp, ok := d.dedupe[id]; ok && now.Before(exp) {
		return false
	}
	d.dedupe[id] = now.Add(ttl)
	return true
}
