package discord

import (
	"testing"
	"time"
)

// TestJitteredSpreadsWaits: every wait lies in [d/2, d], and the waits of
// many reconnects differ (without jitter they would all equal d).
func TestJitteredSpreadsWaits(t *testing.T) {
	t.Parallel()
	const d = 8 * time.Second
	seen := map[time.Duration]bool{}
	for range 200 {
		w := jittered(d)
		if w < d/2 || w > d {
			t.Fatalf("jittered(%s) = %s, want within [%s, %s]", d, w, d/2, d)
		}
		seen[w] = true
	}
	if len(seen) < 100 {
		t.Errorf("200 jittered waits took only %d distinct values: not spread", len(seen))
	}
	if got := jittered(0); got != 0 {
		t.Errorf("jittered(0) = %s, want 0", got)
	}
}
