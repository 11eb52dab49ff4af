package bolt

import (
	"context"
	"encoding/json"
	"fmt"

	bbolt "go.etcd.io/bbolt"

	"github.com/secondme-bridge/secondme-bridge/store"
	"github.com/secondme-bridge/secondme-bridge/store/internal/codec"
)

var _ store.Rekeyer = (*Store)(nil)

// Rekey implements store.Rekeyer in one write transaction over the links,
// the pending links, the in-flight replies, the inbox entries and the
// workspace installs.
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
		if err := s.rekeyReplies(tx.Bucket(bucketReplies), &c); err != nil {
			return err
		}
		if err := rekeyEach(tx.Bucket(bucketInbox), &c, func(_, v []byte) ([]byte, codec.Rekeyed, error) {
			return codec.RekeyInbox(s.sealer, v)
		}); err != nil {
			return fmt.Errorf("inbox: %w", err)
		}
		if err := rekeyEach(tx.Bucket(bucketInstall), &c, func(k, v []byte) ([]byte, codec.Rekeyed, error) {
			return codec.RekeyInstall(s.sealer, string(k), v)
		}); err != nil {
			return fmt.Errorf("installs: %w", err)
		}
		return nil
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

// rekeyEach re-seals every record of b with reseal (a codec.Rekey
// function), the writes held until the walk is done.
func rekeyEach(b *bbolt.Bucket, c *store.RekeyCounts, reseal func(k, v []byte) ([]byte, codec.Rekeyed, error)) error {
	var rw []rewrite
	err := b.ForEach(func(k, v []byte) error {
		data, r, err := reseal(k, v)
		if err != nil {
			return err
		}
		if codec.Count(c, r); data != nil {
			rw = append(rw, rewrite{append([]byte(nil), k...), data})
		}
		return nil
	})
	if err != nil {
		return err
	}
	return putAll(b, rw)
}

func (s *Store) rekeyLinks(b *bbolt.Bucket, c *store.RekeyCounts) error {
	err := rekeyEach(b, c, func(k, v []byte) ([]byte, codec.Rekeyed, error) {
		return codec.RekeyLink(s.sealer, string(k), v)
	})
	if err != nil {
		return fmt.Errorf("links: %w", err)
	}
	return nil
}

func (s *Store) rekeyStates(b *bbolt.Bucket, c *store.RekeyCounts) error {
	now := s.now()
	err := rekeyEach(b, c, func(_, v []byte) ([]byte, codec.Rekeyed, error) {
		var e entry
		if err := json.Unmarshal(v, &e); err != nil {
			return nil, 0, fmt.Errorf("decode entry: %w", err)
		}
		if expired(e.Exp, now) {
			return nil, codec.RekeySkipped, nil // the sweeper's
		}
		data, r, err := codec.RekeyState(s.sealer, e.V)
		if data == nil || err != nil {
			return nil, r, err
		}
		raw, err := json.Marshal(entry{Exp: e.Exp, V: data})
		return raw, r, err
	})
	if err != nil {
		return fmt.Errorf("states: %w", err)
	}
	return nil
}

func (s *Store) rekeyReplies(b *bbolt.Bucket, c *store.RekeyCounts) error {
	err := rekeyEach(b, c, func(_, v []byte) ([]byte, codec.Rekeyed, error) {
		return codec.RekeyReply(s.sealer, v)
	})
	if err != nil {
		return fmt.Errorf("replies: %w", err)
	}
	return nil
}
