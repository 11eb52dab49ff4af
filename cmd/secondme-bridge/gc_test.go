package main

import (
	"fmt"
	"runtime/debug"
	"strings"
	"testing"
)

// TestTuneGC: without GOGC the program runs its collector at
// defaultGCPercent; a GOGC the runtime applied at start (a number, or
// off) is kept, and gcPercent reads each back.
func TestTuneGC(t *testing.T) {
	prev := debug.SetGCPercent(100)
	t.Cleanup(func() { debug.SetGCPercent(prev) })
	cases := []struct {
		env     string // GOGC in the environment
		applied int    // what the runtime made of it at start
		want    int
	}{
		{"", 100, defaultGCPercent},
		{"80", 80, 80},
		{"200", 200, 200},
		{"off", -1, -1},
	}
	for _, c := range cases {
		debug.SetGCPercent(c.applied)
		got := tuneGC(func(k string) string {
			if k == "GOGC" {
				return c.env
			}
			return ""
		})
		if got != c.want {
			t.Errorf("GOGC=%q: tuneGC = %d, want %d", c.env, got, c.want)
		}
		if now := gcPercent(); now != c.want {
			t.Errorf("GOGC=%q: the collector's target is %d after tuneGC, want %d", c.env, now, c.want)
		}
	}
}

// TestBinaryRunsItsGCPercent: the served binary runs its collector at
// defaultGCPercent without GOGC and at the operator's GOGC with one, and
// says which in its start line and on /metrics.
func TestBinaryRunsItsGCPercent(t *testing.T) {
	for _, c := range []struct {
		env  string
		want int
	}{{"", defaultGCPercent}, {"80", 80}} {
		t.Run("GOGC="+c.env, func(t *testing.T) {
			t.Setenv("GOGC", c.env) // the child's environment (startProc)
			e := newCrashEnv(t, "")
			p := startProc(t, e.path, freeAddr(t))
			if want := fmt.Sprintf("gogc=%d", c.want); !strings.Contains(p.logs(), want) {
				t.Errorf("start line lacks %s:\n%s", want, p.logs())
			}
			code, metrics := get(t, p.base+"/metrics")
			if want := fmt.Sprintf("\ngo_gc_gogc_percent %d\n", c.want); code != 200 || !strings.Contains(metrics, want) {
				t.Errorf("/metrics (%d) lacks %q", code, strings.TrimSpace(want))
			}
		})
	}
}
