package bridge

import (
	"strings"
	"testing"
	"time"

	"github.com/secondme-bridge/secondme-bridge/bridge/internal/keys"
	"github.com/secondme-bridge/secondme-bridge/platforms/platformtest"
	"github.com/secondme-bridge/secondme-bridge/secondme/secondmetest"
)

func TestQueueOverflow(t *testing.T) {
	t.Parallel()
	h := newHarness(t, hopts{platform: edits(), cfg: func(c *Config) { c.QueueSize = 1 }})
	h.link("u1", "Ada")
	hold := make(chan struct{})
	h.sm.QueueStream(secondmetest.Script{Deltas: []string{"first ", "reply"}, HoldAfter: 1, Hold: hold})
	h.deliver(h.msg("u1", "c1", "", "one"))
	h.p.MustWaitFor(t, waitLong, "the first reply to show", func(p *platformtest.Platform) bool {
		return len(p.CallsOf(platformtest.CallSend)) == 1
	})
	h.deliver(h.msg("u1", "c1", "", "two"))   // waits
	h.deliver(h.msg("u1", "c1", "", "three")) // over the bound
	h.waitText("Still answering your previous messages")
	close(hold)
	h.waitReplies(2)
	if got := h.asked(); got != "one,two" {
		t.Errorf("asked %s, want one,two", got)
	}
	// Another conversation is not affected by this one's queue.
	h.deliver(h.msg("u1", "c2", "", "elsewhere"))
	h.waitReplies(3)
}

func TestDuplicateEventsGiveOneReply(t *testing.T) {
	t.Parallel()
	for _, kind := range storeKinds {
		t.Run(kind, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t, hopts{store: kind, platform: edits()})
			h.link("u1", "Ada")
			ev := h.msg("u1", "c1", "", "hello")
			ev.DedupeIDs = []string{"ev:E1", "msg:C1:100.1"}
			h.deliver(ev)
			h.deliver(ev) // a retry
			ev.DedupeIDs = []string{"ev:E2", "msg:C1:100.1"}
			h.deliver(ev) // the same message under another event (app_mention + message)
			h.waitReplies(1)
			h.deliver(h.msg("u1", "c1", "", "after"))
			h.waitReplies(2)
			if n := len(h.chatCalls()); n != 2 {
				t.Errorf("%d chat calls, want 2 (one per distinct message)", n)
			}
		})
	}
}

func TestUnaddressedFollowUps(t *testing.T) {
	t.Parallel()
	h := newHarness(t, hopts{platform: edits()})
	h.link("u1", "Ada")
	h.link("u2", "Bob")
	ignored := h.msg("u1", "c1", "t1", "not for the bot")
	ignored.Addressed = false
	h.deliver(ignored)
	h.deliver(h.msg("u1", "c1", "t1", "hey bot")) // starts the conversation
	h.waitReplies(1)
	follow := h.msg("u1", "c1", "t1", "and another thing")
	follow.Addressed = false
	h.deliver(follow)
	other := h.msg("u2", "c1", "t1", "someone else chatting")
	other.Addressed = false
	h.deliver(other) // u2 has no conversation in t1
	channel := h.msg("u1", "c1", "", "a channel message")
	channel.Addressed = false
	h.deliver(channel) // outside threads, only addressed messages
	h.waitReplies(2)
	h.settle()
	if got := h.asked(); got != "hey bot,and another thing" {
		t.Errorf("asked %s", got)
	}
	// The unaddressed message that was ignored did not claim its ids: the
	// same message delivered again as addressed is answered.
	ignored.Addressed = true
	h.deliver(ignored)
	h.waitReplies(3)
}

func TestUserRateLimit(t *testing.T) {
	t.Parallel()
	h := newHarness(t, hopts{platform: edits(), cfg: func(c *Config) { c.UserRateLimit = 2 }})
	h.link("u1", "Ada")
	for i := range 4 {
		h.deliver(h.msg("u1", "c1", "", "message "+itoa(int64(i))))
	}
	h.waitText("please slow down")
	h.waitReplies(2)
	h.settle()
	slow := 0
	for _, c := range h.p.CallsOf(platformtest.CallSend) {
		if strings.Contains(c.Text, "slow down") {
			slow++
		}
	}
	if slow != 1 {
		t.Errorf("%d slow-down notices, want exactly 1\n%s", slow, h.p.Dump())
	}
	if n := len(h.chatCalls()); n != 2 {
		t.Errorf("%d chat calls, want 2", n)
	}
}

func TestInputTooLong(t *testing.T) {
	t.Parallel()
	h := newHarness(t, hopts{platform: edits(), cfg: func(c *Config) { c.MaxInputChars = 10 }})
	h.link("u1", "Ada")
	h.deliver(h.msg("u1", "c1", "", "eleven char"))
	h.waitText("Your message is too long (11 characters; the limit is 10): please shorten it.")
	h.deliver(h.msg("u1", "c1", "", "你好你好你好你好你好")) // 10 code points: fine
	h.waitReplies(1)
	if n := len(h.chatCalls()); n != 1 {
		t.Errorf("%d chat calls, want 1", n)
	}
}

func TestLeaseHeldElsewhereKeepsWorkQueued(t *testing.T) {
	t.Parallel()
	h := newHarness(t, hopts{platform: edits()})
	h.link("u1", "Ada")
	// Another replica holds the conversation's lease for a while.
	ev := h.msg("u1", "c1", "", "")
	ev.Platform = testPlatform
	key := conversationKey(ev)
	lease, err := h.st.Locks().Acquire(t.Context(), "conv:"+keys.Conv(key), "other-replica", 400*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	h.b.tim.leasePoll = 20 * time.Millisecond
	start := time.Now()
	h.deliver(h.msg("u1", "c1", "", "waiting"))
	h.waitReplies(1)
	if waited := time.Since(start); waited < 300*time.Millisecond {
		t.Errorf("answered after %s, while another replica held the lease until %s", waited, lease.Expiry.Sub(start))
	}
}
