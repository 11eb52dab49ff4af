package redis

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"

	goredis "github.com/redis/go-redis/v9"

	"github.com/secondme-bridge/secondme-bridge/store"
	"github.com/secondme-bridge/secondme-bridge/store/internal/codec"
)

var _ store.Rekeyer = (*Store)(nil)

// casString replaces a string value, keeping its TTL, only if it still is
// what was read (a writer that got there first sealed under the current
// key already).
var casString = goredis.NewScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('SET', KEYS[1], ARGV[2], 'KEEPTTL')
  return 1
end
return 0`)

// casHashField is casString for one field of a hash.
var casHashField = goredis.NewScript(`
if redis.call('HGET', KEYS[1], ARGV[1]) == ARGV[2] then
  redis.call('HSET', KEYS[1], ARGV[1], ARGV[3])
  return 1
end
return 0`)

// Rekey implements store.Rekeyer: it scans the links and pending links
// (every master of a Cluster) and the in-flight replies, and rewrites each
// record not sealed under the current key with a compare-and-set, so a
// concurrent write is never overwritten.
func (s *Store) Rekey(ctx context.Context) (store.RekeyCounts, error) {
	if err := s.check(); err != nil {
		return store.RekeyCounts{}, fmt.Errorf("rekey redis store: %w", err)
	}
	var c store.RekeyCounts
	err := s.scanAll(ctx, globEscape(s.k.p)+"link:*", func(key string) error {
		return s.rekeyString(ctx, key, &c, func(data []byte) ([]byte, bool, error) {
			uk, err := codec.LinkKey(data)
			if err != nil {
				return nil, false, err
			}
			if key != s.k.link(uk) {
				// Copied under another user's name: it opens for no one.
				return nil, false, fmt.Errorf("link record names another user than its key: %w", store.ErrUnseal)
			}
			current, err := codec.LinkCurrent(s.sealer, uk, data)
			if err != nil || current {
				return nil, current, err
			}
			l, err := codec.DecodeLink(s.sealer, uk, data)
			if err != nil {
				return nil, false, err
			}
			enc, err := codec.EncodeLink(s.sealer, l)
			return enc, false, err
		})
	})
	if err == nil {
		err = s.scanAll(ctx, globEscape(s.k.p)+"state:*", func(key string) error {
			return s.rekeyString(ctx, key, &c, func(data []byte) ([]byte, bool, error) {
				p, current, err := codec.DecodeState(s.sealer, data)
				if err != nil || current {
					return nil, current, err
				}
				enc, err := codec.EncodeState(s.sealer, p)
				return enc, false, err
			})
		})
	}
	if err == nil {
		err = s.rekeyReplies(ctx, &c)
	}
	if err != nil {
		return store.RekeyCounts{}, s.wrap("rekey redis store", err)
	}
	return c, nil
}

// rekeyString re-seals the string at key with reseal, which returns the
// new value, or current=true when there is nothing to do.
func (s *Store) rekeyString(ctx context.Context, key string, c *store.RekeyCounts, reseal func([]byte) ([]byte, bool, error)) error {
	data, err := s.c.Get(ctx, key).Bytes()
	if errors.Is(err, goredis.Nil) {
		return nil // expired or deleted since the scan
	}
	if err != nil {
		return err
	}
	enc, current, err := reseal(data)
	switch {
	case errors.Is(err, store.ErrUnseal):
		c.Unreadable++
		return nil
	case err != nil:
		return fmt.Errorf("%s: %w", strings.TrimPrefix(key, s.k.p), err)
	case current:
		c.Current++
		return nil
	}
	ok, err := casString.Run(ctx, s.c, []string{key}, data, enc).Int()
	if err != nil {
		return err
	}
	if ok == 1 {
		c.Resealed++
	} else {
		c.Current++ // rewritten (under the current key) or removed meanwhile
	}
	return nil
}

func (s *Store) rekeyReplies(ctx context.Context, c *store.RekeyCounts) error {
	all, err := s.c.HGetAll(ctx, s.k.replies()).Result()
	if err != nil {
		return err
	}
	for id, v := range all {
		r, current, err := codec.DecodeReply(s.sealer, []byte(v))
		switch {
		case errors.Is(err, store.ErrUnseal):
			c.Unreadable++
			continue
		case err != nil:
			return fmt.Errorf("reply: %w", err)
		case current:
			c.Current++
			continue
		}
		enc, err := codec.EncodeReply(s.sealer, r)
		if err != nil {
			return err
		}
		ok, err := casHashField.Run(ctx, s.c, []string{s.k.replies()}, id, v, enc).Int()
		if err != nil {
			return err
		}
		if ok == 1 {
			c.Resealed++
		} else {
			c.Current++
		}
	}
	return nil
}

// scanAll calls fn for every key matching pattern, on every master of a
// Cluster, one key at a time. A key may be seen twice (SCAN's guarantee):
// fn must be idempotent, as a compare-and-set re-seal is.
func (s *Store) scanAll(ctx context.Context, pattern string, fn func(key string) error) error {
	var (
		mu   sync.Mutex
		keys []string
	)
	scan := func(ctx context.Context, c goredis.Cmdable) error {
		var cursor uint64
		for {
			batch, next, err := c.Scan(ctx, cursor, pattern, 500).Result()
			if err != nil {
				return err
			}
			mu.Lock()
			keys = append(keys, batch...)
			mu.Unlock()
			if next == 0 {
				return nil
			}
			cursor = next
		}
	}
	var err error
	if cc, ok := s.c.(*goredis.ClusterClient); ok {
		err = cc.ForEachMaster(ctx, func(ctx context.Context, c *goredis.Client) error { return scan(ctx, c) })
	} else {
		err = scan(ctx, s.c)
	}
	if err != nil {
		return err
	}
	for _, k := range keys {
		if err := fn(k); err != nil {
			return err
		}
	}
	return nil
}

// globEscape escapes the glob characters of a key prefix for SCAN MATCH.
func globEscape(p string) string {
	var b strings.Builder
	for _, r := range p {
		switch r {
		case '*', '?', '[', ']', '\\':
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	return b.String()
}
