package bridge

import (
	"strings"
	"testing"
	"time"

	"github.com/secondme-bridge/secondme-bridge/bridge/budget"
	"github.com/secondme-bridge/secondme-bridge/platforms"
	"github.com/secondme-bridge/secondme-bridge/platforms/platformtest"
	"github.com/secondme-bridge/secondme-bridge/secondme/secondmetest"
	"github.com/secondme-bridge/secondme-bridge/store"
)

// A reply whose first text waits for its budget (the channel's, drained
// beforehand: one token per 2 s) keeps its typing indicator alive: the
// typing calls go on at the renewal interval, each drawing from the typing
// budget (taken at the lowest priority), until the first text is sent,
// and none comes after it. With a typing budget slower than the interval,
// the renewals follow the budget instead.
func TestTypingStaysOnWhileFirstTextWaits(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name     string
		interval time.Duration
		typing   platforms.Budget
		perSec   float64 // the most typing calls a second, from the interval or the budget
	}{
		{"renewed at the interval", 200 * time.Millisecond, platforms.Budget{Key: "test:bot", Rate: 50, Burst: 50}, 5},
		{"paced by the typing budget", 50 * time.Millisecond, platforms.Budget{Key: "test:bot", Rate: 4, Burst: 1}, 4},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			chanBudget := platforms.Budget{Key: "test:chan:c1", Rate: 0.5, Burst: 1}
			st := newStore(t, "bolt")
			l := store.Limit{Rate: chanBudget.Rate, Burst: chanBudget.Burst}
			drained, err := st.Budgets().Lease(t.Context(), store.Bucket{Key: chanBudget.Key, Limit: l, Grace: budget.SpendGrace(l)}, 1)
			if err != nil || drained.Granted != 1 {
				t.Fatalf("drain the channel budget: %+v, %v", drained, err)
			}
			h := newHarnessOn(t, hopts{platform: platformtest.Options{
				NoStream:      true,
				Limits:        platforms.Limits{TypingInterval: tc.interval},
				Budgets:       func(platforms.MessageRef) []platforms.Budget { return []platforms.Budget{chanBudget} },
				TypingBudgets: func(platforms.Target) []platforms.Budget { return []platforms.Budget{tc.typing} },
			}}, secondmetest.New(t), st)
			h.link("u1", "Ada")
			deltas := words(strings.Repeat("still thinking about it ", 10))
			h.sm.QueueStream(secondmetest.Script{Deltas: deltas, Delay: 100 * time.Millisecond})
			start := time.Now()
			h.deliver(h.msg("u1", "c1", "", "hi"))
			h.waitReplies(1)
			if got, want := h.p.Messages()[0].Text, joinDeltas(deltas); got != want {
				t.Errorf("final text %q, want %q", got, want)
			}
			sends := h.p.CallsOf(platformtest.CallSend)
			if len(sends) == 0 {
				t.Fatalf("no message sent\n%s", h.p.Dump())
			}
			first := sends[0]
			typings := h.p.CallsOf(platformtest.CallTyping)
			wait := first.At.Sub(start)
			if wait < time.Second {
				t.Fatalf("the first text came after %v: the drained budget did not hold it back", wait)
			}
			last := start
			for _, c := range typings {
				if c.Seq > first.Seq {
					t.Errorf("typing call %d after the first text (call %d)", c.Seq, first.Seq)
				}
				// Far below Discord's 10 s expiry at an 8 s interval: the
				// indicator never went dark while the text waited.
				if gap := c.At.Sub(last); gap > time.Second {
					t.Errorf("typing went dark for %v before the first text", gap)
				}
				last = c.At
			}
			if gap := first.At.Sub(last); gap > time.Second {
				t.Errorf("typing went dark for %v before the first text", gap)
			}
			if most := int(wait.Seconds()*tc.perSec) + 2; len(typings) > most {
				t.Errorf("%d typing calls in %v, want at most %d", len(typings), wait, most)
			}
			if len(typings) < 3 {
				t.Errorf("%d typing calls in %v, want them renewed while the text waited", len(typings), wait)
			}
		})
	}
}
