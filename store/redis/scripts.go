package redis

import goredis "github.com/redis/go-redis/v9"

// The Lua scripts. Each declares every key it touches in KEYS, and the keys
// of one call share a hash tag, so they run unchanged on Redis Cluster.
// Numbers go back to Redis through string.format, never Lua's default
// formatting (which may print 1e+12).

// putConvScript sets a conversation with its TTL and records it in the
// user's index, pruning index members that have expired.
// KEYS: conv, index. ARGV: value, ttl ms. Returns 1.
var putConvScript = goredis.NewScript(`
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local exp = now + tonumber(ARGV[2])
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', string.format('%d', now))
redis.call('ZADD', KEYS[2], string.format('%d', exp), KEYS[1])
local last = redis.call('ZRANGE', KEYS[2], -1, -1, 'WITHSCORES')
redis.call('PEXPIREAT', KEYS[2], string.format('%d', tonumber(last[2])))
return 1
`)

// deleteConvsScript deletes the given conversation keys and removes them
// from the user's index, dropping the index when it is empty.
// KEYS: index, conv… Returns how many conversations existed.
var deleteConvsScript = goredis.NewScript(`
local n = 0
for i = 2, #KEYS do
  n = n + redis.call('DEL', KEYS[i])
  redis.call('ZREM', KEYS[1], KEYS[i])
end
if redis.call('ZCARD', KEYS[1]) == 0 then redis.call('DEL', KEYS[1]) end
return n
`)

// acquireScript takes a lock if it is free or held by the same owner, with
// a fence from the key's counter. KEYS: lock, fence. ARGV: owner, ttl ms.
// Returns the new fence, or 0 if another owner holds the lock.
var acquireScript = goredis.NewScript(`
local owner = redis.call('HGET', KEYS[1], 'owner')
if owner and owner ~= ARGV[1] then return 0 end
local fence = redis.call('INCR', KEYS[2])
redis.call('HSET', KEYS[1], 'owner', ARGV[1], 'fence', string.format('%d', fence))
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return fence
`)

// leaseScript acts on a lock only if owner and fence match the current
// holder (an expired lock is gone, so it never matches). KEYS: lock.
// ARGV: owner, fence, op (validate|extend|release), ttl ms (extend).
// Returns 1 if the lease is current, 0 otherwise.
var leaseScript = goredis.NewScript(`
local cur = redis.call('HMGET', KEYS[1], 'owner', 'fence')
if cur[1] ~= ARGV[1] or cur[2] ~= ARGV[2] then return 0 end
if ARGV[3] == 'extend' then
  redis.call('PEXPIRE', KEYS[1], ARGV[4])
elseif ARGV[3] == 'release' then
  redis.call('DEL', KEYS[1])
end
return 1
`)

// takeScript is a token bucket on the server clock, so every replica sees
// the same time. KEYS: bucket. ARGV: rate per second, burst, n.
// Returns {1, 0} when granted, {0, wait µs} when not (nothing taken).
var takeScript = goredis.NewScript(`
local rate, burst, n = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local cur = redis.call('HMGET', KEYS[1], 'tokens', 'ts')
local tokens, ts = tonumber(cur[1]), tonumber(cur[2])
if tokens == nil or ts == nil then tokens, ts = burst, now end
if now > ts then
  tokens = tokens + (now - ts) / 1000000 * rate
  ts = now
end
if tokens > burst then tokens = burst end
if tokens < n then
  local wait = math.ceil((n - tokens) / rate * 1000000)
  if wait > 1000000000000000 then wait = 1000000000000000 end
  return {0, wait}
end
tokens = tokens - n
redis.call('HSET', KEYS[1], 'tokens', string.format('%.17g', tokens), 'ts', string.format('%d', ts))
local full = math.ceil((burst - tokens) / rate * 1000)
if full < 1 then full = 1 end
if full > 1000000000000 then full = 1000000000000 end
redis.call('PEXPIRE', KEYS[1], string.format('%d', full))
return {1, 0}
`)
