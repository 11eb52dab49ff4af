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

// Rekey implements store.Rekeyer: it scans the links, the pending links
// and the workspace installs (every master of a Cluster), then the
// in-flight replies and the inbox entries, and rewrites each record not
// sealed under the current key with a compare-and-set, so a concurrent
// write is never overwritten.
func (s *Store) Rekey(ctx context.Context) (store.RekeyCounts, error) {
	if err := s.check(); err != nil {
		return store.RekeyCounts{}, fmt.Errorf("rekey redis store: %w", err)
	}
	var c store.RekeyCounts
	linkPrefix, statePrefix, installPrefix := s.k.p+"link:", s.k.p+"state:", s.k.p+"install:"
	kinds := []struct {
		prefix string
		reseal func(key string, data []byte) ([]byte, bool, error)
	}{
		{linkPrefix, func(key string, data []byte) ([]byte, bool, error) {
			return codec.ResealLink(s.sealer, key[len(linkPrefix):], data)
		}},
		{statePrefix, func(_ string, data []byte) ([]byte, bool, error) {
			return codec.ResealState(s.sealer, data)
		}},
		{installPrefix, func(key string, data []byte) ([]byte, bool, error) {
			// platform:workspace, parts escaped: the install's codec key.
			return codec.ResealInstall(s.sealer, strings.Replace(key[len(installPrefix):], ":", "/", 1), data)
		}},
	}
	for _, kind := range kinds {
		err := s.scanAll(ctx, globEscape(kind.prefix)+"*", func(key string) error {
			return s.rekeyString(ctx, key, &c, func(data []byte) ([]byte, bool, error) { return kind.reseal(key, data) })
		})
		if err != nil {
			return store.RekeyCounts{}, s.wrap("rekey redis store", err)
		}
	}
	err := s.rekeyHash(ctx, s.k.replies(), &c, func(data []byte) ([]byte, bool, error) {
		return codec.ResealReply(s.sealer, data)
	})
	if err == nil {
		err = s.rekeyHash(ctx, s.k.inbox(), &c, func(data []byte) ([]byte, bool, error) {
			return codec.ResealInbox(s.sealer, data)
		})
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
	if !count(c, current, err) {
		if err != nil && !errors.Is(err, store.ErrUnseal) {
			return fmt.Errorf("%s: %w", strings.TrimPrefix(key, s.k.p), err)
		}
		return nil
	}
	ok, err := casString.Run(ctx, s.c, []string{key}, data, enc).Int()
	if err != nil {
		return err
	}
	resealed(c, ok == 1)
	return nil
}

// rekeyHash re-seals every field of the hash at key with reseal (as
// rekeyString).
func (s *Store) rekeyHash(ctx context.Context, key string, c *store.RekeyCounts, reseal func([]byte) ([]byte, bool, error)) error {
	all, err := s.c.HGetAll(ctx, key).Result()
	if err != nil {
		return err
	}
	for field, v := range all {
		enc, current, err := reseal([]byte(v))
		if !count(c, current, err) {
			if err != nil && !errors.Is(err, store.ErrUnseal) {
				return fmt.Errorf("%s: %w", strings.TrimPrefix(key, s.k.p), err)
			}
			continue
		}
		ok, err := casHashField.Run(ctx, s.c, []string{key}, field, v, enc).Int()
		if err != nil {
			return err
		}
		resealed(c, ok == 1)
	}
	return nil
}

// count counts a record whose re-seal gave current or err (unreadable),
// and reports false then; true means the record is to be rewritten.
func count(c *store.RekeyCounts, current bool, err error) bool {
	switch {
	case errors.Is(err, store.ErrUnseal):
		c.Unreadable++
	case err != nil:
	case current:
		c.Current++
	default:
		return true
	}
	return false
}

// resealed counts a compare-and-set: done, or beaten by a writer (which
// sealed under the current key) or a delete.
func resealed(c *store.RekeyCounts, ok bool) {
	if ok {
		c.Resealed++
	} else {
		c.Current++
	}
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
