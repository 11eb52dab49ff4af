package main

import (
	"strings"
	"testing"
	"time"
)

// A -for shorter than the clock's step still takes one sample (it used to
// take none and panic on the empty percentiles).
func TestMeasureTinyLength(t *testing.T) {
	late := measure(time.Nanosecond, time.Microsecond)
	if len(late) == 0 {
		t.Fatal("no sample")
	}
	if s := summary(late, time.Microsecond); !strings.Contains(s, " sleeps of 1µs: overshoot p50 ") {
		t.Errorf("summary = %q", s)
	}
}

func TestSummary(t *testing.T) {
	late := []time.Duration{5, 1, 4, 2, 3, 10, 9, 8, 7, 6}
	want := "10 sleeps of 7ms: overshoot p50 6ns, p90 10ns, p99 10ns, max 10ns"
	if got := summary(late, 7*time.Millisecond); got != want {
		t.Errorf("summary = %q, want %q", got, want)
	}
}
