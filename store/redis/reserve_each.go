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

// reserveEachScript implements Budgets.ReserveEach: reserveScript's
// decision for each request in order, on the server clock, in one
// script, at the request's due moment: its after, delayed up to its within
// to the first bucket's earliest token (codec.WithinDelay). KEYS: the
// buckets of every request, one request after another. ARGV: the number
// of requests, then per request its after µs, its within (whole µs), its
// number of buckets and, per bucket, its emission interval and tolerance
// (µs). Returns the server clock's reading the requests were decided at
// (µs since the epoch, store.Grant.Clock), then, per request, 1 and the
// delay (µs) when granted, or 0, the delay, wait µs, the number of short
// buckets and their 0-based indexes (within the request) when not.
var reserveEachScript = goredis.NewScript(luaNow + luaGCRA + `
local now = now_us()
local out = {now}
local a, k = 2, 0
for _ = 1, tonumber(ARGV[1]) do
  local due = now + tonumber(ARGV[a])
  local within = tonumber(ARGV[a + 1])
  local n = tonumber(ARGV[a + 2])
  a = a + 3
  local delay = 0
  if within > 0 and n > 0 then
    local tat = tonumber(redis.call('GET', KEYS[k + 1])) or 0
    if due > tat then tat = due end
    local over = tat + tonumber(ARGV[a]) - due - tonumber(ARGV[a + 1])
    delay = math.min(math.max(0, math.ceil(over - 0.5)), within)
  end
  due = due + delay
  local news, short, wait = {}, {}, 0
  for i = 1, n do
    local _, new, over = gcra(KEYS[k + i], due, tonumber(ARGV[a]), tonumber(ARGV[a + 1]))
    a = a + 2
    if over > 0 then
      short[#short + 1] = i - 1
      if over > wait then wait = over end
    end
    news[i] = new
  end
  if #short > 0 then
    out[#out + 1] = 0
    out[#out + 1] = delay
    out[#out + 1] = math.ceil(wait)
    out[#out + 1] = #short
    for _, i in ipairs(short) do out[#out + 1] = i end
  else
    for i = 1, n do gcra_set(KEYS[k + i], now, news[i]) end
    out[#out + 1] = 1
    out[#out + 1] = delay
  end
  k = k + n
end
return out
`)

// ReserveEach implements store.Budgets with reserveEachScript: one round
// trip for every request.
func (s *Store) ReserveEach(ctx context.Context, reqs []store.Reservation) ([]store.Grant, error) {
	if err := s.check(); err != nil {
		return nil, fmt.Errorf("reserve budgets: %w", err)
	}
	need, err := codec.ReserveEach(reqs)
	if err != nil {
		return nil, err
	}
	if !need {
		return codec.GrantAll(reqs), nil
	}
	var keys []string
	args := []any{len(reqs)}
	for _, r := range reqs {
		args = append(args, micros(r.After), int64(r.Within/time.Microsecond), len(r.Buckets))
		for _, b := range r.Buckets {
			keys = append(keys, s.k.reservation(b.Key))
			interval, tol := codec.GCRA(b)
			args = append(args, strconv.FormatFloat(interval, 'g', -1, 64), strconv.FormatFloat(tol, 'g', -1, 64))
		}
	}
	res, err := reserveEachScript.Run(ctx, s.c, keys, args...).Int64Slice()
	if err != nil {
		return nil, s.wrap("reserve budgets", err)
	}
	return parseReserveEach(reqs, res)
}

// parseReserveEach decodes the reply of reserveEachScript.
func parseReserveEach(reqs []store.Reservation, res []int64) ([]store.Grant, error) {
	bad := fmt.Errorf("reserve budgets: unexpected script result %v", res)
	if len(res) == 0 || res[0] <= 0 {
		return nil, bad
	}
	clock := time.UnixMicro(res[0])
	gs := make([]store.Grant, len(reqs))
	at := 1
	for i, r := range reqs {
		if at+1 >= len(res) {
			return nil, bad
		}
		flag, delay := res[at], time.Duration(res[at+1])*time.Microsecond
		if delay < 0 || delay > r.Within {
			return nil, bad
		}
		at += 2
		switch {
		case flag == 1:
			gs[i] = store.Grant{OK: true, At: r.After + delay, Clock: clock}
		case flag == 0 && at+1 < len(res):
			wait, n := res[at], int(res[at+1])
			at += 2
			if n < 1 || n > len(r.Buckets) || at+n > len(res) || wait <= 0 {
				return nil, bad
			}
			g := store.Grant{Wait: time.Duration(wait) * time.Microsecond, Short: make([]int, n), At: r.After + delay, Clock: clock}
			for j := range n {
				idx := res[at+j]
				if idx < 0 || int(idx) >= len(r.Buckets) {
					return nil, bad
				}
				g.Short[j] = int(idx)
			}
			at += n
			gs[i] = g
		default:
			return nil, bad
		}
	}
	if at != len(res) {
		return nil, bad
	}
	return gs, nil
}

// ReserveEach implements store.Budgets one request at a time, in order,
// each with splitBudgets.Reserve: without a hash tag the buckets of the
// requests may live in any slot, and no script may span them. The nodes'
// clocks may differ, so no Grant.Clock is reported.
func (b splitBudgets) ReserveEach(ctx context.Context, reqs []store.Reservation) ([]store.Grant, error) {
	if err := b.check(); err != nil {
		return nil, fmt.Errorf("reserve budgets: %w", err)
	}
	if _, err := codec.ReserveEach(reqs); err != nil {
		return nil, err
	}
	gs := make([]store.Grant, len(reqs))
	for i, r := range reqs {
		after, err := b.firstDue(ctx, r)
		if err != nil {
			return nil, fmt.Errorf("request %d of %d: %w", i, len(reqs), err)
		}
		g, err := b.Reserve(ctx, r.Buckets, after)
		if err != nil {
			return nil, fmt.Errorf("request %d of %d: %w", i, len(reqs), err)
		}
		g.At = after
		gs[i] = g
	}
	return gs, nil
}

// firstDue returns when request r is due, from now: r.After, or, with a
// Within, when its first bucket has a token (asked without taking, one
// more round trip), at most r.Within later. The bucket may change before
// the Reserve that follows: then it refuses, erring on the side of the
// limits.
func (b splitBudgets) firstDue(ctx context.Context, r store.Reservation) (time.Duration, error) {
	if r.Within < time.Microsecond || len(r.Buckets) == 0 {
		return r.After, nil
	}
	s := b.Store
	interval, tol := codec.GCRA(r.Buckets[0])
	res, err := reserveOneScript.Run(ctx, s.c, []string{s.k.reservation(r.Buckets[0].Key)}, micros(r.After),
		strconv.FormatFloat(interval, 'g', -1, 64), strconv.FormatFloat(tol, 'g', -1, 64), "peek").Slice()
	if err != nil {
		return 0, s.wrap("reserve budgets", err)
	}
	ok, wait, _, _, err := parseReserveOne(res)
	if err != nil || ok {
		return r.After, err
	}
	return r.After + min(wait, r.Within.Truncate(time.Microsecond)), nil
}
