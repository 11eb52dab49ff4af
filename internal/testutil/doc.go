// Package testutil holds small helpers shared by the tests of several
// packages: SyncBuffer (a buffer a running server writes while the test
// reads it), Logger (a slog logger on the test's output that outlives
// the test safely), CheckWorkerStacks (the stacks a set of worker
// goroutines had when they ended, read from the runtime with the
// stackcheck build tag, against the 8 KiB size class) and RaceEnabled. It
// is imported by _test.go files and by test kits (store/storetest) only.
package testutil
