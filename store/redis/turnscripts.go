package redis

import goredis "github.com/redis/go-redis/v9"

// The Turns scripts combine the single-aggregate scripts' functions (see
// scripts.go), so their effects are the same. Unlike those, one call
// touches keys of several hash tags (dedupe ids and a budget; a lock, a
// user's conversation and link; a lock, a conversation and the replies
// hash). A single server does not care; on Cluster they run only when
// Options.KeyPrefix holds a hash tag that puts every key in one slot, and
// the store otherwise falls back to splitTurns (turns.go).

// admitScript claims every dedupe key (SET NX PX, as Claim) and, if all
// were new, takes one token (as Take). KEYS: budget, dedupe…. ARGV: claim
// ttl ms, rate per second, burst. Returns {claimed, allowed, wait µs}.
var admitScript = goredis.NewScript(luaNow + luaTake + `
local claimed = 1
for i = 2, #KEYS do
  if not redis.call('SET', KEYS[i], '1', 'NX', 'PX', ARGV[1]) then claimed = 0 end
end
if claimed == 0 then return {0, 0, 0} end
local ok, wait = take(KEYS[1], tonumber(ARGV[2]), tonumber(ARGV[3]), 1)
return {1, ok, wait}
`)

// beginScript acquires the lock (as Acquire) and, if it got it, reads the
// conversation and the link. KEYS: lock, fence, conv, link. ARGV: owner,
// ttl ms. Returns {0} on conflict, else {fence, conv or nil, link or nil}.
var beginScript = goredis.NewScript(luaAcquire + `
local fence = acquire(KEYS[1], KEYS[2], ARGV[1], ARGV[2])
if fence == 0 then return {0} end
return {fence, redis.call('GET', KEYS[3]), redis.call('GET', KEYS[4])}
`)

// finishScript, if the lease is current, stores the conversation (as
// PutConversation, when KEYS 5 and 6 are given), deletes the reply field
// and the inbox entry of that id (when ARGV[3] is not empty) and deletes
// the lock. KEYS: lock, replies, inbox, inbox counts [, conv, index].
// ARGV: owner, fence, reply id, conv value, ttl ms. Returns 1 when done,
// 0 (nothing written) when the lease is stale.
var finishScript = goredis.NewScript(luaCurrent + luaPutConv + luaInbox + `
if not current(KEYS[1], ARGV[1], ARGV[2]) then return 0 end
if #KEYS >= 6 then put_conv(KEYS[5], KEYS[6], ARGV[4], ARGV[5]) end
if ARGV[3] ~= '' then
  redis.call('HDEL', KEYS[2], ARGV[3])
  inbox_remove(KEYS[3], KEYS[4], ARGV[3])
end
redis.call('DEL', KEYS[1])
return 1
`)
