package redis

import (
	"context"
	"errors"
	"fmt"

	goredis "github.com/redis/go-redis/v9"

	"github.com/secondme-bridge/secondme-bridge/store"
	"github.com/secondme-bridge/secondme-bridge/store/internal/codec"
)

// maxUpdateAttempts bounds UpdateLink's optimistic retries.
const maxUpdateAttempts = 100

// GetLink implements store.Links.
func (s *Store) GetLink(ctx context.Context, key store.UserKey) (store.Link, error) {
	if err := s.check(); err != nil {
		return store.Link{}, fmt.Errorf("get link: %w", err)
	}
	data, err := s.c.Get(ctx, s.k.link(key)).Bytes()
	if errors.Is(err, goredis.Nil) {
		return store.Link{}, fmt.Errorf("get link: %w", store.ErrNotFound)
	}
	if err != nil {
		return store.Link{}, s.wrap("get link", err)
	}
	var l store.Link
	if err := s.decodeLink(ctx, &l, key, data); err != nil {
		return store.Link{}, fmt.Errorf("get link: %w", err)
	}
	return l, nil
}

// decodeLink decodes a stored link into *l. A link that no configured key
// opens is reported absent (an error wrapping both store.ErrNotFound and
// store.ErrUnseal) and warned about once.
func (s *Store) decodeLink(ctx context.Context, l *store.Link, key store.UserKey, data []byte) error {
	return s.unreadable.Link(ctx, l, s.sealer, key, data)
}

// PutLink implements store.Links. The tokens are sealed before writing.
func (s *Store) PutLink(ctx context.Context, link store.Link) error {
	if err := s.check(); err != nil {
		return fmt.Errorf("put link: %w", err)
	}
	data, err := codec.EncodeLink(s.sealer, link)
	if err != nil {
		return fmt.Errorf("put link: %w", err)
	}
	return s.wrap("put link", s.c.Set(ctx, s.k.link(link.Key), data, 0).Err())
}

// UpdateLink implements store.Links with WATCH/MULTI: fn runs again when
// another writer changed the link between the read and the write. After
// maxUpdateAttempts lost races it gives up with store.ErrConflict.
func (s *Store) UpdateLink(ctx context.Context, key store.UserKey, fn func(store.Link) (store.Link, error)) (store.Link, error) {
	if err := s.check(); err != nil {
		return store.Link{}, fmt.Errorf("update link: %w", err)
	}
	k := s.k.link(key)
	var (
		out   store.Link
		fnErr error
	)
	txf := func(tx *goredis.Tx) error {
		data, err := tx.Get(ctx, k).Bytes()
		if errors.Is(err, goredis.Nil) {
			return store.ErrNotFound
		}
		if err != nil {
			return err
		}
		var old store.Link
		err = s.decodeLink(ctx, &old, key, data)
		if err != nil {
			return err
		}
		if out, fnErr = fn(old); fnErr != nil {
			return fnErr
		}
		out.Key = key
		enc, err := codec.EncodeLink(s.sealer, out)
		if err != nil {
			return err
		}
		_, err = tx.TxPipelined(ctx, func(p goredis.Pipeliner) error {
			return p.Set(ctx, k, enc, 0).Err()
		})
		return err
	}
	for range maxUpdateAttempts {
		err := s.c.Watch(ctx, txf, k)
		switch {
		case fnErr != nil:
			return store.Link{}, fnErr
		case errors.Is(err, goredis.TxFailedErr):
			continue
		case errors.Is(err, store.ErrNotFound):
			return store.Link{}, fmt.Errorf("update link: %w", err)
		case err != nil:
			return store.Link{}, s.wrap("update link", err)
		}
		return out, nil
	}
	return store.Link{}, fmt.Errorf("update link: %d attempts lost to concurrent writers: %w", maxUpdateAttempts, store.ErrConflict)
}

// DeleteLink implements store.Links.
func (s *Store) DeleteLink(ctx context.Context, key store.UserKey) error {
	if err := s.check(); err != nil {
		return fmt.Errorf("delete link: %w", err)
	}
	n, err := s.c.Del(ctx, s.k.link(key)).Result()
	if err != nil {
		return s.wrap("delete link", err)
	}
	if n == 0 {
		return fmt.Errorf("delete link: %w", store.ErrNotFound)
	}
	return nil
}
