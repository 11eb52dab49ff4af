package redis

import (
	"context"
	"fmt"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/secondme-bridge/secondme-bridge/store"
	"github.com/secondme-bridge/secondme-bridge/store/internal/codec"
)

// Liveness returns the liveness aggregate: one sorted set of owners scored
// by the expiry of their record on the server's clock.
func (s *Store) Liveness() store.Liveness { return liveness{s} }

type liveness struct{ s *Store }

var _ store.Liveness = liveness{}

// beatScript: KEYS: live. ARGV: owner, ttl ms. Sets owner's expiry and
// drops expired owners.
var beatScript = goredis.NewScript(`
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', string.format('%d', now))
redis.call('ZADD', KEYS[1], string.format('%d', now + tonumber(ARGV[2])), ARGV[1])
return 1
`)

// aliveScript: KEYS: live. Returns the owners not expired.
var aliveScript = goredis.NewScript(`
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
return redis.call('ZRANGEBYSCORE', KEYS[1], '(' .. string.format('%d', now), '+inf')
`)

// breakScript: KEYS: lock. ARGV: owner. Deletes the lock if owner holds
// it; returns 1 then, else 0.
var breakScript = goredis.NewScript(`
if redis.call('HGET', KEYS[1], 'owner') ~= ARGV[1] then return 0 end
redis.call('DEL', KEYS[1])
return 1
`)

// Beat implements store.Liveness.
func (l liveness) Beat(ctx context.Context, owner string, ttl time.Duration) error {
	s := l.s
	if err := s.check(); err != nil {
		return fmt.Errorf("beat: %w", err)
	}
	if err := codec.Expiring("beat", "owner", owner, ttl); err != nil {
		return err
	}
	return s.wrap("beat", beatScript.Run(ctx, s.c, []string{s.k.live()}, owner, ms(ttl)).Err())
}

// Alive implements store.Liveness.
func (l liveness) Alive(ctx context.Context) ([]string, error) {
	s := l.s
	if err := s.check(); err != nil {
		return nil, fmt.Errorf("list live owners: %w", err)
	}
	out, err := aliveScript.Run(ctx, s.c, []string{s.k.live()}).StringSlice()
	if err != nil {
		return nil, s.wrap("list live owners", err)
	}
	return out, nil
}

// Leave implements store.Liveness.
func (l liveness) Leave(ctx context.Context, owner string) error {
	s := l.s
	if err := s.check(); err != nil {
		return fmt.Errorf("leave: %w", err)
	}
	return s.wrap("leave", s.c.ZRem(ctx, s.k.live(), owner).Err())
}

// Break implements store.Locks.
func (s *Store) Break(ctx context.Context, key, owner string) error {
	if err := s.check(); err != nil {
		return fmt.Errorf("break lock: %w", err)
	}
	if err := codec.NonEmpty("break lock", "key", key); err != nil {
		return err
	}
	ok, err := breakScript.Run(ctx, s.c, []string{s.k.lock(key)}, owner).Int()
	if err != nil {
		return s.wrap("break lock", err)
	}
	if ok != 1 {
		return fmt.Errorf("break lock: %w", store.ErrNotFound)
	}
	return nil
}
