package redis

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/secondme-bridge/secondme-bridge/store"
	"github.com/secondme-bridge/secondme-bridge/store/internal/codec"
)

// reserveScript implements Budgets.Reserve: GCRA on the server clock, all
// buckets or none. KEYS: the buckets (STRING theoretical arrival time,
// server µs). ARGV: after µs, then for each bucket its emission interval
// and tolerance (µs, codec.GCRA). Returns {1} when granted, {0, wait µs,
// index…} (0-based indexes of the short buckets) when not.
var reserveScript = goredis.NewScript(luaNow + luaGCRA + `
local now = now_us()
local due = now + tonumber(ARGV[1])
local news, short, wait = {}, {}, 0
for i = 1, #KEYS do
  local _, new, over = gcra(KEYS[i], due, tonumber(ARGV[2 * i]), tonumber(ARGV[2 * i + 1]))
  if over > 0 then
    short[#short + 1] = i - 1
    if over > wait then wait = over end
  end
  news[i] = new
end
if #short > 0 then
  local res = {0, math.ceil(wait)}
  for _, i in ipairs(short) do res[#res + 1] = i end
  return res
end
for i = 1, #KEYS do gcra_set(KEYS[i], now, news[i]) end
return {1}
`)

// Reserve implements store.Budgets with reserveScript, on the server's
// clock: one round trip for all the buckets.
func (s *Store) Reserve(ctx context.Context, buckets []store.Bucket, after time.Duration) (store.Grant, error) {
	if err := s.check(); err != nil {
		return store.Grant{}, fmt.Errorf("reserve budgets: %w", err)
	}
	if err := codec.Reserve(buckets, after); err != nil {
		return store.Grant{}, err
	}
	if len(buckets) == 0 {
		return store.Grant{OK: true}, nil
	}
	keys := make([]string, len(buckets))
	args := make([]any, 1, 1+2*len(buckets))
	args[0] = micros(after)
	for i, b := range buckets {
		keys[i] = s.k.reservation(b.Key)
		interval, tol := codec.GCRA(b)
		args = append(args, strconv.FormatFloat(interval, 'g', -1, 64), strconv.FormatFloat(tol, 'g', -1, 64))
	}
	res, err := reserveScript.Run(ctx, s.c, keys, args...).Int64Slice()
	if err != nil {
		return store.Grant{}, s.wrap("reserve budgets", err)
	}
	switch {
	case len(res) == 1 && res[0] == 1:
		return store.Grant{OK: true}, nil
	case len(res) >= 3 && res[0] == 0:
		g := store.Grant{Wait: time.Duration(res[1]) * time.Microsecond, Short: make([]int, 0, len(res)-2)}
		for _, i := range res[2:] {
			if i < 0 || int(i) >= len(buckets) {
				return store.Grant{}, fmt.Errorf("reserve budgets: script named bucket %d of %d", i, len(buckets))
			}
			g.Short = append(g.Short, int(i))
		}
		return g, nil
	}
	return store.Grant{}, fmt.Errorf("reserve budgets: unexpected script result %v", res)
}

// reserveOneScript is reserveScript for one bucket, for splitBudgets.
// KEYS: bucket. ARGV: after µs, interval, tolerance, mode ("take" or
// "peek": check only). Returns {1, previous value or "", new value} when
// granted (taken in mode take), {0, wait µs} when not.
var reserveOneScript = goredis.NewScript(luaNow + luaGCRA + `
local now = now_us()
local prev, new, over = gcra(KEYS[1], now + tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3]))
if over > 0 then return {0, math.ceil(over)} end
if ARGV[4] == 'take' then gcra_set(KEYS[1], now, new) end
return {1, prev or '', new}
`)

// refundScript undoes a reservation of reserveOneScript if nothing was
// reserved from the bucket since (its value is still the one set), so the
// bucket is exactly as if the reservation had never been made; otherwise
// the token stays taken. KEYS: bucket. ARGV: value set, previous value
// ("" when there was none). Returns 1 when refunded.
var refundScript = goredis.NewScript(luaNow + `
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
if ARGV[2] == '' then redis.call('DEL', KEYS[1]) return 1 end
local ttl = math.ceil((tonumber(ARGV[2]) - now_us()) / 1000)
if ttl < 1 then redis.call('DEL', KEYS[1]) return 1 end
redis.call('SET', KEYS[1], ARGV[2], 'PX', string.format('%d', ttl))
return 1
`)

// splitBudgets implements store.Budgets on Redis Cluster when the key
// prefix has no hash tag, so the buckets of one Reserve may live in
// different slots and no script may span them. It reserves the buckets one
// by one in key order (so that concurrent reservations of the same buckets
// cannot each hold a part), a round trip each; at the first short bucket
// it checks the rest without taking, to report every short one, then
// refunds the ones granted (when nothing was reserved from them since;
// otherwise their tokens stay taken, erring on the side of the limits), as
// it does when a call fails. Use a prefix with a hash tag ("{bridge}:") on
// Cluster for one atomic round trip.
type splitBudgets struct{ *Store }

// Reserve implements store.Budgets one bucket at a time.
func (b splitBudgets) Reserve(ctx context.Context, buckets []store.Bucket, after time.Duration) (store.Grant, error) {
	s := b.Store
	if err := s.check(); err != nil {
		return store.Grant{}, fmt.Errorf("reserve budgets: %w", err)
	}
	if err := codec.Reserve(buckets, after); err != nil {
		return store.Grant{}, err
	}
	order := make([]int, len(buckets))
	for i := range order {
		order[i] = i
	}
	slices.SortFunc(order, func(x, y int) int { return strings.Compare(buckets[x].Key, buckets[y].Key) })
	type taken struct{ key, prev, set string }
	var granted []taken
	// refund gives back the tokens taken so far, also when ctx is done
	// (the refunds are quick, and a token kept is lost until refill).
	refund := func() {
		rctx := context.WithoutCancel(ctx)
		for _, t := range granted {
			if err := refundScript.Run(rctx, s.c, []string{t.key}, t.set, t.prev).Err(); err != nil {
				s.log.Warn("refund a reservation that was not granted in full; its token stays taken", "error", err)
			}
		}
	}
	var g store.Grant
	for _, i := range order {
		mode := "take"
		if len(g.Short) > 0 {
			mode = "peek"
		}
		key := s.k.reservation(buckets[i].Key)
		interval, tol := codec.GCRA(buckets[i])
		res, err := reserveOneScript.Run(ctx, s.c, []string{key}, micros(after),
			strconv.FormatFloat(interval, 'g', -1, 64), strconv.FormatFloat(tol, 'g', -1, 64), mode).Slice()
		if err != nil {
			refund()
			return store.Grant{}, s.wrap("reserve budgets", err)
		}
		ok, wait, prev, set, err := parseReserveOne(res)
		if err != nil {
			refund()
			return store.Grant{}, err
		}
		switch {
		case !ok:
			g.Short = append(g.Short, i)
			g.Wait = max(g.Wait, wait)
		case mode == "take":
			granted = append(granted, taken{key, prev, set})
		}
	}
	if len(g.Short) == 0 {
		return store.Grant{OK: true}, nil
	}
	slices.Sort(g.Short)
	refund()
	return g, nil
}

// micros formats d in µs with its fraction (codec.Micros), for a script.
func micros(d time.Duration) string { return strconv.FormatFloat(codec.Micros(d), 'g', -1, 64) }

// parseReserveOne decodes the reply of reserveOneScript.
func parseReserveOne(res []any) (ok bool, wait time.Duration, prev, set string, err error) {
	bad := fmt.Errorf("reserve budgets: unexpected script result %v", res)
	if len(res) < 2 {
		return false, 0, "", "", bad
	}
	flag, _ := res[0].(int64)
	if flag == 0 {
		w, isInt := res[1].(int64)
		if !isInt {
			return false, 0, "", "", bad
		}
		return false, time.Duration(w) * time.Microsecond, "", "", nil
	}
	if len(res) != 3 {
		return false, 0, "", "", bad
	}
	prev, _ = res[1].(string)
	set, _ = res[2].(string)
	return true, 0, prev, set, nil
}
