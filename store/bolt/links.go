package bolt

import (
	"context"
	"fmt"

	bbolt "go.etcd.io/bbolt"

	"github.com/secondme-bridge/secondme-bridge/store"
	"github.com/secondme-bridge/secondme-bridge/store/internal/codec"
)

// GetLink implements store.Links.
func (s *Store) GetLink(ctx context.Context, key store.UserKey) (store.Link, error) {
	var l store.Link
	err := s.view(ctx, func(tx *bbolt.Tx) error {
		return s.getLink(tx, &l, key)
	})
	if err != nil {
		return store.Link{}, fmt.Errorf("get link: %w", err)
	}
	return l, nil
}

// PutLink implements store.Links. The tokens are sealed before writing.
func (s *Store) PutLink(ctx context.Context, link store.Link) error {
	data, err := codec.EncodeLink(s.sealer, link)
	if err != nil {
		return fmt.Errorf("put link: %w", err)
	}
	err = s.update(ctx, func(tx *bbolt.Tx) error {
		return tx.Bucket(bucketLinks).Put([]byte(codec.User(link.Key)), data)
	})
	if err != nil {
		return fmt.Errorf("put link: %w", err)
	}
	return nil
}

// UpdateLink implements store.Links in one write transaction, so fn is
// called exactly once. fn runs while the store's write lock is held: it
// must not call the store.
func (s *Store) UpdateLink(ctx context.Context, key store.UserKey, fn func(store.Link) (store.Link, error)) (store.Link, error) {
	var (
		out   store.Link
		fnErr error
	)
	err := s.update(ctx, func(tx *bbolt.Tx) error {
		var old store.Link
		if err := s.getLink(tx, &old, key); err != nil {
			return err
		}
		out, fnErr = fn(old)
		if fnErr != nil {
			return fnErr
		}
		out.Key = key
		data, err := codec.EncodeLink(s.sealer, out)
		if err != nil {
			return err
		}
		return tx.Bucket(bucketLinks).Put([]byte(codec.User(key)), data)
	})
	if fnErr != nil {
		return store.Link{}, fnErr
	}
	if err != nil {
		return store.Link{}, fmt.Errorf("update link: %w", err)
	}
	return out, nil
}

// DeleteLink implements store.Links.
func (s *Store) DeleteLink(ctx context.Context, key store.UserKey) error {
	err := s.update(ctx, func(tx *bbolt.Tx) error {
		b, k := tx.Bucket(bucketLinks), []byte(codec.User(key))
		if b.Get(k) == nil {
			return store.ErrNotFound
		}
		return b.Delete(k)
	})
	if err != nil {
		return fmt.Errorf("delete link: %w", err)
	}
	return nil
}

// getLink reads the link of key. A link that no configured key opens is
// reported absent (an error wrapping both store.ErrNotFound and
// store.ErrUnseal) and warned about once.
func (s *Store) getLink(tx *bbolt.Tx, l *store.Link, key store.UserKey) error {
	data := tx.Bucket(bucketLinks).Get([]byte(codec.User(key)))
	if data == nil {
		*l = store.Link{}
		return store.ErrNotFound
	}
	return s.unreadable.Link(context.Background(), l, s.sealer, key, data)
}
