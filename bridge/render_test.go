package bridge

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/secondme-bridge/secondme-bridge/bridge/format"
	"github.com/secondme-bridge/secondme-bridge/platforms"
	"github.com/secondme-bridge/secondme-bridge/platforms/platformtest"
	"github.com/secondme-bridge/secondme-bridge/secondme/secondmetest"
)

// longReply is a reply of about 4,600 characters with a code block across
// the 2,000-character limit.
func longReply() string {
	var sb strings.Builder
	sb.WriteString("Here is the plan.\n\n")
	for i := range 24 {
		fmt.Fprintf(&sb, "Paragraph %d explains one more step of the plan in some detail, so that the reply grows long enough to need splitting.\n\n", i)
	}
	sb.WriteString("```go\n")
	for i := range 40 {
		fmt.Fprintf(&sb, "fmt.Println(\"line %d of a long code block\")\n", i)
	}
	sb.WriteString("```\n\nThat is all.")
	return sb.String()
}

// askLongReply has u1 ask "plan" in c1 (thread: "" or a thread id) and
// the avatar stream longReply, and waits for the reply; it returns the text.
func (h *harness) askLongReply(thread string) string {
	text := longReply()
	h.sm.QueueStream(secondmetest.Script{Deltas: words(text), Delay: time.Millisecond})
	h.deliver(h.msg("u1", "c1", thread, "plan"))
	h.waitReplies(1)
	return text
}

func TestLongReplySplitWithFencesIntact(t *testing.T) {
	t.Parallel()
	h := newHarness(t, hopts{platform: edits()})
	h.link("u1", "Ada")
	text := h.askLongReply("")
	msgs := h.p.Messages()
	if len(msgs) < 3 {
		t.Fatalf("want the reply in at least 3 messages, got %d\n%s", len(msgs), h.p.Dump())
	}
	var parts []string
	for _, m := range msgs {
		if format.RuneLen(m.Text) > platformtest.DefaultMaxMessageChars {
			t.Errorf("message %s has %d characters", m.Ref.ID, format.RuneLen(m.Text))
		}
		if n := strings.Count(m.Text, "```"); n%2 != 0 {
			t.Errorf("message %s has unbalanced fences:\n%s", m.Ref.ID, m.Text)
		}
		if m.Target.ReplyTo == "" {
			t.Errorf("message %s is not a reply to the trigger", m.Ref.ID)
		}
		parts = append(parts, m.Text)
	}
	if !strings.HasPrefix(msgs[len(msgs)-1].Text, "```go\n") && !strings.Contains(msgs[len(msgs)-2].Text, "```go\n") {
		t.Errorf("the code block's language was not carried over")
	}
	if got := format.Join(parts); got != text {
		t.Errorf("the parts do not join back to the reply")
	}
	// While streaming, the message never exceeded the limit either.
	for _, c := range h.p.CallsOf(platformtest.CallEdit, platformtest.CallSend) {
		if c.Err != nil {
			t.Errorf("call #%d failed: %v", c.Seq, c.Err)
		}
	}
}

func TestRateLimitedEditsSkippedFinalDelivered(t *testing.T) {
	t.Parallel()
	h := newHarness(t, hopts{platform: edits()})
	h.link("u1", "Ada")
	deltas := words("This reply meets a platform that answers 429 to its edits, and it must still end complete.")
	h.sm.QueueStream(secondmetest.Script{Deltas: deltas, Delay: 10 * time.Millisecond})
	h.p.FailNext(platformtest.CallEdit, 4, 120*time.Millisecond)
	h.deliver(h.msg("u1", "c1", "", "hi"))
	st := h.waitReplies(1)[0]
	msgs := h.p.Messages()
	if len(msgs) != 1 || msgs[0].Text != joinDeltas(deltas) {
		t.Fatalf("final state wrong\n%s", h.p.Dump())
	}
	if st.Skipped == 0 {
		t.Error("no update counted as skipped")
	}
	// After a 429, the message is left alone for its RetryAfter: an
	// intermediate 429 is never retried at once.
	var last *platformtest.Call
	for _, c := range h.p.CallsOf(platformtest.CallEdit) {
		if last != nil && last.Err != nil {
			if gap := c.At.Sub(last.At); gap < 100*time.Millisecond {
				t.Errorf("edit #%d came %s after a 429 asking for 120ms", c.Seq, gap)
			}
		}
		c := c
		last = &c
	}
}

func TestFinalDeliveredThrough429s(t *testing.T) {
	t.Parallel()
	h := newHarness(t, hopts{platform: edits()})
	h.link("u1", "Ada")
	hold := make(chan struct{})
	h.sm.QueueStream(secondmetest.Script{Deltas: []string{"partial ", "then the rest"}, HoldAfter: 1, Hold: hold})
	h.deliver(h.msg("u1", "c1", "", "hi"))
	h.p.MustWaitFor(t, waitLong, "first text", func(p *platformtest.Platform) bool { return len(p.Messages()) == 1 })
	h.p.FailNext(platformtest.CallEdit, 3, 30*time.Millisecond) // the final edit meets three 429s
	close(hold)
	h.waitReplies(1)
	if got := h.p.Messages()[0].Text; got != "partial then the rest" {
		t.Errorf("final text = %q\n%s", got, h.p.Dump())
	}
}

func TestUpstreamErrorMidStreamKeepsText(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		script secondmetest.Script
	}{
		{"event error", secondmetest.Script{Deltas: []string{"Half ", "an answer"}, Error: &secondmetest.StreamError{Code: 500, Message: "boom", SubCode: "secondme.stream.error"}}},
		{"dropped", secondmetest.Script{Deltas: []string{"Half ", "an answer"}, Drop: true}},
		{"aborted", secondmetest.Script{Deltas: []string{"Half ", "an answer"}, Abort: true}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t, hopts{platform: edits()})
			h.link("u1", "Ada")
			h.sm.QueueStream(tc.script)
			h.deliver(h.msg("u1", "c1", "", "hi"))
			h.waitReplies(1)
			want := "Half an answer\n\n⚠️ reply interrupted — ask again to continue"
			if msgs := h.p.Messages(); len(msgs) != 1 || msgs[0].Text != want {
				t.Errorf("final state:\n%s", h.p.Dump())
			}
			if n := len(h.chatCalls()); n != 1 {
				t.Errorf("%d chat calls: a reply with visible text must not be retried", n)
			}
		})
	}
}

func TestUpstreamErrorBeforeTextRetriesOnce(t *testing.T) {
	t.Parallel()
	t.Run("then succeeds", func(t *testing.T) {
		t.Parallel()
		h := newHarness(t, hopts{platform: edits()})
		h.link("u1", "Ada")
		fail := secondmetest.ErrorResponse(503, "connection.error", "try later")
		h.sm.QueueStream(secondmetest.Script{Response: &fail}, secondmetest.Script{Deltas: []string{"second ", "time lucky"}})
		h.deliver(h.msg("u1", "c1", "", "hi"))
		h.waitReplies(1)
		if got := h.p.Messages()[0].Text; got != "second time lucky" {
			t.Errorf("reply = %q", got)
		}
	})
	t.Run("then gives up", func(t *testing.T) {
		t.Parallel()
		h := newHarness(t, hopts{platform: edits()})
		h.link("u1", "Ada")
		fail := secondmetest.ErrorResponse(503, "connection.error", "try later")
		h.sm.QueueStream(secondmetest.Script{Response: &fail}, secondmetest.Script{Response: &fail})
		h.deliver(h.msg("u1", "c1", "", "hi"))
		h.waitText("Your avatar couldn't answer just now: please ask again in a minute.")
		h.settle()
		if n := len(h.chatCalls()); n != 2 {
			t.Errorf("%d chat calls, want 2 (one retry)", n)
		}
		if msgs := h.p.Messages(); len(msgs) != 1 {
			t.Errorf("want only the error message\n%s", h.p.Dump())
		}
	})
	t.Run("busy", func(t *testing.T) {
		t.Parallel()
		h := newHarness(t, hopts{platform: edits()})
		h.link("u1", "Ada")
		busy := secondmetest.ErrorResponse(429, "", "slow down")
		busy.RetryAfter = "7"
		h.sm.QueueStream(secondmetest.Script{Response: &busy})
		h.deliver(h.msg("u1", "c1", "", "hi"))
		h.waitText("Your avatar is busy right now: try again in 7 s.")
		if n := len(h.chatCalls()); n != 1 {
			t.Errorf("%d chat calls; a 429 is not retried at once", n)
		}
	})
}

func TestTokenExpiredRefreshesAndRetries(t *testing.T) {
	t.Parallel()
	h := newHarness(t, hopts{platform: edits()})
	link := h.link("u1", "Ada")
	h.sm.ExpireAccessToken(link.Token.AccessToken)
	h.deliver(h.msg("u1", "c1", "", "hi"))
	h.waitReplies(1)
	if got := h.p.Messages()[0].Text; got != secondmetest.EchoReply("hi") {
		t.Errorf("reply = %q", got)
	}
	if n := h.sm.RefreshCount(); n != 1 {
		t.Errorf("%d refreshes, want 1", n)
	}
	stored, err := h.st.Links().GetLink(t.Context(), link.Key)
	if err != nil || stored.Token.AccessToken == link.Token.AccessToken {
		t.Errorf("the refreshed token was not stored (%v)", err)
	}
}

func TestLinkProblemsNamed(t *testing.T) {
	t.Parallel()
	t.Run("broken", func(t *testing.T) {
		t.Parallel()
		h := newHarness(t, hopts{platform: edits()})
		link := h.link("u1", "Ada")
		h.sm.ExpireAccessToken(link.Token.AccessToken)
		h.sm.RevokeRefreshToken(link.Token.RefreshToken)
		h.deliver(h.msg("u1", "c1", "", "hi"))
		h.waitText("Your SecondMe link has expired: run /link again.")
	})
	t.Run("marked broken", func(t *testing.T) {
		t.Parallel()
		h := newHarness(t, hopts{platform: edits()})
		link := h.link("u1", "Ada")
		link.Broken = true
		if err := h.st.Links().PutLink(t.Context(), link); err != nil {
			t.Fatal(err)
		}
		h.deliver(h.msg("u1", "c1", "", "hi"))
		if c := h.waitEphemeral("Your SecondMe link has expired: run /link again."); c.Target.User != "u1" {
			t.Errorf("told %q", c.Target.User)
		}
	})
	t.Run("missing scope", func(t *testing.T) {
		t.Parallel()
		h := newHarness(t, hopts{platform: edits()})
		h.link("u1", "Ada", "userinfo", "chat.read")
		h.deliver(h.msg("u1", "c1", "", "hi"))
		h.waitText("Your SecondMe link lacks chat.write: run /link again.")
	})
	t.Run("not linked", func(t *testing.T) {
		t.Parallel()
		h := newHarness(t, hopts{platform: edits()})
		h.deliver(h.msg("u9", "c1", "", "hi"))
		c := h.waitEphemeral("run /link to connect it")
		if c.Target.User != "u9" || !c.Target.Ephemeral {
			t.Errorf("invitation target = %+v", c.Target)
		}
		if n := len(h.chatCalls()); n != 0 {
			t.Errorf("%d chat calls for a user who is not linked", n)
		}
	})
	t.Run("operator", func(t *testing.T) {
		t.Parallel()
		h := newHarness(t, hopts{platform: edits()})
		h.link("u1", "Ada")
		bad := secondmetest.ErrorResponse(403, "oauth2.application.suspended", "suspended")
		h.sm.QueueStream(secondmetest.Script{Response: &bad})
		h.deliver(h.msg("u1", "c1", "", "hi"))
		h.waitText("The bridge is misconfigured")
	})
}

func TestNativeStreaming(t *testing.T) {
	t.Parallel()
	for _, kind := range storeKinds {
		t.Run(kind, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t, hopts{store: kind})
			h.link("u1", "Ada")
			deltas := words("A native stream: the platform appends each batch of text, with no edits at all.")
			h.sm.QueueStream(secondmetest.Script{Deltas: deltas, Delay: 10 * time.Millisecond})
			h.deliver(h.msg("u1", "c1", "t1", "hi"))
			h.waitReplies(1)
			msgs := h.p.Messages()
			if len(msgs) != 1 || msgs[0].Text != joinDeltas(deltas) || msgs[0].Stream != platformtest.StreamClosed {
				t.Fatalf("final state wrong\n%s", h.p.Dump())
			}
			if msgs[0].Appends < 2 {
				t.Errorf("%d appends: the text was not streamed", msgs[0].Appends)
			}
			if n := len(h.p.CallsOf(platformtest.CallEdit, platformtest.CallSend)); n != 0 {
				t.Errorf("%d sends or edits in a native stream", n)
			}
		})
	}
}

func TestNativeStreamRollsOverBeforeTheLimit(t *testing.T) {
	t.Parallel()
	h := newHarness(t, hopts{platform: platformtest.Options{Limits: platforms.Limits{MaxMessageChars: 600}, MaxStreamChars: 600}})
	h.link("u1", "Ada")
	text := h.askLongReply("t1")
	msgs := h.p.Messages()
	if len(msgs) < 8 {
		t.Fatalf("want the reply over many stream messages, got %d\n%s", len(msgs), h.p.Dump())
	}
	var parts []string
	for _, m := range msgs {
		if m.Stream != platformtest.StreamClosed {
			t.Errorf("message %s left %s", m.Ref.ID, m.Stream)
		}
		if n := strings.Count(m.Text, "```"); n%2 != 0 {
			t.Errorf("message %s has unbalanced fences:\n%s", m.Ref.ID, m.Text)
		}
		parts = append(parts, m.Text)
	}
	if got := format.Join(parts); got != text {
		t.Errorf("the stream messages do not join back to the reply:\n%s", got)
	}
	for _, c := range h.p.Calls() {
		if c.Err != nil {
			t.Errorf("call #%d %s failed: %v", c.Seq, c.Kind, c.Err)
		}
	}
}

func TestNativeStreamUnsupportedFallsBack(t *testing.T) {
	t.Parallel()
	unsupported := fmt.Errorf("start stream: feature_not_enabled: %w", platforms.ErrStreamUnsupported)
	t.Run("at start", func(t *testing.T) {
		t.Parallel()
		h := newHarness(t, hopts{})
		h.link("u1", "Ada")
		h.p.FailNextWith(platformtest.CallStartStream, 1, unsupported)
		deltas := words("Falling back to a message and edits.")
		h.sm.QueueStream(secondmetest.Script{Deltas: deltas, Delay: 10 * time.Millisecond})
		h.deliver(h.msg("u1", "c1", "t1", "hi"))
		h.waitReplies(1)
		msgs := h.p.Messages()
		if len(msgs) != 1 || msgs[0].Text != joinDeltas(deltas) || msgs[0].Stream != platformtest.StreamNone {
			t.Fatalf("final state wrong\n%s", h.p.Dump())
		}
	})
	t.Run("mid-stream", func(t *testing.T) {
		t.Parallel()
		h := newHarness(t, hopts{})
		h.link("u1", "Ada")
		h.p.FailNextWith(platformtest.CallAppendStream, 1, unsupported)
		deltas := words("Started natively, then the workspace turned native streaming off.")
		h.sm.QueueStream(secondmetest.Script{Deltas: deltas, Delay: 15 * time.Millisecond})
		h.deliver(h.msg("u1", "c1", "t1", "hi"))
		h.waitReplies(1)
		msgs := h.p.Messages()
		if len(msgs) != 1 || msgs[0].Text != joinDeltas(deltas) || msgs[0].Stream == platformtest.StreamOpen {
			t.Fatalf("final state wrong\n%s", h.p.Dump())
		}
	})
	t.Run("latched", func(t *testing.T) {
		t.Parallel()
		h := newHarness(t, hopts{})
		h.link("u1", "Ada")
		h.p.SetStreamUnsupported(true)
		h.deliver(h.msg("u1", "c1", "t1", "hi"))
		h.waitReplies(1)
		if n := len(h.p.CallsOf(platformtest.CallStartStream)); n != 0 {
			t.Errorf("%d StartStream calls after the latch", n)
		}
	})
}

func TestEveryReplyEndsFinal(t *testing.T) {
	t.Parallel()
	t.Run("first send fails", func(t *testing.T) {
		t.Parallel()
		h := newHarness(t, hopts{platform: edits()})
		h.link("u1", "Ada")
		h.p.FailNextWith(platformtest.CallSend, 1, errors.New("gateway hiccup"))
		deltas := words("The first message could not be sent, yet the reply arrives whole.")
		h.sm.QueueStream(secondmetest.Script{Deltas: deltas, Delay: 10 * time.Millisecond})
		h.deliver(h.msg("u1", "c1", "", "hi"))
		h.waitReplies(1)
		if msgs := h.p.Messages(); len(msgs) != 1 || msgs[0].Text != joinDeltas(deltas) {
			t.Fatalf("final state wrong\n%s", h.p.Dump())
		}
	})
	t.Run("message deleted mid-stream", func(t *testing.T) {
		t.Parallel()
		h := newHarness(t, hopts{platform: edits()})
		h.link("u1", "Ada")
		hold := make(chan struct{})
		h.sm.QueueStream(secondmetest.Script{Deltas: []string{"before ", "after"}, HoldAfter: 1, Hold: hold})
		h.deliver(h.msg("u1", "c1", "", "hi"))
		h.p.MustWaitFor(t, waitLong, "first text", func(p *platformtest.Platform) bool { return len(p.Messages()) == 1 })
		if err := platforms.ResolveCaps(h.p.As()).Deleter.Delete(t.Context(), h.p.Messages()[0].Ref); err != nil {
			t.Fatal(err)
		}
		close(hold)
		h.waitReplies(1)
		msgs := h.p.Messages()
		if len(msgs) != 2 || msgs[1].Text != "before after" || msgs[1].Deleted {
			t.Fatalf("the reply was not posted anew\n%s", h.p.Dump())
		}
	})
	t.Run("shutdown mid-stream", func(t *testing.T) {
		t.Parallel()
		h := newHarness(t, hopts{platform: edits(), cfg: func(c *Config) { c.ShutdownGrace = 100 * time.Millisecond }})
		h.link("u1", "Ada")
		h.sm.QueueStream(secondmetest.Script{Deltas: []string{"cut ", "short"}, Hang: true})
		h.deliver(h.msg("u1", "c1", "", "hi"))
		h.deliver(h.msg("u1", "c1", "", "queued behind"))
		h.p.MustWaitFor(t, waitLong, "first text", func(p *platformtest.Platform) bool {
			ms := p.Messages()
			return len(ms) == 1 && ms[0].Text == "cut short"
		})
		h.stop()
		// The reply in progress is interrupted with the restart notice; the
		// message queued behind it stays in the store's inbox for the next
		// process, which answers it (nobody is told "something went
		// wrong", nor asked to repeat it).
		msgs := h.p.Messages()
		if len(msgs) != 1 || msgs[0].Text != "cut short\n\n⚠️ interrupted by a restart — please ask again" {
			t.Errorf("final state wrong\n%s", h.p.Dump())
		}
		if recs := h.inflight(); len(recs) != 0 {
			t.Errorf("in-flight records left: %+v", recs)
		}
		es, err := h.st.Inbox().List(t.Context())
		if err != nil || len(es) != 1 {
			t.Fatalf("inbox after shutdown = %+v, %v; want the queued message", es, err)
		}
		h.sm.QueueStream(secondmetest.Script{Deltas: []string{"answered ", "after the restart"}})
		next := newHarnessOn(t, hopts{platform: edits()}, h.sm, h.st)
		next.p.MustWaitFor(t, waitLong, "the queued message answered", func(p *platformtest.Platform) bool {
			ms := p.Messages()
			return len(ms) == 1 && ms[0].Text == "answered after the restart"
		})
		if got := h.asked(); got != "hi,queued behind" {
			t.Errorf("messages asked = %q", got)
		}
		next.waitInflight(0)
	})
}

func TestNoPing(t *testing.T) {
	t.Parallel()
	for _, opts := range []platformtest.Options{edits(), {}} {
		h := newHarness(t, hopts{platform: opts})
		h.link("u1", "Ada")
		h.sm.QueueStream(secondmetest.Script{Deltas: []string{"Hey @every", "one and @he", "re, also <!chan", "nel> and <@U12", "3> — ", "ping!"}, Delay: 10 * time.Millisecond})
		h.deliver(h.msg("u1", "c1", "t1", "hi"))
		h.waitReplies(1)
		h.p.AssertNoMentions(t)
		if got := h.p.Messages()[0].Text; !strings.Contains(got, "every") || !strings.Contains(got, "ping!") {
			t.Errorf("text lost: %q", got)
		}
	}
}

func TestBudgetsBoundUpdates(t *testing.T) {
	t.Parallel()
	for _, kind := range storeKinds {
		t.Run(kind, func(t *testing.T) {
			t.Parallel()
			checker := &budgetChecker{buckets: map[string]*checkBucket{}}
			checker.budgets = func(ref platforms.MessageRef) []platforms.Budget {
				return []platforms.Budget{
					{Key: string("test:channel:" + ref.Channel), Rate: 4, Burst: 2},
					{Key: "test:bot", Rate: 6, Burst: 3},
				}
			}
			h := newHarness(t, hopts{store: kind, platform: platformtest.Options{
				NoStream: true, Budgets: checker.budgets, Hook: checker.hook,
			}})
			h.link("u1", "Ada")
			h.link("u2", "Bob")
			for _, u := range []string{"u1", "u2"} {
				h.sm.QueueStream(secondmetest.Script{Deltas: words("Two replies share one bot budget that allows far fewer edits than they would like to make."), Delay: 15 * time.Millisecond})
				h.deliver(h.msg(u, "c-"+u, "", "hi"))
			}
			replies := h.waitReplies(2)
			if v := checker.violations.Load(); v != 0 {
				t.Errorf("%d updates beyond the budgets\n%s", v, h.p.Dump())
			}
			skipped := 0
			for _, r := range replies {
				skipped += r.Skipped
			}
			if skipped == 0 {
				t.Error("no intermediate update was skipped, yet the budgets are tight")
			}
			for _, m := range h.p.Messages() {
				if m.Text != "Two replies share one bot budget that allows far fewer edits than they would like to make." {
					t.Errorf("final text %q", m.Text)
				}
			}
		})
	}
}
