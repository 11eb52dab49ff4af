package redis

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/secondme-bridge/secondme-bridge/store"
	"github.com/secondme-bridge/secondme-bridge/store/internal/codec"
)

// Inbox returns the inbox aggregate (keys.inbox and its companions).
func (s *Store) Inbox() store.Inbox { return inbox{s} }

type inbox struct{ s *Store }

var _ store.Inbox = inbox{}

// luaInbox defines inbox_put(inbox, counts, seq, record JSON, bound),
// which writes the record with the next Seq unless its conversation has
// bound entries (returns 1 written, 0 full, -1 id taken), and
// inbox_remove(inbox, counts, id), which deletes an entry and returns 1,
// or 0 when absent.
const luaInbox = `
local function inbox_put(inbox, counts, seqkey, rec, bound)
  local r = cjson.decode(rec)
  if redis.call('HEXISTS', inbox, r.id) == 1 then return -1 end
  local n = tonumber(redis.call('HGET', counts, r.conv) or '0')
  if n >= tonumber(bound) then return 0 end
  r.seq = redis.call('INCR', seqkey)
  redis.call('HSET', inbox, r.id, cjson.encode(r))
  redis.call('HINCRBY', counts, r.conv, 1)
  return 1
end

local function inbox_remove(inbox, counts, id)
  local v = redis.call('HGET', inbox, id)
  if not v then return 0 end
  redis.call('HDEL', inbox, id)
  local c = cjson.decode(v).conv
  if redis.call('HINCRBY', counts, c, -1) <= 0 then redis.call('HDEL', counts, c) end
  return 1
end
`

// enterScript is admitScript plus inbox_put. KEYS: budget, inbox, counts,
// seq, dedupe…. ARGV: claim ttl ms, rate, burst, record, bound. Returns
// {claimed, allowed, wait µs, written (1, 0 full, -1 id taken)}. An id
// already in the inbox is refused before anything is written (Lua does
// not roll back), so a retry of the same Enter is not taken for a
// duplicate delivery.
var enterScript = goredis.NewScript(luaNow + luaTake + luaInbox + `
if redis.call('HEXISTS', KEYS[2], cjson.decode(ARGV[4]).id) == 1 then return {0, 0, 0, -1} end
local claimed = 1
for i = 5, #KEYS do
  if not redis.call('SET', KEYS[i], '1', 'NX', 'PX', ARGV[1]) then claimed = 0 end
end
if claimed == 0 then return {0, 0, 0, 0} end
local ok, wait = take(KEYS[1], tonumber(ARGV[2]), tonumber(ARGV[3]), 1)
if ok == 0 then return {1, 0, wait, 0} end
return {1, 1, 0, inbox_put(KEYS[2], KEYS[3], KEYS[4], ARGV[4], ARGV[5])}
`)

// inboxPutScript is inbox_put alone (splitTurns). KEYS: inbox, counts,
// seq. ARGV: record, bound.
var inboxPutScript = goredis.NewScript(luaInbox + `
return inbox_put(KEYS[1], KEYS[2], KEYS[3], ARGV[1], ARGV[2])
`)

// inboxRemoveScript: KEYS: inbox, counts. ARGV: id.
var inboxRemoveScript = goredis.NewScript(luaInbox + `
return inbox_remove(KEYS[1], KEYS[2], ARGV[1])
`)

// adoptScript: KEYS: inbox. ARGV: from, to. Gives from's entries to to and
// returns them.
var adoptScript = goredis.NewScript(`
local all = redis.call('HGETALL', KEYS[1])
local out = {}
for i = 1, #all, 2 do
  local r = cjson.decode(all[i + 1])
  if r.owner == ARGV[1] then
    r.owner = ARGV[2]
    local v = cjson.encode(r)
    redis.call('HSET', KEYS[1], all[i], v)
    out[#out + 1] = v
  end
end
return out
`)

// enterArgs checks and encodes Enter's arguments.
func (s *Store) enterArgs(ids []string, claimTTL time.Duration, rate store.Limit, e store.InboxEntry, bound int) ([]string, []byte, error) {
	if err := s.check(); err != nil {
		return nil, nil, fmt.Errorf("enter turn: %w", err)
	}
	ids, err := codec.Enter(ids, claimTTL, rate, e, bound)
	if err != nil {
		return nil, nil, err
	}
	rec, err := codec.EncodeInbox(s.sealer, e)
	if err != nil {
		return nil, nil, err
	}
	data, err := json.Marshal(rec)
	if err != nil {
		return nil, nil, fmt.Errorf("enter turn: %w", err)
	}
	return ids, data, nil
}

// written maps inbox_put's result onto a.
func written(a *store.Admission, res int64, id string) error {
	switch res {
	case 1:
	case 0:
		a.Full = true
	default:
		return fmt.Errorf("enter turn: inbox entry %q already exists", id)
	}
	return nil
}

// Enter implements store.Turns with enterScript.
func (t scriptTurns) Enter(ctx context.Context, ids []string, claimTTL time.Duration, rateKey string, rate store.Limit, e store.InboxEntry, bound int) (store.Admission, error) {
	s := t.s
	ids, data, err := s.enterArgs(ids, claimTTL, rate, e, bound)
	if err != nil {
		return store.Admission{}, err
	}
	keys := []string{s.k.budget(rateKey), s.k.inbox(), s.k.inboxCounts(), s.k.inboxSeq()}
	for _, id := range ids {
		keys = append(keys, s.k.dedupe(id))
	}
	res, err := s.pipe.script(ctx, enterScript, keys, ms(claimTTL),
		strconv.FormatFloat(rate.Rate, 'g', -1, 64), rate.Burst, data, bound).Int64Slice()
	if err != nil {
		return store.Admission{}, s.wrap("enter turn", err)
	}
	if len(res) != 4 {
		return store.Admission{}, fmt.Errorf("enter turn: script returned %d values, want 4", len(res))
	}
	a := store.Admission{Claimed: res[0] == 1, Allowed: res[1] == 1, Wait: time.Duration(res[2]) * time.Microsecond}
	if (a.Claimed && a.Allowed) || res[3] == -1 {
		if err := written(&a, res[3], e.ID); err != nil {
			return store.Admission{}, err
		}
	}
	return a, nil
}

// Enter implements store.Turns (not atomically; see splitTurns): Admit,
// then the inbox script.
func (t splitTurns) Enter(ctx context.Context, ids []string, claimTTL time.Duration, rateKey string, rate store.Limit, e store.InboxEntry, bound int) (store.Admission, error) {
	s := t.s
	ids, data, err := s.enterArgs(ids, claimTTL, rate, e, bound)
	if err != nil {
		return store.Admission{}, err
	}
	// An id already in the inbox is refused before the claims are taken.
	taken, err := s.c.HExists(ctx, s.k.inbox(), e.ID).Result()
	if err != nil {
		return store.Admission{}, s.wrap("enter turn", err)
	}
	if taken {
		return store.Admission{}, fmt.Errorf("enter turn: inbox entry %q already exists", e.ID)
	}
	a, err := t.Admit(ctx, ids, claimTTL, rateKey, rate)
	if err != nil || !a.Claimed || !a.Allowed {
		return a, err
	}
	res, err := inboxPutScript.Run(ctx, s.c, []string{s.k.inbox(), s.k.inboxCounts(), s.k.inboxSeq()}, data, bound).Int64()
	if err != nil {
		return store.Admission{}, s.wrap("enter turn", err)
	}
	return a, written(&a, res, e.ID)
}

// removeInbox deletes entry id; it reports whether there was one.
func (s *Store) removeInbox(ctx context.Context, id string) (bool, error) {
	n, err := s.pipe.script(ctx, inboxRemoveScript, []string{s.k.inbox(), s.k.inboxCounts()}, id).Int()
	return n == 1, err
}

// List implements store.Inbox with HGETALL (the inbox holds the messages
// admitted and not yet answered: few).
func (i inbox) List(ctx context.Context) ([]store.InboxEntry, error) {
	s := i.s
	if err := s.check(); err != nil {
		return nil, fmt.Errorf("list inbox: %w", err)
	}
	all, err := s.c.HGetAll(ctx, s.k.inbox()).Result()
	if err != nil {
		return nil, s.wrap("list inbox", err)
	}
	out := make([]store.InboxEntry, 0, len(all))
	for _, v := range all {
		e, err := codec.DecodeInbox(s.sealer, []byte(v))
		if err != nil {
			return nil, fmt.Errorf("list inbox: %w", err)
		}
		out = append(out, e)
	}
	slices.SortFunc(out, func(a, b store.InboxEntry) int { return cmp.Compare(a.Seq, b.Seq) })
	return out, nil
}

// Remove implements store.Inbox.
func (i inbox) Remove(ctx context.Context, id string) error {
	s := i.s
	if err := s.check(); err != nil {
		return fmt.Errorf("remove inbox entry: %w", err)
	}
	ok, err := s.removeInbox(ctx, id)
	if err != nil {
		return s.wrap("remove inbox entry", err)
	}
	if !ok {
		return fmt.Errorf("remove inbox entry: %w", store.ErrNotFound)
	}
	return nil
}

// Adopt implements store.Inbox with adoptScript.
func (i inbox) Adopt(ctx context.Context, from, to string) ([]store.InboxEntry, error) {
	s := i.s
	if err := s.check(); err != nil {
		return nil, fmt.Errorf("adopt inbox: %w", err)
	}
	if err := codec.NonEmpty("adopt inbox", "owner", to); err != nil {
		return nil, err
	}
	vals, err := adoptScript.Run(ctx, s.c, []string{s.k.inbox()}, from, to).StringSlice()
	if err != nil {
		return nil, s.wrap("adopt inbox", err)
	}
	out := make([]store.InboxEntry, 0, len(vals))
	for _, v := range vals {
		e, err := codec.DecodeInbox(s.sealer, []byte(v))
		if err != nil {
			return nil, fmt.Errorf("adopt inbox: %w", err)
		}
		out = append(out, e)
	}
	slices.SortFunc(out, func(a, b store.InboxEntry) int { return cmp.Compare(a.Seq, b.Seq) })
	return out, nil
}
