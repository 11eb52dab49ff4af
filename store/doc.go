// Package store declares the bridge's persistent state: one Store
// interface, grouped by aggregate, that three backends implement and one
// conformance suite checks.
//
// # Aggregates
//
//   - Links: a platform user ↔ SecondMe identity with its OAuth token;
//     read-modify-write through UpdateLink's updater closure.
//   - Conversations: a conversation key → SecondMe sessionId, with a TTL;
//     DeleteUserConversations clears one user's (on unlink).
//   - States: one-time link ids and OAuth states, with a TTL; ConsumeState
//     returns a state to exactly one caller.
//   - Dedupe: first-writer-wins claims of platform event ids, with a TTL.
//   - Locks: lease locks with fencing tokens. A fence increases with every
//     Acquire of a key and never repeats, even after release or expiry;
//     Extend, Release and Validate refuse a lease that is not current.
//   - Replies: in-flight replies, so a crashed replica's can be finalized.
//   - Liveness: each process's heartbeat with a short TTL, so that the
//     replies, inbox entries and leases of a dead process are taken over at
//     once (bolt forgets every record when it opens its file).
//   - Inbox: the admitted messages not yet answered, per conversation,
//     written by Turns.Enter with the dedupe claim and removed by
//     Turns.Finish, so a crash loses none; a live process Adopts a dead
//     one's. Items are sealed at rest.
//   - Cancels: stop requests for streaming replies, with a TTL: the
//     replica that gets a Stop click Requests (first request wins), which
//     announces it to every replica's Watch (Redis pub/sub, in process for
//     memory and bolt); Requested catches up after a watch restarts.
//   - Budgets: token buckets shared by all replicas (platform rate limits
//     with Reserve, which can reserve tokens for a moment ahead and takes
//     several buckets at once, ReserveEach, which decides several such
//     reservations in one round trip, each at a moment of its own or at
//     its first bucket's earliest token within a bound (Within: a batch
//     of tokens due now and later), and Lease/Return, which take a batch of one
//     shared bucket in one round trip and give back what was not spent;
//     other limits with Take).
//
// # Errors
//
// Methods return the sentinels ErrNotFound, ErrConflict, ErrStaleFence and
// ErrClosed, possibly wrapped ("get link: store: not found"); match them
// with errors.Is. ErrUnseal means a sealed value could not be decrypted
// (the encryption key changed); links report it together with ErrNotFound. Bad arguments (a ttl <= 0, an empty id, an
// impossible Budgets.Take) get a plain descriptive error. Errors never
// contain tokens or state ids.
//
// # TTLs
//
// A TTL is part of the contract: once it has passed, reads report
// ErrNotFound, create-only writes (PutState, Claim, Acquire) succeed again,
// and the entry is not counted (DeleteUserConversations). Redis expires keys
// itself; bolt stores the deadline with the value, checks it on every read
// and deletes expired entries in a background sweep; memory does the same
// in its maps, sweeping from a write at most once a minute.
//
// # Encryption at rest
//
// A Sealer (AES-256-GCM, key = store.encryption_key, base64 of 32 bytes,
// see ParseKey) seals, each with a random nonce and additional data that
// binds it to its place: the link tokens (AccessToken, RefreshToken, bound
// to the user and the field), a pending link's Interaction handle and
// every in-flight reply ref's Extra (interaction tokens, Slack response
// URLs: whoever holds one can answer as the bot), every inbox entry's Item
// (the user's message and its handles, bound to the entry and its
// conversation) and a workspace install's bot and refresh tokens (bound to
// the workspace and the field). One-time ids (link ids,
// OAuth states) are never stored: their keyed hash (Sealer.HashID) names
// the record. Everything else is stored in the clear.
//
// Key rotation: the Sealer also opens values sealed under previous keys
// (store.previous_encryption_keys); every write seals under the current
// key, and a Rekeyer (every backend) re-seals every record at once. A
// record that no configured key opens is treated as absent (GetLink's
// error wraps both ErrNotFound and ErrUnseal; Turns.Begin reports no link;
// a state or reply loses its handle; an inbox entry is listed Unreadable,
// so that it can be removed; GetInstall's error wraps ErrUnseal) and
// warned about once per record.
//
// # Backends
//
// store/bolt (driver "bolt", the default) keeps everything in one bbolt
// file, for one process. store/memory keeps everything in maps in the
// process (no driver: tests, and the base for in-process budgets); stores
// opened on one memory.Data share it as replicas share a Redis.
// store/redis (driver "redis") is shared by any
// number of replicas. Its URL (store.redis_url) selects the topology:
//
//	redis://[user:password@]host:6379/0          one server
//	rediss://…                                   one server over TLS
//	redis://h1:6379?cluster=true&addr=h2:6379    Redis Cluster (seed nodes)
//	redis://s1:26379?master_name=mymaster&addr=s2:26379
//	                                              Redis Sentinel
//
// with go-redis's snake_case options in the query (dial_timeout=3s, …).
// All its keys start with store.key_prefix; keys that one script uses
// together share a {hash tag}, so it runs on Cluster. See the backend
// packages for their layouts.
//
// # Conformance
//
// store/storetest runs the same suite against every backend:
// RunTests (each aggregate's contract, exact sentinels, TTLs),
// RunConcurrencyTests (100 goroutines racing on one key) and
// RunEncryptionTest and RunAtRestTest (no plaintext token, one-time id or
// interaction handle in the backend's raw bytes, inbox items and installs
// included, in the clear or in base64), RunKeyRotationTest (previous keys,
// unreadable records, Rekey, over every kind of sealed record), on memory,
// bolt and Redis.
// storetest also gives any package's tests a store of each kind (Open,
// NewBackend), with the CI rule written once: without a Redis, Redis tests
// skip, and under CI=true they fail. Tests in which Redis must be down or
// come back get a private redis-server to stop and start
// (NewRedisServer); no test uses an in-process fake of Redis.
package store
