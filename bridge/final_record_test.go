package bridge

import (
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/secondme-bridge/secondme-bridge/bridge/format"
	"github.com/secondme-bridge/secondme-bridge/platforms"
	"github.com/secondme-bridge/secondme-bridge/platforms/platformtest"
	"github.com/secondme-bridge/secondme-bridge/secondme/secondmetest"
	"github.com/secondme-bridge/secondme-bridge/store"
)

// finalLimit is the message limit of the final-record tests: the reply
// below needs three messages.
const finalLimit = 60

// finalReply is a reply long enough for three messages of finalLimit.
const finalReply = "The whole answer comes in three messages here, since the limit is small. " +
	"Its second message carries the middle of it, word after word, " +
	"and the third one ends it."

// holdCall holds the platform call matching match until release is closed,
// telling held when it starts waiting.
type holdCall struct {
	match   func(platformtest.Call) bool
	once    sync.Once
	held    chan struct{}
	release chan struct{}
}

// hold holds a call that matches (the first time it is made tells held).
func (c *holdCall) hold(call platformtest.Call) {
	if c.match(call) {
		c.once.Do(func() { close(c.held) })
		<-c.release
	}
}

func newHoldCall(match func(platformtest.Call) bool) *holdCall {
	return &holdCall{match: match, held: make(chan struct{}), release: make(chan struct{})}
}

// waitHeld waits until the call is held.
func (c *holdCall) waitHeld(t *testing.T, what string) {
	t.Helper()
	select {
	case <-c.held:
	case <-time.After(waitLong):
		t.Fatalf("%s was never made", what)
	}
}

// TestFinalRecordedBeforeDelivery: before its final delivery a reply's
// in-flight record holds the final messages still to show (the current
// message's first, then the others), and after each further message sent
// the rest from that message on, so that a crash at any of these moments
// leaves recovery the whole reply; the record is gone once the turn ends.
func TestFinalRecordedBeforeDelivery(t *testing.T) {
	t.Parallel()
	parts := format.Split(finalReply, finalLimit)
	if len(parts) != 3 {
		t.Fatalf("the reply splits into %d parts, want 3: %q", len(parts), parts)
	}
	for _, kind := range storeKinds {
		t.Run(kind, func(t *testing.T) {
			t.Parallel()
			edit := newHoldCall(func(c platformtest.Call) bool { return c.Kind == platformtest.CallEdit && c.Text == parts[0] })
			last := newHoldCall(func(c platformtest.Call) bool { return c.Kind == platformtest.CallSend && c.Text == parts[2] })
			opts := edits()
			opts.Limits = platforms.Limits{MaxMessageChars: finalLimit}
			opts.Hook = func(c platformtest.Call) error {
				edit.hold(c)
				last.hold(c)
				return nil
			}
			h := newHarness(t, hopts{store: kind, platform: opts})
			h.link("u1", "Ada")
			h.sm.QueueStream(secondmetest.Script{Deltas: words(finalReply), Delay: 5 * time.Millisecond})
			h.deliver(h.msg("u1", "c1", "", "hi"))

			edit.waitHeld(t, "the final edit")
			rec := onlyRecord(t, h)
			if !slices.Equal(rec.FinalParts, parts) {
				t.Errorf("before the final edit the record's final parts are %q, want %q", rec.FinalParts, parts)
			}
			if len(rec.Refs) != 1 || rec.Text == "" || !strings.HasPrefix(finalReply, rec.Text) {
				t.Errorf("before the final edit the record holds %d refs and text %q; want the first message and the text it showed", len(rec.Refs), rec.Text)
			}
			close(edit.release)

			last.waitHeld(t, "the last part")
			rec = onlyRecord(t, h)
			if !slices.Equal(rec.FinalParts, parts[1:]) {
				t.Errorf("before the last part the record's final parts are %q, want %q", rec.FinalParts, parts[1:])
			}
			msgs := h.p.Messages()
			if len(rec.Refs) != 2 || len(msgs) != 2 || rec.Refs[1].ID != string(msgs[1].Ref.ID) || msgs[1].Text != parts[1] {
				t.Errorf("before the last part the record's refs are %+v; want the two messages sent\n%s", rec.Refs, h.p.Dump())
			}
			close(last.release)

			h.waitReplies(1)
			h.settle()
			h.waitInflight(0)
			msgs = h.p.Messages()
			var got []string
			for _, m := range msgs {
				got = append(got, m.Text)
			}
			if !slices.Equal(got, parts) {
				t.Errorf("messages %q, want %q", got, parts)
			}
		})
	}
}

// TestFinalRecordedWithNothingShown: a reply whose stream ended before any
// of it could be shown (every send refused with a 429 meanwhile, as under
// a busy global limit) records all of its final messages, with no message
// yet, before sending them; the messages answer the trigger and the record
// is gone once the turn ends.
func TestFinalRecordedWithNothingShown(t *testing.T) {
	t.Parallel()
	parts := format.Split(finalReply, finalLimit)
	for _, kind := range storeKinds {
		t.Run(kind, func(t *testing.T) {
			t.Parallel()
			var allow atomic.Bool
			opts := edits()
			opts.Limits = platforms.Limits{MaxMessageChars: finalLimit}
			opts.Hook = func(c platformtest.Call) error {
				if c.Kind == platformtest.CallSend && !allow.Load() {
					return &platforms.RateLimitError{RetryAfter: 20 * time.Millisecond}
				}
				return nil
			}
			h := newHarness(t, hopts{store: kind, platform: opts})
			h.link("u1", "Ada")
			h.sm.QueueStream(secondmetest.Script{Deltas: words(finalReply), Delay: 2 * time.Millisecond})
			ev := h.msg("u1", "c1", "", "hi")
			h.deliver(ev)

			var rec store.InflightReply
			waitFor(t, "the final recorded", func() bool {
				recs := h.inflight()
				if len(recs) == 1 && len(recs[0].FinalParts) > 0 {
					rec = recs[0]
					return true
				}
				return false
			})
			if !slices.Equal(rec.FinalParts, parts) || len(rec.Refs) != 0 {
				t.Errorf("the record holds final parts %q and refs %+v; want %q and no message", rec.FinalParts, rec.Refs, parts)
			}
			if rec.ReplyTo == "" || rec.ReplyTo != string(ev.MessageID) {
				t.Errorf("the record answers %q, want the trigger %q", rec.ReplyTo, ev.MessageID)
			}
			allow.Store(true)
			h.waitReplies(1)
			h.settle()
			h.waitInflight(0)
			var got []string
			for _, m := range h.p.Messages() {
				got = append(got, m.Text)
			}
			if !slices.Equal(got, parts) {
				t.Errorf("messages %q, want %q", got, parts)
			}
		})
	}
}

// onlyRecord returns the one in-flight record.
func onlyRecord(t *testing.T, h *harness) store.InflightReply {
	t.Helper()
	recs := h.inflight()
	if len(recs) != 1 {
		t.Fatalf("%d in-flight records, want 1: %+v", len(recs), recs)
	}
	return recs[0]
}

// TestCrashRecoveryDeliversRecordedFinal: a reply cut off in its final
// delivery (its final parts recorded) is finished by the recovery sweep as
// it would have shown: its message edited to the first part, the others
// sent after it, mentions inert, and no restart notice, as nothing is
// missing.
func TestCrashRecoveryDeliversRecordedFinal(t *testing.T) {
	t.Parallel()
	for _, kind := range storeKinds {
		t.Run(kind, func(t *testing.T) {
			t.Parallel()
			final := []string{"The whole answer, as its final would have shown it.", "And its second part, for <@123> and @everyone."}
			// A second reply showed nothing before the crash: every part
			// is sent, answering its trigger.
			unseen := []string{"An answer nobody saw yet.", "Its end."}
			h := newHarness(t, hopts{store: kind, platform: edits(), beforeRun: func(h *harness) {
				rec := orphanReply(t, h, "test-1/oldboot", time.Now(), "zh-CN", "The whole answer, as its")
				rec.FinalParts = final
				if err := h.st.Replies().PutReply(t.Context(), rec); err != nil {
					t.Fatal(err)
				}
				rec = store.InflightReply{
					ID: "reply-unseen", Owner: "test-1/oldboot", Live: true,
					Conversation: store.ConversationKey{Platform: testPlatform, Channel: "c2", User: "u2"},
					ReplyTo:      "trigger-2", FinalParts: unseen,
					StartedAt: time.Now(), UpdatedAt: time.Now(),
				}
				if err := h.st.Replies().PutReply(t.Context(), rec); err != nil {
					t.Fatal(err)
				}
			}})
			h.p.MustWaitFor(t, waitLong, "orphans finished", func(p *platformtest.Platform) bool {
				return len(p.Messages()) == 4
			})
			h.waitInflight(0)
			var msgs, others []platformtest.Message
			for _, m := range h.p.Messages() {
				if m.Ref.Channel == "c1" {
					msgs = append(msgs, m)
				} else {
					others = append(others, m)
				}
			}
			if len(msgs) != 2 || len(others) != 2 {
				t.Fatalf("messages in c1 and c2: %d and %d, want 2 and 2\n%s", len(msgs), len(others), h.p.Dump())
			}
			if msgs[0].Text != final[0] || msgs[0].Edits != 1 {
				t.Errorf("the cut-off message = %q after %d edits, want %q", msgs[0].Text, msgs[0].Edits, final[0])
			}
			if want := format.NeutralizeMentions(final[1]); msgs[1].Text != want || msgs[1].Text == final[1] {
				t.Errorf("the second part = %q, want %q", msgs[1].Text, want)
			}
			for i, m := range others {
				if m.Text != unseen[i] {
					t.Errorf("part %d of the unseen reply = %q, want %q", i+1, m.Text, unseen[i])
				}
			}
			for _, c := range h.p.CallsOf(platformtest.CallSend) {
				if c.Target.Channel == "c2" && c.Target.ReplyTo != "trigger-2" {
					t.Errorf("a part of the unseen reply answers %q, want its trigger", c.Target.ReplyTo)
				}
			}
			for _, m := range msgs {
				if strings.Contains(m.Text, "⚠️") {
					t.Errorf("a notice was shown with a reply that lost nothing: %q", m.Text)
				}
			}
			h.p.AssertNoMentions(t)
		})
	}
}

// TestOrphanFinalPartsFromTheStore: final parts are checked again when
// recovery shows them, as they come from the store: a blank first part
// leaves the message as it is, blank parts are skipped, a part longer than
// the platform's limit is split (nothing is cut off), mentions are inert.
func TestOrphanFinalPartsFromTheStore(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("A long part written for a larger limit. ", 4)
	opts := edits()
	opts.Limits = platforms.Limits{MaxMessageChars: finalLimit}
	h := newHarness(t, hopts{platform: opts, beforeRun: func(h *harness) {
		rec := orphanReply(t, h, "test-1/oldboot", time.Now(), "en", "What it showed")
		rec.FinalParts = []string{" \n", long, "", "<!here> and @everyone"}
		if err := h.st.Replies().PutReply(t.Context(), rec); err != nil {
			t.Fatal(err)
		}
	}})
	want := append(format.Split(long, finalLimit), format.NeutralizeMentions("<!here> and @everyone"))
	if len(want) < 4 {
		t.Fatalf("the long part splits into %d messages, want 3 or more", len(want)-1)
	}
	h.p.MustWaitFor(t, waitLong, "orphan finished", func(p *platformtest.Platform) bool {
		return len(p.Messages()) == 1+len(want)
	})
	h.waitInflight(0)
	msgs := h.p.Messages()
	if msgs[0].Edits != 0 || msgs[0].Text != "What it showed …" {
		t.Errorf("the cut-off message = %q after %d edits; want it left as it was", msgs[0].Text, msgs[0].Edits)
	}
	var got []string
	for _, m := range msgs[1:] {
		got = append(got, m.Text)
		if n := format.RuneLen(m.Text); n > finalLimit {
			t.Errorf("a message of %d characters, over the limit of %d", n, finalLimit)
		}
	}
	if !slices.Equal(got, want) {
		t.Errorf("messages sent %q, want %q", got, want)
	}
	if joined := format.Join(got[:len(got)-1]); joined != long {
		t.Errorf("the long part's messages join to %q, want %q", joined, long)
	}
	h.p.AssertNoMentions(t)
}
