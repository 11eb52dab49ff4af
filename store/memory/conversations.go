package memory

import (
	"context"
	"time"

	"github.com/secondme-bridge/secondme-bridge/store"
	"github.com/secondme-bridge/secondme-bridge/store/internal/codec"
)

// GetConversation implements store.Conversations.
func (s *Store) GetConversation(ctx context.Context, key store.ConversationKey) (store.Conversation, error) {
	var c store.Conversation
	err := s.do(ctx, "get conversation", func(d *Data, now time.Time) error {
		var ok bool
		if c, ok = getLive(d.convs[key.UserKey()], key, now); !ok {
			return store.ErrNotFound
		}
		return nil
	})
	return c, err
}

// PutConversation implements store.Conversations.
func (s *Store) PutConversation(ctx context.Context, c store.Conversation, ttl time.Duration) error {
	if err := codec.TTL("put conversation", ttl); err != nil {
		return err
	}
	return s.do(ctx, "put conversation", func(d *Data, now time.Time) error {
		d.putConversation(c, now.Add(ttl))
		return nil
	})
}

func (d *Data) putConversation(c store.Conversation, exp time.Time) {
	u := c.Key.UserKey()
	if d.convs[u] == nil {
		d.convs[u] = map[store.ConversationKey]item[store.Conversation]{}
	}
	d.convs[u][c.Key] = item[store.Conversation]{v: c, exp: exp}
}

// DeleteConversation implements store.Conversations.
func (s *Store) DeleteConversation(ctx context.Context, key store.ConversationKey) error {
	return s.do(ctx, "delete conversation", func(d *Data, now time.Time) error {
		convs := d.convs[key.UserKey()]
		_, ok := getLive(convs, key, now)
		delete(convs, key) // an expired entry goes too
		if !ok {
			return store.ErrNotFound
		}
		return nil
	})
}

// DeleteUserConversations implements store.Conversations. Expired entries
// are deleted too but not counted.
func (s *Store) DeleteUserConversations(ctx context.Context, user store.UserKey) (int, error) {
	n := 0
	err := s.do(ctx, "delete user conversations", func(d *Data, now time.Time) error {
		for _, it := range d.convs[user] {
			if it.live(now) {
				n++
			}
		}
		delete(d.convs, user)
		return nil
	})
	return n, err
}
