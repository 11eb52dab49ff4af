package bridge

import (
	"math"
	"testing"
	"time"

	"github.com/secondme-bridge/secondme-bridge/platforms/platformtest"
	"github.com/secondme-bridge/secondme-bridge/secondme/secondmetest"
)

func TestStreamedReply(t *testing.T) {
	t.Parallel()
	for _, kind := range storeKinds {
		t.Run(kind, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t, hopts{store: kind, platform: edits()})
			h.link("u1", "Ada")
			deltas := words("Hello there! This is a streamed reply from your avatar, arriving a few characters at a time.")
			h.sm.QueueStream(secondmetest.Script{Deltas: deltas, Delay: 15 * time.Millisecond})
			h.deliver(h.msg("u1", "c1", "", "hi"))
			st := h.waitReplies(1)[0]

			msgs := h.p.Messages()
			if len(msgs) != 1 {
				t.Fatalf("want 1 message, got %d\n%s", len(msgs), h.p.Dump())
			}
			if want := joinDeltas(deltas); msgs[0].Text != want {
				t.Errorf("final text = %q, want %q", msgs[0].Text, want)
			}
			calls := h.p.Calls()
			firstText := -1
			typing := -1
			updates := 0
			for i, c := range calls {
				switch c.Kind {
				case platformtest.CallTyping:
					if typing < 0 {
						typing = i
					}
				case platformtest.CallSend, platformtest.CallEdit:
					if firstText < 0 {
						firstText = i
					}
					updates++
				}
			}
			if typing < 0 || typing > firstText {
				t.Errorf("typing (call %d) not before the first text (call %d)\n%s", typing, firstText, h.p.Dump())
			}
			limit := int(math.Ceil(float64(st.Streaming)/float64(50*time.Millisecond))) + 1
			if updates > limit || updates != st.Updates {
				t.Errorf("%d updates (stats %d) for %s of streaming, want at most %d", updates, st.Updates, st.Streaming, limit)
			}
			if updates < 3 {
				t.Errorf("only %d updates: the reply did not stream", updates)
			}
			if calls[firstText].Target.ReplyTo == "" {
				t.Error("the reply is not threaded to the triggering message")
			}
			h.settle()
			if recs := h.inflight(); len(recs) != 0 {
				t.Errorf("in-flight records left: %+v", recs)
			}
			h.p.AssertNoMentions(t)
		})
	}
}

func TestRepliesInOrderNeverInterleave(t *testing.T) {
	t.Parallel()
	for _, kind := range storeKinds {
		t.Run(kind, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t, hopts{store: kind, platform: edits()})
			h.link("u1", "Ada")
			h.sm.SetStreamHandler(func(c secondmetest.ChatCall) secondmetest.Script {
				return secondmetest.Script{Deltas: words("answer to " + c.Message + " with some more words"), Delay: 10 * time.Millisecond}
			})
			for _, q := range []string{"one", "two", "three"} {
				h.deliver(h.msg("u1", "c1", "t1", q))
			}
			h.waitReplies(3)
			if got := h.asked(); got != "one,two,three" {
				t.Errorf("asked in order %s", got)
			}
			msgs := h.p.Messages()
			if len(msgs) != 3 {
				t.Fatalf("want 3 messages\n%s", h.p.Dump())
			}
			// Every call touching reply i comes before the first call of reply i+1.
			owner := map[string]int{}
			for i, m := range msgs {
				owner[string(m.Ref.ID)] = i
				if want := "answer to " + []string{"one", "two", "three"}[i] + " with some more words"; m.Text != want {
					t.Errorf("reply %d = %q, want %q", i, m.Text, want)
				}
			}
			last := -1
			for _, c := range h.p.CallsOf(platformtest.CallSend, platformtest.CallEdit) {
				i := owner[string(c.Ref.ID)]
				if i < last {
					t.Fatalf("reply %d updated after reply %d started\n%s", i, last, h.p.Dump())
				}
				last = i
			}
		})
	}
}
