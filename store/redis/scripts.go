package redis

import goredis "github.com/redis/go-redis/v9"

// The Lua scripts. Each declares every key it touches in KEYS, and the keys
// of one call share a hash tag, so they run unchanged on Redis Cluster
// (the Turns scripts in turnscripts.go are the exception; see there).
// Numbers go back to Redis through string.format, never Lua's default
// formatting (which may print 1e+12). The bodies shared by several scripts
// (a single-aggregate script and a Turns script, the two Reserve scripts)
// are Lua functions defined once below, so they have exactly the same
// effects; a script prepends the definitions it calls, and those they call.

// luaNow defines now_us(): the server clock (TIME) in µs.
const luaNow = `
local function now_us()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000000 + tonumber(t[2])
end
`

// luaPutConv defines put_conv(conv, index, value, ttl ms): it sets a
// conversation with its TTL and records it in the user's index, pruning
// index members that have expired.
const luaPutConv = `
local function put_conv(conv, index, value, ttl)
  local t = redis.call('TIME')
  local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
  local exp = now + tonumber(ttl)
  redis.call('SET', conv, value, 'PX', ttl)
  redis.call('ZREMRANGEBYSCORE', index, '-inf', string.format('%d', now))
  redis.call('ZADD', index, string.format('%d', exp), conv)
  local last = redis.call('ZRANGE', index, -1, -1, 'WITHSCORES')
  redis.call('PEXPIREAT', index, string.format('%d', tonumber(last[2])))
end
`

// luaAcquire defines acquire(lock, fence, owner, ttl ms): it takes a lock
// if it is free or held by the same owner, with a fence from the key's
// counter, and returns the new fence, or 0 if another owner holds it.
const luaAcquire = `
local function acquire(lock, fencekey, owner, ttl)
  local cur = redis.call('HGET', lock, 'owner')
  if cur and cur ~= owner then return 0 end
  local fence = redis.call('INCR', fencekey)
  redis.call('HSET', lock, 'owner', owner, 'fence', string.format('%d', fence))
  redis.call('PEXPIRE', lock, ttl)
  return fence
end
`

// luaCurrent defines current(lock, owner, fence): whether owner and fence
// match the current holder (an expired lock is gone, so it never matches).
const luaCurrent = `
local function current(lock, owner, fence)
  local cur = redis.call('HMGET', lock, 'owner', 'fence')
  return cur[1] == owner and cur[2] == fence
end
`

// luaTake defines take(bucket, rate per second, burst, n): a token bucket
// on the server clock, so every replica sees the same time. It returns
// 1, 0 when granted and 0, wait µs when not (nothing taken). It calls
// now_us (luaNow).
const luaTake = `
local function take(bucket, rate, burst, n)
  local now = now_us()
  local cur = redis.call('HMGET', bucket, 'tokens', 'ts')
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
    return 0, wait
  end
  tokens = tokens - n
  redis.call('HSET', bucket, 'tokens', string.format('%.17g', tokens), 'ts', string.format('%d', ts))
  local full = math.ceil((burst - tokens) / rate * 1000)
  if full < 1 then full = 1 end
  if full > 1000000000000 then full = 1000000000000 end
  redis.call('PEXPIRE', bucket, string.format('%d', full))
  return 1, 0
end
`

// luaGCRA defines the step of the generic cell rate algorithm (codec.GCRA)
// on one bucket, whose STRING value is its theoretical arrival time (TAT,
// server µs):
//
//   - gcra(bucket, due µs, interval µs, tolerance µs) reads the TAT and
//     returns its previous value (false when there was none), the new TAT
//     if granted (formatted, as it would be stored) and by how many µs the
//     bucket is short (0 when granted: within half a µs).
//   - gcra_set(bucket, now µs, new TAT as gcra returned it) stores it,
//     expiring when it is reached (at least 1 ms).
const luaGCRA = `
local function gcra(bucket, due, interval, tol)
  local prev = redis.call('GET', bucket)
  local tat = tonumber(prev) or 0
  if due > tat then tat = due end
  local new = tat + interval
  local over = new - due - tol
  if over <= 0.5 then over = 0 end
  return prev, string.format('%.17g', new), over
end

local function gcra_set(bucket, now, new)
  local ttl = math.ceil((tonumber(new) - now) / 1000)
  if ttl < 1 then ttl = 1 end
  redis.call('SET', bucket, new, 'PX', string.format('%d', ttl))
end
`

// putConvScript: KEYS: conv, index. ARGV: value, ttl ms. Returns 1.
var putConvScript = goredis.NewScript(luaPutConv + `
put_conv(KEYS[1], KEYS[2], ARGV[1], ARGV[2])
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

// acquireScript: KEYS: lock, fence. ARGV: owner, ttl ms. Returns the new
// fence, or 0 if another owner holds the lock.
var acquireScript = goredis.NewScript(luaAcquire + `
return acquire(KEYS[1], KEYS[2], ARGV[1], ARGV[2])
`)

// leaseScript acts on a lock only if owner and fence match the current
// holder. KEYS: lock. ARGV: owner, fence, op (validate|extend|release), ttl
// ms (extend). Returns 1 if the lease is current, 0 otherwise.
var leaseScript = goredis.NewScript(luaCurrent + `
if not current(KEYS[1], ARGV[1], ARGV[2]) then return 0 end
if ARGV[3] == 'extend' then
  redis.call('PEXPIRE', KEYS[1], ARGV[4])
elseif ARGV[3] == 'release' then
  redis.call('DEL', KEYS[1])
end
return 1
`)

// takeScript: KEYS: bucket. ARGV: rate per second, burst, n. Returns
// {1, 0} when granted, {0, wait µs} when not (nothing taken).
var takeScript = goredis.NewScript(luaNow + luaTake + `
local ok, wait = take(KEYS[1], tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3]))
return {ok, wait}
`)
