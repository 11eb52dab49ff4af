package bridge

import (
	"testing"
	"time"

	"github.com/secondme-bridge/secondme-bridge/platforms"
	"github.com/secondme-bridge/secondme-bridge/platforms/platformtest"
	"github.com/secondme-bridge/secondme-bridge/secondme/secondmetest"
)

// threadMsg is a channel mention asking for its own thread, as Discord's
// auto_thread announces it: Thread is the id the thread will have.
func (h *harness) threadMsg(user, text string) platforms.Event {
	ev := h.msg(user, "c1", "", text)
	ev.Thread, ev.WantsThread = platforms.ThreadID(ev.MessageID), true
	return ev
}

// TestThreadOpenedOnlyAfterAdmission: the thread a message asks for is
// opened for a linked user within the rate limit, and the reply goes there;
// an unlinked user's, a rate-limited one's and a duplicate never open one,
// and their answers go to the channel.
func TestThreadOpenedOnlyAfterAdmission(t *testing.T) {
	t.Parallel()
	h := newHarness(t, hopts{platform: edits(), cfg: func(c *Config) { c.UserRateLimit = 1 }})
	h.link("u1", "Ada")

	h.sm.QueueStream(secondmetest.Script{Deltas: []string{"In ", "the thread."}})
	first := h.threadMsg("u1", "open a thread please")
	h.deliver(first)
	h.waitText("In the thread.")
	h.deliver(first) // a redelivery: a duplicate, dropped
	h.deliver(h.threadMsg("u1", "too fast"))
	h.waitText("please slow down")
	h.deliver(h.threadMsg("u2", "who am I"))
	h.waitEphemeral("run /link")
	h.settle()

	opens := h.p.CallsOf(platformtest.CallOpenThread)
	if len(opens) != 1 || opens[0].Thread != platforms.ThreadID(first.MessageID) || opens[0].Text != "open a thread please" {
		t.Fatalf("thread openings = %+v, want one, on %s\n%s", opens, first.MessageID, h.p.Dump())
	}
	for _, m := range h.p.Messages() {
		switch {
		case m.Text == "In the thread.":
			if m.Target.Thread != first.Thread || m.Target.WantsThread {
				t.Errorf("reply target = %+v, want the opened thread %s", m.Target, first.Thread)
			}
		case m.Target.Thread != "":
			t.Errorf("%q went to thread %s, want the channel", m.Text, m.Target.Thread)
		}
	}
	for _, c := range h.p.CallsOf(platformtest.CallEphemeral) {
		if c.Target.Thread != "" {
			t.Errorf("private %q went to thread %s, want the channel", c.Text, c.Target.Thread)
		}
	}
	if n := len(h.chatCalls()); n != 1 {
		t.Errorf("%d chat calls, want 1", n)
	}
}

// TestThreadOpenFailureAnswersInChannel: when the platform cannot open the
// thread, the reply goes to the channel.
func TestThreadOpenFailureAnswersInChannel(t *testing.T) {
	t.Parallel()
	h := newHarness(t, hopts{platform: edits()})
	h.link("u1", "Ada")
	h.p.FailNext(platformtest.CallOpenThread, 1, 0)
	h.sm.QueueStream(secondmetest.Script{Deltas: []string{"Here ", "instead."}})
	h.deliver(h.threadMsg("u1", "a thread?"))
	h.waitText("Here instead.")
	h.settle()
	for _, m := range h.p.Messages() {
		if m.Target.Thread != "" {
			t.Errorf("%q went to thread %s, want the channel", m.Text, m.Target.Thread)
		}
	}
	if n := len(h.p.CallsOf(platformtest.CallOpenThread)); n != 1 {
		t.Errorf("%d thread openings, want 1", n)
	}
}

// TestAdoptedThreadRequestOpensThread: a message admitted by a process that
// died before answering still gets its thread: the request travels in the
// inbox entry, and the adopting process opens the thread and answers there.
func TestAdoptedThreadRequestOpensThread(t *testing.T) {
	t.Parallel()
	var ev platforms.Event
	h := newHarness(t, hopts{platform: edits(), beforeRun: func(h *harness) {
		h.b.tim.orphanEvery = 50 * time.Millisecond
		h.link("u1", "Ada")
		ev = h.threadMsg("u1", "left behind")
		admitAs(t, h, deadOwner, ev)
	}})
	h.waitReplies(1)
	h.settle()
	opens := h.p.CallsOf(platformtest.CallOpenThread)
	if len(opens) != 1 || opens[0].Thread != ev.Thread {
		t.Fatalf("thread openings = %+v, want one, on %s", opens, ev.Thread)
	}
	for _, m := range h.p.Messages() {
		if m.Target.Thread != ev.Thread {
			t.Errorf("%q went to %+v, want the opened thread %s", m.Text, m.Target, ev.Thread)
		}
	}
}
