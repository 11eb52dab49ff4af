// Package testutil holds small helpers shared by the tests of several
// packages: SyncBuffer (a buffer a running server writes while the test
// reads it) and Logger (a slog logger on the test's output that outlives
// the test safely). It is imported by _test.go files and by test kits
// (store/storetest) only.
package testutil
