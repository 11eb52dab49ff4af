package redis

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/secondme-bridge/secondme-bridge/store"
	"github.com/secondme-bridge/secondme-bridge/store/internal/codec"
)

// deleteBatch bounds the keys passed to one deleteConvsScript call.
const deleteBatch = 256

// GetConversation implements store.Conversations.
func (s *Store) GetConversation(ctx context.Context, key store.ConversationKey) (store.Conversation, error) {
	if err := s.check(); err != nil {
		return store.Conversation{}, fmt.Errorf("get conversation: %w", err)
	}
	data, err := s.c.Get(ctx, s.k.conv(key)).Bytes()
	if errors.Is(err, goredis.Nil) {
		return store.Conversation{}, fmt.Errorf("get conversation: %w", store.ErrNotFound)
	}
	if err != nil {
		return store.Conversation{}, s.wrap("get conversation", err)
	}
	var c store.Conversation
	if err := json.Unmarshal(data, &c); err != nil {
		return store.Conversation{}, fmt.Errorf("get conversation: decode: %w", err)
	}
	return c, nil
}

// PutConversation implements store.Conversations; it also adds the key to
// the user's index for DeleteUserConversations, in the same script.
func (s *Store) PutConversation(ctx context.Context, c store.Conversation, ttl time.Duration) error {
	if err := s.check(); err != nil {
		return fmt.Errorf("put conversation: %w", err)
	}
	if err := codec.TTL("put conversation", ttl); err != nil {
		return err
	}
	data, err := json.Marshal(c)
	if err != nil {
		return fmt.Errorf("put conversation: %w", err)
	}
	keys := []string{s.k.conv(c.Key), s.k.convIndex(c.Key.UserKey())}
	return s.wrap("put conversation", putConvScript.Run(ctx, s.c, keys, data, ms(ttl)).Err())
}

// DeleteConversation implements store.Conversations: DEL and ZREM from
// the user's index in one MULTI (both keys share the user's hash tag).
func (s *Store) DeleteConversation(ctx context.Context, key store.ConversationKey) error {
	if err := s.check(); err != nil {
		return fmt.Errorf("delete conversation: %w", err)
	}
	k := s.k.conv(key)
	var del *goredis.IntCmd
	_, err := s.c.TxPipelined(ctx, func(p goredis.Pipeliner) error {
		del = p.Del(ctx, k)
		p.ZRem(ctx, s.k.convIndex(key.UserKey()), k)
		return nil
	})
	if err != nil {
		return s.wrap("delete conversation", err)
	}
	if n := del.Val(); n == 0 {
		return fmt.Errorf("delete conversation: %w", store.ErrNotFound)
	}
	return nil
}

// DeleteUserConversations implements store.Conversations: it reads the
// user's index and deletes the listed keys (stale members of expired
// conversations too, which DEL does not count).
func (s *Store) DeleteUserConversations(ctx context.Context, user store.UserKey) (int, error) {
	if err := s.check(); err != nil {
		return 0, fmt.Errorf("delete user conversations: %w", err)
	}
	idx := s.k.convIndex(user)
	members, err := s.c.ZRange(ctx, idx, 0, -1).Result()
	if err != nil {
		return 0, s.wrap("delete user conversations", err)
	}
	total := 0
	for len(members) > 0 {
		batch := members[:min(deleteBatch, len(members))]
		members = members[len(batch):]
		n, err := deleteConvsScript.Run(ctx, s.c, append([]string{idx}, batch...)).Int()
		if err != nil {
			return total, s.wrap("delete user conversations", err)
		}
		total += n
	}
	return total, nil
}

// ms formats a positive duration as whole milliseconds, at least 1.
func ms(d time.Duration) string {
	return strconv.FormatInt(max(d.Milliseconds(), 1), 10)
}
