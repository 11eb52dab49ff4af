package memory

import (
	"context"
	"time"

	"github.com/secondme-bridge/secondme-bridge/store"
	"github.com/secondme-bridge/secondme-bridge/store/internal/codec"
)

// PutReply implements store.Replies; the refs' handles are sealed.
func (s *Store) PutReply(ctx context.Context, r store.InflightReply) error {
	if err := codec.NonEmpty("put reply", "id", r.ID); err != nil {
		return err
	}
	data, err := codec.EncodeReply(s.sealer, r)
	if err != nil {
		return err
	}
	return s.do(ctx, "put reply", func(d *Data, _ time.Time) error {
		d.replies[r.ID] = data
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

// ListReplies implements store.Replies. A reply whose handles no key opens
// is listed without them, and warned about once.
func (s *Store) ListReplies(ctx context.Context, olderThan time.Time) ([]store.InflightReply, error) {
	var out []store.InflightReply
	err := s.do(ctx, "list replies", func(d *Data, _ time.Time) error {
		for id, data := range d.replies {
			r, err := s.unreadable.Reply(ctx, s.sealer, id, data)
			if err != nil {
				return err
			}
			if olderThan.IsZero() || r.UpdatedAt.Before(olderThan) {
				out = append(out, r)
			}
		}
		return nil
	})
	return out, err
}
