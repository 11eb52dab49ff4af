package redis

import (
	"context"
	"errors"
	"fmt"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/secondme-bridge/secondme-bridge/store"
	"github.com/secondme-bridge/secondme-bridge/store/internal/codec"
)

// PutState implements store.States with SET NX PX.
func (s *Store) PutState(ctx context.Context, id string, p store.PendingLink, ttl time.Duration) error {
	if err := s.check(); err != nil {
		return fmt.Errorf("put state: %w", err)
	}
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
	// The id is a secret: only its keyed hash is stored. An id hashed
	// under a previous key is only found again, never created.
	hashes := s.sealer.HashIDs(id)
	for _, h := range hashes[1:] {
		n, err := s.c.Exists(ctx, s.k.state(h)).Result()
		if err != nil {
			return s.wrap("put state", err)
		}
		if n > 0 {
			return fmt.Errorf("put state: %w", store.ErrConflict)
		}
	}
	ok, err := s.c.SetNX(ctx, s.k.state(hashes[0]), data, ttl).Result()
	if err != nil {
		return s.wrap("put state", err)
	}
	if !ok {
		return fmt.Errorf("put state: %w", store.ErrConflict)
	}
	return nil
}

// ConsumeState implements store.States with GETDEL (Redis ≥ 6.2).
func (s *Store) ConsumeState(ctx context.Context, id string) (store.PendingLink, error) {
	if err := s.check(); err != nil {
		return store.PendingLink{}, fmt.Errorf("consume state: %w", err)
	}
	for _, h := range s.sealer.HashIDs(id) {
		data, err := s.c.GetDel(ctx, s.k.state(h)).Bytes()
		if errors.Is(err, goredis.Nil) {
			continue
		}
		if err != nil {
			return store.PendingLink{}, s.wrap("consume state", err)
		}
		p, err := s.decodeState(ctx, h, data)
		if err != nil {
			return store.PendingLink{}, fmt.Errorf("consume state: %w", err)
		}
		return p, nil
	}
	return store.PendingLink{}, fmt.Errorf("consume state: %w", store.ErrNotFound)
}

// GetState implements store.States with GET: nothing is consumed.
func (s *Store) GetState(ctx context.Context, id string) (store.PendingLink, error) {
	if err := s.check(); err != nil {
		return store.PendingLink{}, fmt.Errorf("get state: %w", err)
	}
	for _, h := range s.sealer.HashIDs(id) {
		data, err := s.c.Get(ctx, s.k.state(h)).Bytes()
		if errors.Is(err, goredis.Nil) {
			continue
		}
		if err != nil {
			return store.PendingLink{}, s.wrap("get state", err)
		}
		p, err := s.decodeState(ctx, h, data)
		if err != nil {
			return store.PendingLink{}, fmt.Errorf("get state: %w", err)
		}
		return p, nil
	}
	return store.PendingLink{}, fmt.Errorf("get state: %w", store.ErrNotFound)
}

// decodeState decodes a stored pending link named h (a keyed hash); a
// handle no key opens is dropped and warned about once.
func (s *Store) decodeState(ctx context.Context, h string, data []byte) (store.PendingLink, error) {
	return s.unreadable.State(ctx, s.sealer, h, data)
}

// Claim implements store.Dedupe with SET NX PX.
func (s *Store) Claim(ctx context.Context, id string, ttl time.Duration) (bool, error) {
	if err := s.check(); err != nil {
		return false, fmt.Errorf("claim event: %w", err)
	}
	if err := codec.NonEmpty("claim event", "id", id); err != nil {
		return false, err
	}
	if err := codec.TTL("claim event", ttl); err != nil {
		return false, err
	}
	ok, err := s.c.SetNX(ctx, s.k.dedupe(id), "1", ttl).Result()
	if err != nil {
		return false, s.wrap("claim event", err)
	}
	return ok, nil
}
