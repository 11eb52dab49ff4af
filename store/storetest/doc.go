// Package storetest is the conformance suite every store.Store backend
// runs, in the style of dex's storage/conformance.
//
// A backend's test is a few lines:
//
//	func TestConformance(t *testing.T) {
//		t.Parallel()
//		storetest.RunTests(t, newStore)
//	}
//
//	func TestConcurrency(t *testing.T) {
//		t.Parallel()
//		storetest.RunConcurrencyTests(t, newStore)
//	}
//
// newStore must return a fresh, empty store for each call (it is called once
// per subtest, from parallel subtests) and register a t.Cleanup that closes
// it, ignoring store.ErrClosed (one subtest closes its store itself).
//
// RunTests checks the contract of each aggregate with exact sentinels
// (errors.Is), including TTLs with real short durations (50–300 ms), so a
// backend must honour expiry on read, not only in a background sweep.
// RunConcurrencyTests is kept apart, as in dex, because it hammers one key
// from up to 100 goroutines. RunEncryptionTest proves that tokens are not
// stored in plaintext, given a function that dumps the backend's raw bytes;
// RunAtRestTest does the same for one-time ids and interaction handles.
// RunKeyRotationTest reopens the backend's data under other keys (an
// Opener) to check previous keys, unreadable records and Rekey.
package storetest
