package bolt

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	bbolt "go.etcd.io/bbolt"

	"github.com/secondme-bridge/secondme-bridge/store"
	"github.com/secondme-bridge/secondme-bridge/store/internal/codec"
)

var _ store.Rekeyer = (*Store)(nil)

// Rekey implements store.Rekeyer in one write transaction over the links,
// the pending links and the in-flight replies.
func (s *Store) Rekey(ctx context.Context) (store.RekeyCounts, error) {
	var c store.RekeyCounts
	err := s.update(ctx, func(tx *bbolt.Tx) error {
		c = store.RekeyCounts{}
		if err := s.rekeyLinks(tx.Bucket(bucketLinks), &c); err != nil {
			return err
		}
		if err := s.rekeyStates(tx.Bucket(bucketStates), &c); err != nil {
			return err
		}
		return s.rekeyReplies(tx.Bucket(bucketReplies), &c)
	})
	if err != nil {
		return store.RekeyCounts{}, fmt.Errorf("rekey bolt store: %w", err)
	}
	return c, nil
}

// rewrite is one record to put back after the walk (bbolt forbids writes
// to a bucket while ForEach walks it).
type rewrite struct{ k, v []byte }

func putAll(b *bbolt.Bucket, rw []rewrite) error {
	for _, r := range rw {
		if err := b.Put(r.k, r.v); err != nil {
			return err
		}
	}
	return nil
}

func (s *Store) rekeyLinks(b *bbolt.Bucket, c *store.RekeyCounts) error {
	var rw []rewrite
	err := b.ForEach(func(k, v []byte) error {
		key, err := codec.LinkKey(v)
		if err != nil {
			return err
		}
		if string(k) != codec.User(key) {
			c.Unreadable++ // copied under another user's name: it opens for no one
			return nil
		}
		current, err := codec.LinkCurrent(s.sealer, key, v)
		switch {
		case errors.Is(err, store.ErrUnseal):
			c.Unreadable++
			return nil
		case err != nil:
			return err
		case current:
			c.Current++
			return nil
		}
		l, err := codec.DecodeLink(s.sealer, key, v)
		if err != nil {
			return err
		}
		data, err := codec.EncodeLink(s.sealer, l)
		if err != nil {
			return err
		}
		rw = append(rw, rewrite{append([]byte(nil), k...), data})
		c.Resealed++
		return nil
	})
	if err != nil {
		return fmt.Errorf("links: %w", err)
	}
	return putAll(b, rw)
}

func (s *Store) rekeyStates(b *bbolt.Bucket, c *store.RekeyCounts) error {
	var rw []rewrite
	now := s.now()
	err := b.ForEach(func(k, v []byte) error {
		var e entry
		if err := json.Unmarshal(v, &e); err != nil {
			return fmt.Errorf("decode entry: %w", err)
		}
		if expired(e.Exp, now) {
			return nil // the sweeper's
		}
		p, current, err := codec.DecodeState(s.sealer, e.V)
		switch {
		case errors.Is(err, store.ErrUnseal):
			c.Unreadable++
			return nil
		case err != nil:
			return err
		case current:
			c.Current++
			return nil
		}
		data, err := codec.EncodeState(s.sealer, p)
		if err != nil {
			return err
		}
		raw, err := json.Marshal(entry{Exp: e.Exp, V: data})
		if err != nil {
			return err
		}
		rw = append(rw, rewrite{append([]byte(nil), k...), raw})
		c.Resealed++
		return nil
	})
	if err != nil {
		return fmt.Errorf("states: %w", err)
	}
	return putAll(b, rw)
}

func (s *Store) rekeyReplies(b *bbolt.Bucket, c *store.RekeyCounts) error {
	var rw []rewrite
	err := b.ForEach(func(k, v []byte) error {
		r, current, err := codec.DecodeReply(s.sealer, v)
		switch {
		case errors.Is(err, store.ErrUnseal):
			c.Unreadable++
			return nil
		case err != nil:
			return err
		case current:
			c.Current++
			return nil
		}
		data, err := codec.EncodeReply(s.sealer, r)
		if err != nil {
			return err
		}
		rw = append(rw, rewrite{append([]byte(nil), k...), data})
		c.Resealed++
		return nil
	})
	if err != nil {
		return fmt.Errorf("replies: %w", err)
	}
	return putAll(b, rw)
}
