package memory

import (
	"context"
	"slices"
	"time"

	"github.com/secondme-bridge/secondme-bridge/store"
	"github.com/secondme-bridge/secondme-bridge/store/internal/codec"
)

// PutReply implements store.Replies.
func (s *Store) PutReply(ctx context.Context, r store.InflightReply) error {
	if err := codec.NonEmpty("put reply", "id", r.ID); err != nil {
		return err
	}
	r.Refs = slices.Clone(r.Refs) // the caller keeps its slice
	return s.do(ctx, "put reply", func(d *Data, _ time.Time) error {
		d.replies[r.ID] = r
		return nil
	})
}

// DeleteReply implements store.Replies.
func (s *Store) DeleteReply(ctx context.Context, id string) error {
	return s.do(ctx, "delete reply", func(d *Data, _ time.Time) error {
		if _, ok := d.replies[id]; !ok {
			return store.ErrNotFound
		}
		delete(d.replies, id)
		return nil
	})
}

// ListReplies implements store.Replies.
func (s *Store) ListReplies(ctx context.Context, olderThan time.Time) ([]store.InflightReply, error) {
	var out []store.InflightReply
	err := s.do(ctx, "list replies", func(d *Data, _ time.Time) error {
		for _, r := range d.replies {
			if olderThan.IsZero() || r.UpdatedAt.Before(olderThan) {
				r.Refs = slices.Clone(r.Refs)
				out = append(out, r)
			}
		}
		return nil
	})
	return out, err
}
