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
// script. KEYS: the buckets of every request, one request after another.
// ARGV: the number of requests, then per request its after µs, its number
// of buckets and, per bucket, its emission interval and tolerance (µs).
// Returns, per request, 1 when granted, or 0, wait µs, the number of short
// buckets and their 0-based indexes (within the request) when not.
var reserveEachScript = goredis.NewScript(luaNow + luaGCRA + `
local now = now_us()
local out = {}
local a, k = 2, 0
for _ = 1, tonumber(ARGV[1]) do
  local due = now + tonumber(ARGV[a])
  local n = tonumber(ARGV[a + 1])
  a = a + 2
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
    out[#out + 1] = math.ceil(wait)
    out[#out + 1] = #short
    for _, i in ipairs(short) do out[#out + 1] = i end
  else
    for i = 1, n do gcra_set(KEYS[k + i], now, news[i]) end
    out[#out + 1] = 1
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
		return codec.GrantAll(len(reqs)), nil
	}
	var keys []string
	args := []any{len(reqs)}
	for _, r := range reqs {
		args = append(args, micros(r.After), len(r.Buckets))
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
	gs := make([]store.Grant, len(reqs))
	at := 0
	for i, r := range reqs {
		switch {
		case at < len(res) && res[at] == 1:
			gs[i].OK = true
			at++
		case at+2 < len(res) && res[at] == 0:
			wait, n := res[at+1], int(res[at+2])
			at += 3
			if n < 1 || n > len(r.Buckets) || at+n > len(res) || wait <= 0 {
				return nil, bad
			}
			g := store.Grant{Wait: time.Duration(wait) * time.Microsecond, Short: make([]int, n)}
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
// requests may live in any slot, and no script may span them.
func (b splitBudgets) ReserveEach(ctx context.Context, reqs []store.Reservation) ([]store.Grant, error) {
	if err := b.check(); err != nil {
		return nil, fmt.Errorf("reserve budgets: %w", err)
	}
	if _, err := codec.ReserveEach(reqs); err != nil {
		return nil, err
	}
	gs := make([]store.Grant, len(reqs))
	for i, r := range reqs {
		g, err := b.Reserve(ctx, r.Buckets, r.After)
		if err != nil {
			return nil, fmt.Errorf("request %d of %d: %w", i, len(reqs), err)
		}
		gs[i] = g
	}
	return gs, nil
}
