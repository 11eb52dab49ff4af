package bolt

import (
	"bytes"
	"context"
	"fmt"
	"time"

	bbolt "go.etcd.io/bbolt"

	"github.com/secondme-bridge/secondme-bridge/store"
	"github.com/secondme-bridge/secondme-bridge/store/internal/codec"
)

// GetConversation implements store.Conversations; an expired entry that the
// sweeper has not removed yet is reported as store.ErrNotFound.
func (s *Store) GetConversation(ctx context.Context, key store.ConversationKey) (store.Conversation, error) {
	var c store.Conversation
	err := s.view(ctx, func(tx *bbolt.Tx) error {
		ok, err := getLive(tx.Bucket(bucketConvs), codec.Conversation(key), s.now(), &c)
		if err == nil && !ok {
			err = store.ErrNotFound
		}
		return err
	})
	if err != nil {
		return store.Conversation{}, fmt.Errorf("get conversation: %w", err)
	}
	return c, nil
}

// PutConversation implements store.Conversations.
func (s *Store) PutConversation(ctx context.Context, c store.Conversation, ttl time.Duration) error {
	if err := codec.TTL("put conversation", ttl); err != nil {
		return err
	}
	err := s.update(ctx, func(tx *bbolt.Tx) error {
		return putExpiring(tx.Bucket(bucketConvs), codec.Conversation(c.Key), c, addSat(s.now(), ttl))
	})
	if err != nil {
		return fmt.Errorf("put conversation: %w", err)
	}
	return nil
}

// DeleteConversation implements store.Conversations.
func (s *Store) DeleteConversation(ctx context.Context, key store.ConversationKey) error {
	found := false
	err := s.update(ctx, func(tx *bbolt.Tx) error {
		b, k := tx.Bucket(bucketConvs), codec.Conversation(key)
		var err error
		if found, err = getLive(b, k, s.now(), nil); err != nil {
			return err
		}
		return b.Delete([]byte(k)) // an expired entry goes too
	})
	if err == nil && !found {
		err = store.ErrNotFound
	}
	if err != nil {
		return fmt.Errorf("delete conversation: %w", err)
	}
	return nil
}

// DeleteUserConversations implements store.Conversations with a prefix
// scan: conversation keys start with the user's encoded key and ':'. Expired
// entries are deleted too but not counted.
func (s *Store) DeleteUserConversations(ctx context.Context, user store.UserKey) (int, error) {
	n := 0
	err := s.update(ctx, func(tx *bbolt.Tx) error {
		n = 0
		b, now := tx.Bucket(bucketConvs), s.now()
		prefix := []byte(codec.User(user) + ":")
		var keys [][]byte
		c := b.Cursor()
		for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Next() {
			keys = append(keys, bytes.Clone(k))
		}
		for _, k := range keys {
			ok, err := getLive(b, string(k), now, nil)
			if err != nil {
				return err
			}
			if ok {
				n++
			}
			if err := b.Delete(k); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("delete user conversations: %w", err)
	}
	return n, nil
}
