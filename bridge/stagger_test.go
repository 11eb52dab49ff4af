package bridge

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/secondme-bridge/secondme-bridge/platforms"
	"github.com/secondme-bridge/secondme-bridge/platforms/platformtest"
	"github.com/secondme-bridge/secondme-bridge/secondme/secondmetest"
)

// Replies asked at once do not update in lockstep: each reply's first
// update after its first text comes its edit interval after it, never
// earlier, plus its own stagger (render.Stagger, up to an eighth of the
// interval), so the burst's updates spread over that eighth instead of
// falling due in the same millisecond.
func TestFirstUpdatesOfABurstAreStaggered(t *testing.T) {
	t.Parallel()
	const interval = 800 * time.Millisecond
	const n = 12
	h := newHarness(t, hopts{platform: edits(), cfg: func(c *Config) { c.EditInterval = interval }})
	deltas := words("A reply long enough to stream for about two seconds, so that it is edited at least once while it streams, and then finished.")
	for i := range n {
		h.link(fmt.Sprintf("u%d", i), fmt.Sprintf("User %d", i))
	}
	for range n {
		h.sm.QueueStream(secondmetest.Script{Deltas: deltas, Delay: 2 * time.Second / time.Duration(len(deltas))})
	}
	for i := range n {
		h.deliver(h.msg(fmt.Sprintf("u%d", i), fmt.Sprintf("c%d", i), "", "hi"))
	}
	h.waitReplies(n)
	sent := map[platforms.ChannelID]time.Time{}
	refs := map[platforms.MessageRef]platforms.ChannelID{}
	for _, c := range h.p.CallsOf(platformtest.CallSend) {
		if c.Err == nil {
			sent[c.Target.Channel] = c.At
			refs[c.Ref] = c.Target.Channel
		}
	}
	var gaps []time.Duration
	seen := map[platforms.ChannelID]bool{}
	for _, c := range h.p.CallsOf(platformtest.CallEdit) {
		ch := c.Ref.Channel
		if c.Err != nil || seen[ch] {
			continue
		}
		seen[ch] = true
		gap := c.At.Sub(sent[ch])
		if gap < interval {
			t.Errorf("channel %s: first update %v after the first text, want at least the interval %v", ch, gap, interval)
		}
		gaps = append(gaps, gap-interval)
	}
	if len(gaps) != n {
		t.Fatalf("%d replies were updated while streaming, want %d\n%s", len(gaps), n, h.p.Dump())
	}
	slices.Sort(gaps)
	// Twelve draws from [0, 100 ms): all within 25 ms of each other with
	// odds of about 3 in a million; without the stagger they fall within
	// a few milliseconds (the platform fake's and the scheduler's noise).
	if spread := gaps[n-1] - gaps[0]; spread < interval/32 {
		t.Errorf("first updates after the interval spread over %v (%v), want more than %v", spread, gaps, interval/32)
	}
}
