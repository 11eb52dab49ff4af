package redis

import (
	"context"
	"errors"
	"fmt"

	goredis "github.com/redis/go-redis/v9"

	"github.com/secondme-bridge/secondme-bridge/store"
	"github.com/secondme-bridge/secondme-bridge/store/internal/codec"
)

// Installs returns the install aggregate.
func (s *Store) Installs() store.Installs { return s }

// GetInstall implements store.Installs.
func (s *Store) GetInstall(ctx context.Context, platform, workspace string) (store.Install, error) {
	if err := s.check(); err != nil {
		return store.Install{}, fmt.Errorf("get install: %w", err)
	}
	data, err := s.c.Get(ctx, s.k.install(platform, workspace)).Bytes()
	if errors.Is(err, goredis.Nil) {
		return store.Install{}, fmt.Errorf("get install: %w", store.ErrNotFound)
	}
	if err != nil {
		return store.Install{}, s.wrap("get install", err)
	}
	in, err := codec.DecodeInstall(s.sealer, platform, workspace, data)
	if err != nil {
		return store.Install{}, fmt.Errorf("get install: %w", err)
	}
	return in, nil
}

// PutInstall implements store.Installs; the tokens are sealed.
func (s *Store) PutInstall(ctx context.Context, in store.Install) error {
	if err := s.check(); err != nil {
		return fmt.Errorf("put install: %w", err)
	}
	data, err := codec.EncodeInstall(s.sealer, in)
	if err != nil {
		return fmt.Errorf("put install: %w", err)
	}
	return s.wrap("put install", s.c.Set(ctx, s.k.install(in.Platform, in.Workspace), data, 0).Err())
}

// DeleteInstall implements store.Installs.
func (s *Store) DeleteInstall(ctx context.Context, platform, workspace string) error {
	if err := s.check(); err != nil {
		return fmt.Errorf("delete install: %w", err)
	}
	n, err := s.c.Del(ctx, s.k.install(platform, workspace)).Result()
	if err != nil {
		return s.wrap("delete install", err)
	}
	if n == 0 {
		return fmt.Errorf("delete install: %w", store.ErrNotFound)
	}
	return nil
}
