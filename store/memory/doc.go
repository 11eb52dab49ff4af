// Package memory is the in-process store.Store backend: every aggregate in
// maps behind one mutex, nothing on disk. It passes the same conformance
// suite (store/storetest) as store/bolt and store/redis, with the same
// semantics: TTLs honoured on read, fences that never repeat, Turns
// methods atomic, budgets with the same token bucket and GCRA arithmetic
// (store/internal/codec), link tokens sealed with store.Sealer.
//
// It serves fast engine tests, and processes that need no durability: its
// state is lost when the process exits. Several Store handles opened on
// one Data share it, as replicas share a Redis (each handle has its own
// sealer, clock and Close).
//
// Every method takes the Data's mutex for its whole read-modify-write, so
// each is atomic; UpdateLink calls fn while holding it (fn must not call
// the store). Expired entries are removed by a sweep run under the same
// mutex from a write at most once per Options.SweepInterval; there is no
// background goroutine.
package memory
