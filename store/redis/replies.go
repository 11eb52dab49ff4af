package redis

import (
	"context"
	"fmt"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/secondme-bridge/secondme-bridge/store"
	"github.com/secondme-bridge/secondme-bridge/store/internal/codec"
)

// PutReply implements store.Replies: one field of the replies hash.
func (s *Store) PutReply(ctx context.Context, r store.InflightReply) error {
	if err := s.check(); err != nil {
		return fmt.Errorf("put reply: %w", err)
	}
	if err := codec.NonEmpty("put reply", "id", r.ID); err != nil {
		return err
	}
	data, err := codec.EncodeReply(s.sealer, r)
	if err != nil {
		return fmt.Errorf("put reply: %w", err)
	}
	return s.wrap("put reply", s.pipe.run(ctx, goredis.NewIntCmd(ctx, "hset", s.k.replies(), r.ID, data)))
}

// DeleteReply implements store.Replies.
func (s *Store) DeleteReply(ctx context.Context, id string) error {
	if err := s.check(); err != nil {
		return fmt.Errorf("delete reply: %w", err)
	}
	cmd := goredis.NewIntCmd(ctx, "hdel", s.k.replies(), id)
	if err := s.pipe.run(ctx, cmd); err != nil {
		return s.wrap("delete reply", err)
	}
	n := cmd.Val()
	if n == 0 {
		return fmt.Errorf("delete reply: %w", store.ErrNotFound)
	}
	return nil
}

// ListReplies implements store.Replies with HGETALL; in-flight replies are
// few (one per live stream).
func (s *Store) ListReplies(ctx context.Context, olderThan time.Time) ([]store.InflightReply, error) {
	if err := s.check(); err != nil {
		return nil, fmt.Errorf("list replies: %w", err)
	}
	all, err := s.c.HGetAll(ctx, s.k.replies()).Result()
	if err != nil {
		return nil, s.wrap("list replies", err)
	}
	var out []store.InflightReply
	for k, v := range all {
		r, err := s.unreadable.Reply(ctx, s.sealer, k, []byte(v))
		if err != nil {
			return nil, fmt.Errorf("list replies: %w", err)
		}
		if olderThan.IsZero() || r.UpdatedAt.Before(olderThan) {
			out = append(out, r)
		}
	}
	return out, nil
}
