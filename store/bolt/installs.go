package bolt

import (
	"context"
	"fmt"

	bbolt "go.etcd.io/bbolt"

	"github.com/secondme-bridge/secondme-bridge/store"
	"github.com/secondme-bridge/secondme-bridge/store/internal/codec"
)

// Installs returns the install aggregate.
func (s *Store) Installs() store.Installs { return s }

// GetInstall implements store.Installs.
func (s *Store) GetInstall(ctx context.Context, platform, workspace string) (store.Install, error) {
	var in store.Install
	err := s.view(ctx, func(tx *bbolt.Tx) error {
		data := tx.Bucket(bucketInstall).Get([]byte(codec.InstallKey(platform, workspace)))
		if data == nil {
			return store.ErrNotFound
		}
		var err error
		in, err = codec.DecodeInstall(s.sealer, platform, workspace, data)
		return err
	})
	if err != nil {
		return store.Install{}, fmt.Errorf("get install: %w", err)
	}
	return in, nil
}

// PutInstall implements store.Installs; the tokens are sealed.
func (s *Store) PutInstall(ctx context.Context, in store.Install) error {
	data, err := codec.EncodeInstall(s.sealer, in)
	if err != nil {
		return fmt.Errorf("put install: %w", err)
	}
	err = s.update(ctx, func(tx *bbolt.Tx) error {
		return tx.Bucket(bucketInstall).Put([]byte(codec.InstallKey(in.Platform, in.Workspace)), data)
	})
	if err != nil {
		return fmt.Errorf("put install: %w", err)
	}
	return nil
}

// DeleteInstall implements store.Installs.
func (s *Store) DeleteInstall(ctx context.Context, platform, workspace string) error {
	err := s.update(ctx, func(tx *bbolt.Tx) error {
		b, k := tx.Bucket(bucketInstall), []byte(codec.InstallKey(platform, workspace))
		if b.Get(k) == nil {
			return store.ErrNotFound
		}
		return b.Delete(k)
	})
	if err != nil {
		return fmt.Errorf("delete install: %w", err)
	}
	return nil
}
