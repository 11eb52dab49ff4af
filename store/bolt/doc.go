// Package bolt is the embedded store.Store backend, on go.etcd.io/bbolt:
// one file, one process. It is the default driver (store.driver: bolt).
//
// Layout: one bucket per aggregate (links, conversations, states, dedupe,
// locks, fences, replies, budgets); keys are built by store/internal/codec
// (query-escaped parts joined by ':'); values are JSON.
//
// bbolt has no TTLs, so a value with a TTL is stored as {"exp": unix-nanos,
// "v": value}. Every read treats an entry at or past exp as absent, and a
// sweeper goroutine started by Open (every Options.SweepInterval, stopped by
// Close) deletes expired entries from the file.
//
// Atomicity comes from bbolt's single-writer Update transactions: each
// read-modify-write (ConsumeState, Claim, Acquire, Take, UpdateLink, …) is
// one transaction. UpdateLink therefore calls fn exactly once, while the
// write lock is held; fn must not call the store. Fence counters live in
// their own bucket and are never deleted, so a fence never repeats even
// after a release or expiry. Each Turns method (Admit, Begin, Finish) is
// one transaction made of the same steps as the methods it combines. Tokens are sealed with store.Sealer before they
// reach the file.
//
// Short-lived writes (Claim, Turns.Admit, Take, Reserve, ReserveEach,
// Lease, Return) and the durable writes of a turn's hot path (Turns.Enter,
// Begin and Finish, PutReply, DeleteReply, Inbox.Remove, Locks.Extend and
// Release) go through a group commit: calls that arrive while a commit
// runs share the next transaction and its fsync, and each returns only
// once its writes are on disk (group.go). Their expected refusals (a stale
// lease, a missing record) are found before anything is written and
// returned after the commit, so they never roll a shared transaction back.
// With Options.BudgetsInMemory the reservation buckets (Reserve,
// ReserveEach, Lease, Return) live in memory instead, never written: a
// restart starts with them full.
//
// Open takes an exclusive file lock; a second Open of the same file, from
// this or another process, fails after Options.OpenTimeout with an error
// naming the file and wrapping bbolt's errors.ErrTimeout.
package bolt
