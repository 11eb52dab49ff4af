package memory

import (
	"context"
	"fmt"
	"time"

	"github.com/secondme-bridge/secondme-bridge/store"
	"github.com/secondme-bridge/secondme-bridge/store/internal/codec"
)

// PutState implements store.States. The id is a secret: only its keyed
// hash names the record.
func (s *Store) PutState(ctx context.Context, id string, p store.PendingLink, ttl time.Duration) error {
	if err := codec.Expiring("put state", "id", id, ttl); err != nil {
		return err
	}
	data, err := codec.EncodeState(s.sealer, p)
	if err != nil {
		return fmt.Errorf("put state: %w", err)
	}
	return s.do(ctx, "put state", func(d *Data, now time.Time) error {
		if name, _ := d.state(s.sealer, id, now); name != "" {
			return store.ErrConflict
		}
		d.states[s.sealer.HashID(id)] = item[[]byte]{v: data, exp: now.Add(ttl)}
		return nil
	})
}

// ConsumeState implements store.States.
func (s *Store) ConsumeState(ctx context.Context, id string) (store.PendingLink, error) {
	return s.readState(ctx, "consume state", id, true)
}

// GetState implements store.States: nothing is consumed.
func (s *Store) GetState(ctx context.Context, id string) (store.PendingLink, error) {
	return s.readState(ctx, "get state", id, false)
}

func (s *Store) readState(ctx context.Context, op, id string, consume bool) (store.PendingLink, error) {
	var (
		name string
		data []byte
	)
	err := s.do(ctx, op, func(d *Data, now time.Time) error {
		if name, data = d.state(s.sealer, id, now); name == "" {
			return store.ErrNotFound
		}
		if consume {
			delete(d.states, name)
		}
		return nil
	})
	if err != nil {
		return store.PendingLink{}, err
	}
	p, err := s.unreadable.State(ctx, s.sealer, name, data)
	if err != nil {
		return store.PendingLink{}, fmt.Errorf("%s: %w", op, err)
	}
	return p, nil
}

// state returns the live record of id and its name (under the hash of any
// configured key), or "" when there is none.
func (d *Data) state(sealer *store.Sealer, id string, now time.Time) (string, []byte) {
	for _, name := range sealer.HashIDs(id) {
		if data, ok := getLive(d.states, name, now); ok {
			return name, data
		}
	}
	return "", nil
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
