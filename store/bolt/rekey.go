package bolt

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

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
		if err := s.rekeyEach(tx.Bucket(bucketLinks), "links", &c, func(k, v []byte) ([]byte, bool, error) {
			return codec.ResealLink(s.sealer, string(k), v)
		}); err != nil {
			return err
		}
		if err := s.rekeyEach(tx.Bucket(bucketStates), "states", &c, s.resealState(s.now())); err != nil {
			return err
		}
		if err := s.rekeyEach(tx.Bucket(bucketReplies), "replies", &c, func(_, v []byte) ([]byte, bool, error) {
			return codec.ResealReply(s.sealer, v)
		}); err != nil {
			return err
		}
		if err := s.rekeyEach(tx.Bucket(bucketInbox), "inbox", &c, func(_, v []byte) ([]byte, bool, error) {
			return codec.ResealInbox(s.sealer, v)
		}); err != nil {
			return err
		}
		return s.rekeyEach(tx.Bucket(bucketInstall), "installs", &c, func(k, v []byte) ([]byte, bool, error) {
			return codec.ResealInstall(s.sealer, string(k), v)
		})
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

// resealState is rekeyEach's re-sealer of a pending link (an entry with
// an expiry); an expired one is left to the sweeper (errSkip).
func (s *Store) resealState(now time.Time) func(k, v []byte) ([]byte, bool, error) {
	return func(_, v []byte) ([]byte, bool, error) {
		var e entry
		if err := json.Unmarshal(v, &e); err != nil {
			return nil, false, fmt.Errorf("decode entry: %w", err)
		}
		if expired(e.Exp, now) {
			return nil, false, errSkip
		}
		data, current, err := codec.ResealState(s.sealer, e.V)
		if err != nil || current {
			return nil, current, err
		}
		raw, err := json.Marshal(entry{Exp: e.Exp, V: data})
		return raw, false, err
	}
}

// errSkip tells rekeyEach to leave a record uncounted.
var errSkip = errors.New("skip")

// rekeyEach re-seals every record of b with reseal, which returns the
// record's new bytes, or current=true when there is nothing to do, or an
// error wrapping store.ErrUnseal when no configured key opens it (counted
// unreadable and left alone). what names the bucket in errors.
func (s *Store) rekeyEach(b *bbolt.Bucket, what string, c *store.RekeyCounts, reseal func(k, v []byte) ([]byte, bool, error)) error {
	var rw []rewrite
	err := b.ForEach(func(k, v []byte) error {
		data, current, err := reseal(k, v)
		switch {
		case errors.Is(err, errSkip):
			return nil
		case errors.Is(err, store.ErrUnseal):
			c.Unreadable++
			return nil
		case err != nil:
			return err
		case current:
			c.Current++
			return nil
		}
		rw = append(rw, rewrite{append([]byte(nil), k...), data})
		c.Resealed++
		return nil
	})
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	return putAll(b, rw)
}
