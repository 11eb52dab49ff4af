package redis

import (
	"context"
	"fmt"
	"strconv"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/secondme-bridge/secondme-bridge/store"
	"github.com/secondme-bridge/secondme-bridge/store/internal/codec"
)

// budgetLeaseScript implements Budgets.Lease on one reservation bucket (one key,
// so it runs on Redis Cluster whatever the prefix), with codec.LeaseAt's
// arithmetic on the server clock. KEYS: bucket. ARGV: want, interval µs,
// tolerance µs. Returns {granted, wait µs}.
var budgetLeaseScript = goredis.NewScript(luaNow + `
local now = now_us()
local want, interval, tol = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local t = tonumber(redis.call('GET', KEYS[1])) or 0
if now > t then t = now end
local fit = math.floor((now + tol + 0.5 - t) / interval)
local granted = math.max(0, math.min(want, fit))
local new = t + granted * interval
local wait = 0
if granted < want then wait = math.max(0, math.ceil(new + interval - now - tol)) end
if granted > 0 then
  local ttl = math.ceil((new - now) / 1000)
  if ttl < 1 then ttl = 1 end
  redis.call('SET', KEYS[1], string.format('%.17g', new), 'PX', string.format('%d', ttl))
end
return {granted, wait}
`)

// budgetReturnScript implements Budgets.Return (codec.ReturnAt). KEYS: bucket.
// ARGV: n, interval µs. Returns 1.
var budgetReturnScript = goredis.NewScript(luaNow + `
local now = now_us()
local cur = tonumber(redis.call('GET', KEYS[1]))
if cur == nil then return 1 end
local new = cur - tonumber(ARGV[1]) * tonumber(ARGV[2])
if new <= now then redis.call('DEL', KEYS[1]) return 1 end
local ttl = math.ceil((new - now) / 1000)
if ttl < 1 then ttl = 1 end
redis.call('SET', KEYS[1], string.format('%.17g', new), 'PX', string.format('%d', ttl))
return 1
`)

// Lease implements store.Budgets with budgetLeaseScript: one round trip.
func (s *Store) Lease(ctx context.Context, bk store.Bucket, want int) (store.Leased, error) {
	if err := s.check(); err != nil {
		return store.Leased{}, fmt.Errorf("lease budget: %w", err)
	}
	if err := codec.LeaseArgs("lease budget", bk, want); err != nil {
		return store.Leased{}, err
	}
	interval, tol := codec.GCRA(bk)
	res, err := budgetLeaseScript.Run(ctx, s.c, []string{s.k.reservation(bk.Key)}, want,
		strconv.FormatFloat(interval, 'g', -1, 64), strconv.FormatFloat(tol, 'g', -1, 64)).Int64Slice()
	if err != nil {
		return store.Leased{}, s.wrap("lease budget", err)
	}
	if len(res) != 2 || res[0] < 0 || res[0] > int64(want) || res[1] < 0 {
		return store.Leased{}, fmt.Errorf("lease budget: unexpected script result %v", res)
	}
	return store.Leased{Granted: int(res[0]), Wait: time.Duration(res[1]) * time.Microsecond}, nil
}

// Return implements store.Budgets with budgetReturnScript: one round trip.
func (s *Store) Return(ctx context.Context, bk store.Bucket, n int) error {
	if err := s.check(); err != nil {
		return fmt.Errorf("return budget: %w", err)
	}
	if err := codec.LeaseArgs("return budget", bk, n); err != nil {
		return err
	}
	interval, _ := codec.GCRA(bk)
	err := budgetReturnScript.Run(ctx, s.c, []string{s.k.reservation(bk.Key)}, n,
		strconv.FormatFloat(interval, 'g', -1, 64)).Err()
	if err != nil {
		return s.wrap("return budget", err)
	}
	return nil
}
