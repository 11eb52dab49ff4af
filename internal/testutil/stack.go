package testutil

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"
)

// WorkerStackSize is the stack a conversation's worker must keep within:
// the runtime's 8 KiB size class. One byte more and the runtime doubles it
// to 16 KiB.
const WorkerStackSize = 8 << 10

// StackCheckFlags are the go test flags CheckWorkerStacks needs; without
// them it skips (.ci/run passes them).
const StackCheckFlags = "-tags stackcheck -ldflags=-checklinkname=0"

// SkipUnlessStacksMeasured skips t unless CheckWorkerStacks can measure:
// built with StackCheckFlags, without the race detector (whose
// instrumentation changes the frames and doubles the stack guard).
func SkipUnlessStacksMeasured(t testing.TB) {
	t.Helper()
	if RaceEnabled {
		t.Skip("stack sizes are measured without the race detector (CI runs this test without it)")
	}
	if !StacksMeasured {
		t.Skipf("stack sizes are read from the runtime with go test %s (.ci/run does)", StackCheckFlags)
	}
}

// CheckWorkerStacks runs retire, which must end the workers goroutines
// (idle workers) and return once they have returned, and fails t when more
// of the goroutines that ended than a few (one in twenty, at least two)
// had grown past WorkerStackSize; it logs the sizes they had. The
// goroutines that ended are those whose stack shrank (a g that ends gives
// back any stack grown past its starting size, and may be reused with a
// new starting stack), each one's size read from the runtime's list of
// goroutines before and after (StacksMeasured: the stackcheck build tag
// and the linker flag that allows reading it, StackCheckFlags; it skips t
// without them). The GC must be off (debug.SetGCPercent(-1)) since before
// the workers ran, or their stacks may have been shrunk since they grew.
//
// It used to measure the stack the process gave back (MemStats.StackInuse)
// instead: that counts the stack spans freed, each shared by several
// stacks, and read 7.8–16 KiB per worker with every worker at 8 KiB.
func CheckWorkerStacks(t testing.TB, what string, workers int, retire func()) {
	t.Helper()
	SkipUnlessStacksMeasured(t)
	if workers <= 0 {
		t.Fatalf("%s: no worker to measure", what)
	}
	if !stacksLayoutOK() {
		t.Fatalf("%s: the runtime's goroutine layout is not the one read (the stack bounds first in runtime.g): update internal/testutil/stack_on.go", what)
	}
	before := goroutineStacks()
	retire()
	after := goroutineStacks()
	ended := map[uintptr]int{} // stack size → goroutines of that size that ended
	n := 0
	for g, size := range before {
		// With the GC off a stack only grows while its goroutine lives:
		// smaller now, it ended (and its g may have been reused since,
		// with a starting stack).
		if now, ok := after[g]; ok && now < size {
			ended[size]++
			n++
		}
	}
	sizes := slices.Sorted(maps.Keys(ended))
	var sb strings.Builder
	grown := 0
	for _, s := range sizes {
		fmt.Fprintf(&sb, " %d×%d B", ended[s], s)
		if s > WorkerStackSize {
			grown += ended[s]
		}
	}
	t.Logf("%s: %d goroutines ended (%d workers to retire), their stacks:%s", what, n, workers, sb.String())
	if n < workers {
		t.Fatalf("%s: %d goroutines gave back their stacks, fewer than the %d workers that retired: the measurement missed some", what, n, workers)
	}
	if most := max(2, n/20); grown > most {
		t.Errorf("%s: %d of %d workers grew their stacks past %d bytes during their turns (at most %d may)", what, grown, n, WorkerStackSize, most)
	}
}
