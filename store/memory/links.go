package memory

import (
	"context"
	"time"

	"github.com/secondme-bridge/secondme-bridge/store"
	"github.com/secondme-bridge/secondme-bridge/store/internal/codec"
)

// GetLink implements store.Links.
func (s *Store) GetLink(ctx context.Context, key store.UserKey) (store.Link, error) {
	var l store.Link
	err := s.do(ctx, "get link", func(d *Data, _ time.Time) error {
		return s.getLink(d, &l, key)
	})
	return l, err
}

// PutLink implements store.Links. The tokens are sealed before they are
// kept.
func (s *Store) PutLink(ctx context.Context, link store.Link) error {
	return s.do(ctx, "put link", func(d *Data, _ time.Time) error {
		data, err := codec.EncodeLink(s.sealer, link)
		if err == nil {
			d.links[link.Key] = data
		}
		return err
	})
}

// UpdateLink implements store.Links: fn is called once, with the Data
// locked; it must not call the store.
func (s *Store) UpdateLink(ctx context.Context, key store.UserKey, fn func(store.Link) (store.Link, error)) (store.Link, error) {
	var (
		out   store.Link
		fnErr error
	)
	err := s.do(ctx, "update link", func(d *Data, _ time.Time) error {
		var old store.Link
		if err := s.getLink(d, &old, key); err != nil {
			return err
		}
		if out, fnErr = fn(old); fnErr != nil {
			return nil
		}
		out.Key = key
		data, err := codec.EncodeLink(s.sealer, out)
		if err == nil {
			d.links[key] = data
		}
		return err
	})
	switch {
	case fnErr != nil:
		return store.Link{}, fnErr
	case err != nil:
		return store.Link{}, err
	}
	return out, nil
}

// DeleteLink implements store.Links.
func (s *Store) DeleteLink(ctx context.Context, key store.UserKey) error {
	return s.do(ctx, "delete link", func(d *Data, _ time.Time) error {
		if _, ok := d.links[key]; !ok {
			return store.ErrNotFound
		}
		delete(d.links, key)
		return nil
	})
}

// getLink reads the link of key. A link that no configured key opens is
// reported absent (an error wrapping both store.ErrNotFound and
// store.ErrUnseal) and warned about once.
func (s *Store) getLink(d *Data, l *store.Link, key store.UserKey) error {
	data, ok := d.links[key]
	if !ok {
		*l = store.Link{}
		return store.ErrNotFound
	}
	return s.unreadable.Link(context.Background(), l, s.sealer, key, data)
}
