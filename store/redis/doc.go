// Package redis is the shared store.Store backend, on go-redis's
// UniversalClient: one server, Sentinel or Cluster, chosen by the URL (see
// ParseURL). Any number of bridge replicas may share one store.
//
// # Keys
//
// Every key starts with Options.KeyPrefix (default "secondme-bridge:");
// parts are query-escaped, so they never hold ':', '{' or '}'. With prefix
// P:
//
//	P link:<platform>:<workspace>:<user>         STRING JSON, tokens sealed
//	P conv:{<user key>}:<channel>:<thread>      STRING JSON, PX ttl
//	P convs:{<user key>}                        ZSET conv keys by expiry
//	P state:<id>                                STRING JSON, PX ttl
//	P dedupe:<id>                               STRING "1", PX ttl
//	P lock:{<key>}                              HASH owner, fence; PX ttl
//	P fence:{<key>}                             STRING counter, no TTL
//	P replies                                   HASH id → JSON
//	P budget:<key>                              HASH tokens, ts; PX to full
//	P rsv:<key>                                 STRING GCRA arrival time; PX to it
//
// Keys a script or MULTI uses together share a {hash tag}, so every
// operation runs on Cluster; a prefix may itself hold a complete hash tag
// ("{bridge}:") to put all keys in one slot.
//
// # Atomicity
//
// PutState and Claim are SET NX PX; ConsumeState is GETDEL (Redis ≥ 6.2).
// Acquire is one Lua script (free or same owner → INCR the fence counter,
// HSET owner and fence, PEXPIRE); Extend, Release and Validate are one
// script that compares owner and fence first. Take is a Lua token bucket
// on the server's TIME, so replicas with skewed clocks agree; Reserve is
// one Lua script over all its buckets, on TIME too (on Cluster without a
// hash tag in KeyPrefix it goes bucket by bucket and refunds, see
// splitBudgets). ReserveEach is one Lua script deciding every request in
// order, a request with a Within at its first bucket's earliest token
// (bucket by bucket, request by request, on Cluster without a hash tag,
// where a Within costs one more round trip to read the first bucket). Lease and Return are one single-key script each, so they
// run on Cluster whatever the prefix. UpdateLink is a WATCH/MULTI loop: fn may run several
// times. PutConversation adds the key to the user's index and prunes
// expired members in one script; DeleteUserConversations deletes the
// indexed keys (expired ones are not counted) and the index.
//
// # Turns
//
// Each Turns method is one Lua script built from the same Lua functions as
// Claim, Take, Acquire, Validate/Release and PutConversation (so the keys,
// TTLs and encodings are the same): Admit is SET NX PX per id then the
// token bucket; Begin is the acquire then GET of the conversation and the
// link (tokens are opened in Go afterwards); Finish checks owner and fence,
// then PutConversation's writes, HDEL of the reply and DEL of the lock.
// These scripts touch keys of several hash tags. On Redis Cluster they run
// only when KeyPrefix holds a hash tag; otherwise Turns falls back to the
// separate calls, two round trips for Admit and Begin and a non-atomic
// Finish (see splitTurns).
//
// # Round trips
//
// The hot path's commands (the Turns scripts, the in-flight records, the
// lease scripts, the inbox removal) go through a group pipeline
// (group.go), as the bolt store's writes share a group commit (both on
// store/internal/group): a call that
// finds no pipeline in flight is sent at once, alone and with its own
// context; calls that come while one is in flight wait for the next, which
// sends them all in one round trip. Each command still runs on its own
// (a pipeline, not a transaction) and gets its own reply or error; a
// script the server has not cached is sent again by EVAL. Budgets are not
// in it: the pacer gathers them itself (ReserveEach).
//
// # Availability
//
// Open fails only on a bad URL, prefix or sealer. If Redis is unreachable
// it logs a warning and returns the store anyway: Ping reports the error
// (for /readyz), methods return wrapped connection errors, and go-redis
// reconnects on its own. Install GoRedisLogger to route go-redis's own dial
// warnings to slog.
package redis
