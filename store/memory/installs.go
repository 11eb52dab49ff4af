package memory

import (
	"context"
	"time"

	"github.com/secondme-bridge/secondme-bridge/store"
	"github.com/secondme-bridge/secondme-bridge/store/internal/codec"
)

// GetInstall implements store.Installs.
func (s *Store) GetInstall(ctx context.Context, platform, workspace string) (store.Install, error) {
	var in store.Install
	err := s.do(ctx, "get install", func(d *Data, _ time.Time) error {
		data, ok := d.installs[codec.InstallKey(platform, workspace)]
		if !ok {
			return store.ErrNotFound
		}
		var err error
		in, err = codec.DecodeInstall(s.sealer, platform, workspace, data)
		return err
	})
	return in, err
}

// PutInstall implements store.Installs; the tokens are sealed.
func (s *Store) PutInstall(ctx context.Context, in store.Install) error {
	return s.do(ctx, "put install", func(d *Data, _ time.Time) error {
		data, err := codec.EncodeInstall(s.sealer, in)
		if err == nil {
			d.installs[codec.InstallKey(in.Platform, in.Workspace)] = data
		}
		return err
	})
}

// DeleteInstall implements store.Installs.
func (s *Store) DeleteInstall(ctx context.Context, platform, workspace string) error {
	return s.do(ctx, "delete install", func(d *Data, _ time.Time) error {
		k := codec.InstallKey(platform, workspace)
		if _, ok := d.installs[k]; !ok {
			return store.ErrNotFound
		}
		delete(d.installs, k)
		return nil
	})
}
