package redis

import (
	"context"
	"encoding/json"
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
	data, err := json.Marshal(p)
	if err != nil {
		return fmt.Errorf("put state: %w", err)
	}
	ok, err := s.c.SetNX(ctx, s.k.state(id), data, ttl).Result()
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
	data, err := s.c.GetDel(ctx, s.k.state(id)).Bytes()
	if errors.Is(err, goredis.Nil) {
		return store.PendingLink{}, fmt.Errorf("consume state: %w", store.ErrNotFound)
	}
	if err != nil {
		return store.PendingLink{}, s.wrap("consume state", err)
	}
	var p store.PendingLink
	if err := json.Unmarshal(data, &p); err != nil {
		return store.PendingLink{}, fmt.Errorf("consume state: decode: %w", err)
	}
	return p, nil
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
