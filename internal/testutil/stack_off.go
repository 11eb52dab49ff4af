//go:build !stackcheck

package testutil

// StacksMeasured reports that goroutineStacks reads the runtime's
// goroutines: only with the stackcheck build tag (see stack_on.go).
const StacksMeasured = false

func goroutineStacks() map[uintptr]uintptr { return nil }

func stacksLayoutOK() bool { return false }
