// Package storetest is the conformance suite every store.Store backend
// runs, in the style of dex's storage/conformance.
//
// A backend of the kit (Kinds: memory, bolt, Redis) runs both suites with
//
//	func TestSuites(t *testing.T) {
//		t.Parallel()
//		storetest.RunAll(t, storetest.Memory)
//	}
//
// and another backend (or a variant, such as Redis's Cluster fallback)
// with RunTests(t, newStore) and RunConcurrencyTests(t, newStore), where
// newStore must return a fresh, empty store for each call (it is called
// once per subtest, from parallel subtests) and register a t.Cleanup that
// closes it, ignoring store.ErrClosed (one subtest closes its store
// itself).
//
// RunTests checks the contract of each aggregate with exact sentinels
// (errors.Is), including TTLs with real short durations (50–300 ms), so a
// backend must honour expiry on read, not only in a background sweep.
// RunConcurrencyTests is kept apart, as in dex, because it hammers one key
// from up to 100 goroutines. RunEncryptionTest proves that tokens are not
// stored in plaintext, given a function that dumps the backend's raw bytes;
// RunAtRestTest does the same for one-time ids and interaction handles.
// RunKeyRotationTest reopens the backend's data under other keys (an
// Opener, such as Backend.OpenWith) to check previous keys, unreadable
// records and Rekey.
//
// # The kit
//
// Every package's tests get their stores here instead of copying the
// set-up: Open(t, kind) is a fresh empty store closed when the test ends;
// NewBackend gives the data of one store (a memory Data, a bolt file, a
// fresh Redis key prefix deleted at the end) on which each Open is another
// handle, as a second replica or a restarted process sees it, and whose
// Dump is every byte it holds (for at-rest tests). RunAll runs every suite
// on a kind: conformance, concurrency, encryption, at rest and key
// rotation. NewSealer is a sealer with a random key. Redis is found at RedisURL
// (SECONDME_BRIDGE_TEST_REDIS_URL, default 127.0.0.1:6379/0) and the
// Cluster and Sentinel topologies at TopologyURL; without them the tests
// skip with a message saying how to run them, and under CI=true they fail
// (RequireRedis): CI runs every backend.
//
// Tests in which Redis must be down, go away or come back never stop the
// shared server: NewRedisServer gives them a private redis-server (from
// PATH, under the same skip-or-fail rule) on a port of their own, which
// they Start and Stop, and which is killed when the test ends.
package storetest
