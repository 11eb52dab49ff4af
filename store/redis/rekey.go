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
	links := s.k.p + "link:"
	err := s.scanAll(ctx, globEscape(links)+"*", func(key string) error {
		return s.rekeyString(ctx, key, &c, func(data []byte) ([]byte, codec.Rekeyed, error) {
			return codec.RekeyLink(s.sealer, strings.TrimPrefix(key, links), data)
		})
	})
	if err == nil {
		err = s.scanAll(ctx, globEscape(s.k.p)+"state:*", func(key string) error {
			return s.rekeyString(ctx, key, &c, func(data []byte) ([]byte, codec.Rekeyed, error) {
				return codec.RekeyState(s.sealer, data)
			})
		})
	}
	installs := s.k.p + "install:"
	if err == nil {
		err = s.scanAll(ctx, globEscape(installs)+"*", func(key string) error {
			return s.rekeyString(ctx, key, &c, func(data []byte) ([]byte, codec.Rekeyed, error) {
				// platform:workspace, parts escaped: the install's codec key.
				return codec.RekeyInstall(s.sealer, strings.Replace(strings.TrimPrefix(key, installs), ":", "/", 1), data)
			})
		})
	}
	if err == nil {
		err = s.rekeyHash(ctx, s.k.replies(), &c, func(v []byte) ([]byte, codec.Rekeyed, error) {
			return codec.RekeyReply(s.sealer, v)
		})
	}
	if err == nil {
		err = s.rekeyHash(ctx, s.k.inbox(), &c, func(v []byte) ([]byte, codec.Rekeyed, error) {
			return codec.RekeyInbox(s.sealer, v)
		})
	}
	if err != nil {
		return store.RekeyCounts{}, s.wrap("rekey redis store", err)
	}
	return c, nil
}

// rekeyString re-seals the string at key with reseal (a codec.Rekey
// function).
func (s *Store) rekeyString(ctx context.Context, key string, c *store.RekeyCounts, reseal func([]byte) ([]byte, codec.Rekeyed, error)) error {
	read := func() ([]byte, bool, error) {
		data, err := s.c.Get(ctx, key).Bytes()
		if errors.Is(err, goredis.Nil) {
			return nil, false, nil // expired or deleted since the scan
		}
		return data, err == nil, err
	}
	cas := func(old, enc []byte) (bool, error) {
		n, err := casString.Run(ctx, s.c, []string{key}, old, enc).Int()
		return n == 1, err
	}
	return rekeyRecord(strings.TrimPrefix(key, s.k.p), c, read, reseal, cas)
}

// rekeyHash re-seals every field of the hash at key with reseal (a
// codec.Rekey function).
func (s *Store) rekeyHash(ctx context.Context, key string, c *store.RekeyCounts, reseal func([]byte) ([]byte, codec.Rekeyed, error)) error {
	all, err := s.c.HGetAll(ctx, key).Result()
	if err != nil {
		return err
	}
	name := strings.TrimPrefix(key, s.k.p)
	for field, v := range all {
		first := true
		read := func() ([]byte, bool, error) {
			if first { // what HGETALL read
				first = false
				return []byte(v), true, nil
			}
			data, err := s.c.HGet(ctx, key, field).Bytes()
			if errors.Is(err, goredis.Nil) {
				return nil, false, nil // removed meanwhile
			}
			return data, err == nil, err
		}
		cas := func(old, enc []byte) (bool, error) {
			n, err := casHashField.Run(ctx, s.c, []string{key}, field, old, enc).Int()
			return n == 1, err
		}
		if err := rekeyRecord(name, c, read, reseal, cas); err != nil {
			return err
		}
	}
	return nil
}

// maxRekeyTries bounds how often Rekey reads and re-seals one record that
// keeps changing between its read and its compare-and-set.
const maxRekeyTries = 8

// rekeyRecord re-seals one record and counts the outcome in c: read
// returns its bytes (false when it is gone), reseal is a codec.Rekey
// function, cas writes enc only if the record still holds old. A record
// that changed meanwhile is read and judged again, not counted current:
// a concurrent writer may have kept the old seal (Inbox.Adopt rewrites an
// entry's owner, not its sealed item), and a record left under a previous
// key is lost once that key is dropped from the configuration.
func rekeyRecord(name string, c *store.RekeyCounts, read func() ([]byte, bool, error), reseal func([]byte) ([]byte, codec.Rekeyed, error), cas func(old, enc []byte) (bool, error)) error {
	for range maxRekeyTries {
		data, ok, err := read()
		if err != nil || !ok {
			return err
		}
		enc, r, err := reseal(data)
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		if r == codec.RekeyResealed {
			swapped, err := cas(data, enc)
			if err != nil {
				return err
			}
			if !swapped {
				continue // changed since the read: judge it again
			}
		}
		codec.Count(c, r)
		return nil
	}
	return fmt.Errorf("%s: changed %d times while being re-sealed; run rekey again", name, maxRekeyTries)
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
