// Command tracecode reads an execution trace of the engine benchmark
// (go test -run '^$' -bench Conversations -benchtime 1x -trace FILE
// ./bridge/) and decomposes each intermediate update's code path (the
// window the benchmark's observer logs, category "code", from the
// flusher's wake-up to the platform call) into the flusher goroutine's
// states: running, runnable (waiting for a core), waiting (with the
// reason and the frames it waited in) and in a system call, with the GC
// mark assists it ran. It prints the code path's percentiles with and
// without the runnable time, those of the windows with and without a
// store round trip on the path, and what the slowest 1% waited for:
//
//	cd internal/tracecode && go run . FILE
//
// It is its own module (golang.org/x/exp/trace parses the trace), so that
// the bridge's module does not depend on it.
package main
