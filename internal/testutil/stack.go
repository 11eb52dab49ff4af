package testutil

import (
	"runtime"
	"testing"
)

// WorkerStackBound is the most stack, in bytes, each retiring worker may
// give back in CheckWorkerStacks: between the 8 KiB of a worker that
// stayed in the runtime's 8 KiB size class and the 16 KiB of one that
// grew. The stack pool's spans freed with the workers can hold stacks
// freed earlier (and the per-P caches keep some of theirs), hence the room
// above 8 KiB: 7.7–11.4 KiB were measured with the workers small, 13.9–18.2
// KiB with them grown.
const WorkerStackBound = 12800

// CheckWorkerStacks runs retire, which must end exactly workers goroutines
// and return once they have returned, and fails t when the goroutine stack
// given back, per worker, exceeds WorkerStackBound (it logs the figure).
// The GC must have been off (debug.SetGCPercent(-1)) since before
// the workers ran, or their stacks may have been shrunk since they grew.
func CheckWorkerStacks(t testing.TB, what string, workers int, retire func()) {
	t.Helper()
	if workers <= 0 {
		t.Fatalf("%s: no worker to measure", what)
	}
	var busy, retired runtime.MemStats
	runtime.ReadMemStats(&busy)
	retire()
	runtime.ReadMemStats(&retired)
	if retired.StackInuse >= busy.StackInuse {
		t.Fatalf("%s: no stack given back when %d workers retired (%d → %d bytes in use): the measurement saw nothing",
			what, workers, busy.StackInuse, retired.StackInuse)
	}
	per := (busy.StackInuse - retired.StackInuse) / uint64(workers)
	t.Logf("%s: %d workers gave back %d bytes of stack each when they retired", what, workers, per)
	if per > WorkerStackBound {
		t.Errorf("%s: each retiring worker gave back %d bytes of stack: the workers grew past 8 KiB during their turns", what, per)
	}
}
