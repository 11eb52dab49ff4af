package bolt

import (
	"bytes"
	"cmp"
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	bbolt "go.etcd.io/bbolt"

	"github.com/secondme-bridge/secondme-bridge/store"
	"github.com/secondme-bridge/secondme-bridge/store/internal/codec"
)

// The inbox: bucketInbox maps conversation + 0x00 + Seq (big endian) to
// the codec.InboxRecord, so one conversation's entries are adjacent and in
// order; bucketInboxIDs maps an entry id to that key.

// Inbox returns the inbox aggregate.
func (s *Store) Inbox() store.Inbox { return inbox{s} }

type inbox struct{ s *Store }

var _ store.Inbox = inbox{}

func inboxPrefix(conv string) []byte { return append([]byte(conv), 0) }

// Enter implements store.Turns in one write transaction.
func (t turns) Enter(ctx context.Context, ids []string, claimTTL time.Duration, rateKey string, rate store.Limit, e store.InboxEntry, bound int) (store.Admission, error) {
	s := t.s
	ids, err := codec.Enter(ids, claimTTL, rate, e, bound)
	if err != nil {
		return store.Admission{}, err
	}
	rec, err := codec.EncodeInbox(s.sealer, e)
	if err != nil {
		return store.Admission{}, err
	}
	var a store.Admission
	err = s.hotDurable(ctx, func(tx *bbolt.Tx) error {
		a = store.Admission{Claimed: true}
		now := s.now()
		for _, id := range ids {
			won, err := claimTx(tx, id, claimTTL, now)
			if err != nil {
				return err
			}
			a.Claimed = a.Claimed && won
		}
		if !a.Claimed {
			return nil
		}
		var err error
		if a.Allowed, a.Wait, err = takeTx(tx, rateKey, rate, 1, now); err != nil || !a.Allowed {
			return err
		}
		ib, byID := tx.Bucket(bucketInbox), tx.Bucket(bucketInboxIDs)
		if byID.Get([]byte(rec.ID)) != nil {
			return fmt.Errorf("inbox entry %q already exists", rec.ID)
		}
		n, c, prefix := 0, ib.Cursor(), inboxPrefix(rec.Conv)
		for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Next() {
			n++
		}
		if n >= bound {
			a.Full = true
			return nil
		}
		if rec.Seq, err = ib.NextSequence(); err != nil {
			return err
		}
		return putInbox(ib, byID, rec)
	})
	if err != nil {
		return store.Admission{}, fmt.Errorf("enter turn: %w", err)
	}
	return a, nil
}

func putInbox(ib, ids *bbolt.Bucket, rec codec.InboxRecord) error {
	data, err := json.Marshal(rec)
	if err != nil {
		return err
	}
	key := binary.BigEndian.AppendUint64(inboxPrefix(rec.Conv), rec.Seq)
	if err := ib.Put(key, data); err != nil {
		return err
	}
	return ids.Put([]byte(rec.ID), key)
}

// removeInboxTx deletes the entry id; it reports whether there was one.
func removeInboxTx(tx *bbolt.Tx, id string) (bool, error) {
	ids := tx.Bucket(bucketInboxIDs)
	key := ids.Get([]byte(id))
	if key == nil {
		return false, nil
	}
	key = bytes.Clone(key)
	if err := tx.Bucket(bucketInbox).Delete(key); err != nil {
		return false, err
	}
	return true, ids.Delete([]byte(id))
}

// List implements store.Inbox.
func (i inbox) List(ctx context.Context) ([]store.InboxEntry, error) {
	var out []store.InboxEntry
	err := i.s.view(ctx, func(tx *bbolt.Tx) error {
		out = out[:0]
		return tx.Bucket(bucketInbox).ForEach(func(_, v []byte) error {
			e, err := codec.DecodeInbox(i.s.sealer, v)
			if err != nil {
				return err
			}
			out = append(out, e)
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("list inbox: %w", err)
	}
	slices.SortFunc(out, func(a, b store.InboxEntry) int { return cmp.Compare(a.Seq, b.Seq) })
	return out, nil
}

// Remove implements store.Inbox.
func (i inbox) Remove(ctx context.Context, id string) error {
	// A missing entry is an answer, not a failure of the shared commit
	// (hotDurable): nothing is written then.
	var missing bool
	err := i.s.hotDurable(ctx, func(tx *bbolt.Tx) error {
		ok, err := removeInboxTx(tx, id)
		missing = err == nil && !ok
		return err
	})
	if err == nil && missing {
		err = store.ErrNotFound
	}
	if err != nil {
		return fmt.Errorf("remove inbox entry: %w", err)
	}
	return nil
}

// Adopt implements store.Inbox in one write transaction.
func (i inbox) Adopt(ctx context.Context, from, to string) ([]store.InboxEntry, error) {
	if err := codec.NonEmpty("adopt inbox", "owner", to); err != nil {
		return nil, err
	}
	var out []store.InboxEntry
	err := i.s.update(ctx, func(tx *bbolt.Tx) error {
		out = out[:0]
		ib := tx.Bucket(bucketInbox)
		type kv struct{ k, v []byte }
		var moved []kv
		err := ib.ForEach(func(k, v []byte) error {
			var rec codec.InboxRecord
			if err := json.Unmarshal(v, &rec); err != nil {
				return fmt.Errorf("decode inbox entry: %w", err)
			}
			if rec.Owner != from {
				return nil
			}
			rec.Owner = to
			data, err := json.Marshal(rec)
			if err != nil {
				return err
			}
			moved = append(moved, kv{bytes.Clone(k), data})
			return nil
		})
		if err != nil {
			return err
		}
		for _, m := range moved {
			if err := ib.Put(m.k, m.v); err != nil {
				return err
			}
			e, err := codec.DecodeInbox(i.s.sealer, m.v)
			if err != nil {
				return err
			}
			out = append(out, e)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("adopt inbox: %w", err)
	}
	slices.SortFunc(out, func(a, b store.InboxEntry) int { return cmp.Compare(a.Seq, b.Seq) })
	return out, nil
}
