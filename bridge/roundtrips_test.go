package bridge

import (
	"maps"
	"testing"
	"time"

	"github.com/secondme-bridge/secondme-bridge/bridge/internal/keys"
	"github.com/secondme-bridge/secondme-bridge/secondme/secondmetest"
)

// A chat message costs six store round trips (besides the platform
// budgets and the recovery sweep's listings): Enter (claim, rate token and
// inbox entry), Begin, the in-flight record written ahead, the record with
// the first message, the record with the final text (before the final
// edit, so that a crash loses none of it), Finish. A duplicate costs one. The Stop button costs
// nothing while nobody stops: no cancel request or check is made.
func TestStoreRoundTripsPerMessage(t *testing.T) {
	t.Parallel()
	for _, kind := range storeKinds {
		t.Run(kind, func(t *testing.T) {
			t.Parallel()
			st := &countingStore{Store: newStore(t, kind)}
			h := newHarnessOn(t, hopts{platform: edits()}, secondmetest.New(t), st)
			h.link("u1", "Ada")
			// A reply that starts before the stop watch is up is checked
			// once when it comes up (stops.CatchUp): wait for it.
			waitFor(t, "the stop watch", h.b.stops.Watching)
			// The stream waits after its first delta until that is visible,
			// so the reply is recorded in flight, ahead of its first message
			// and with it.
			hold := make(chan struct{})
			h.sm.QueueStream(secondmetest.Script{Deltas: []string{"Hello ", "there"}, SessionID: "labs_sess_rt", Hold: hold, HoldAfter: 1})
			st.reset()
			ev := h.msg("u1", "c1", "", "hi")
			ev.Platform = testPlatform
			h.deliver(ev)
			h.waitInflight(1)
			// Released before the first message is shown, the stream could
			// end first, and its one message would be its final.
			h.waitText("Hello")
			close(hold)
			h.waitReplies(1)
			h.settle()
			h.deliver(ev) // a redelivery
			h.settle()

			got := st.snapshot()
			delete(got, "Reserve") // the platform's budgets
			delete(got, "Lease")   // (none for one reply, but budgets all the same)
			delete(got, "Return")
			delete(got, "ListReplies") // this test's waitInflight, and the sweep
			want := map[string]int64{"Enter": 2, "Begin": 1, "PutReply": 3, "Finish": 1}
			if !maps.Equal(got, want) {
				t.Errorf("store round trips = %v, want %v", got, want)
			}
			conv, err := h.st.Conversations().GetConversation(t.Context(), conversationKey(ev))
			if err != nil || conv.SessionID != "labs_sess_rt" {
				t.Errorf("stored conversation = %+v, %v; want session labs_sess_rt", conv, err)
			}
			if recs := h.inflight(); len(recs) != 0 {
				t.Errorf("in-flight records left: %+v", recs)
			}
			if n := len(h.chatCalls()); n != 1 {
				t.Errorf("%d chat calls, want 1", n)
			}
		})
	}
}

// While the upstream is silent, the in-flight record is still refreshed,
// so that a live reply never looks orphaned to the sweep.
func TestInflightRecordRefreshedWhileSilent(t *testing.T) {
	t.Parallel()
	st := &countingStore{Store: newStore(t, "bolt")}
	h := newHarnessOn(t, hopts{platform: edits()}, secondmetest.New(t), st)
	h.b.tim.recordEvery = 50 * time.Millisecond
	h.link("u1", "Ada")
	hold := make(chan struct{})
	h.sm.QueueStream(secondmetest.Script{Deltas: []string{"first ", "second"}, Hold: hold, HoldAfter: 1})
	h.deliver(h.msg("u1", "c1", "", "hi"))

	recs := h.waitInflight(1)
	first := recs[0].UpdatedAt
	deadline := time.Now().Add(waitLong)
	for {
		recs := h.inflight()
		if len(recs) == 1 && recs[0].UpdatedAt.After(first) && st.calls[opPutReply].Load() >= 3 {
			if recs[0].Text == "" {
				t.Errorf("refreshed record lost the flushed text")
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("in-flight record not refreshed while the upstream was silent: %+v", recs)
		}
		time.Sleep(20 * time.Millisecond)
	}
	close(hold)
	h.waitReplies(1)
	h.waitInflight(0)
	if got := h.p.Messages()[0].Text; got != "first second" {
		t.Errorf("reply = %q", got)
	}
}

// The conversation record of a user who is not linked is not created
// (thread follow-ups would otherwise be answered), and the lease is freed.
func TestNotLinkedLeavesNoConversation(t *testing.T) {
	t.Parallel()
	h := newHarness(t, hopts{platform: edits()})
	ev := h.msg("u9", "c1", "t1", "hi")
	ev.Platform = testPlatform
	h.deliver(ev)
	h.waitText("/link")
	h.settle()
	if _, err := h.st.Conversations().GetConversation(t.Context(), conversationKey(ev)); err == nil {
		t.Error("a conversation was stored for a user who is not linked")
	}
	if _, err := h.st.Locks().Acquire(t.Context(), "conv:"+keys.Conv(conversationKey(ev)), "probe", time.Second); err != nil {
		t.Errorf("conversation lease not freed: %v", err)
	}
}
