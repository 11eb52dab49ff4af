//go:build race

package testutil

// RaceEnabled reports that the race detector is on: its instrumentation
// changes frame sizes and doubles the runtime's stack guard, so a test of
// stack sizes skips under it.
const RaceEnabled = true
