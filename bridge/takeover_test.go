package bridge

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/secondme-bridge/secondme-bridge/bridge/internal/keys"
	"github.com/secondme-bridge/secondme-bridge/bridge/internal/lease"
	"github.com/secondme-bridge/secondme-bridge/platforms"
	"github.com/secondme-bridge/secondme-bridge/platforms/platformtest"
	"github.com/secondme-bridge/secondme-bridge/secondme/secondmetest"
	"github.com/secondme-bridge/secondme-bridge/store"
)

const deadOwner = "dead-9/x"

// admitAs writes an inbox entry for ev as owner would have (Turns.Enter)
// and returns its id.
func admitAs(t *testing.T, h *harness, owner string, ev platforms.Event) string {
	t.Helper()
	id := "entry-" + string(ev.MessageID)
	ev.Platform = testPlatform
	it := &workItem{kind: itemChat, p: h.p.As(), ev: ev, key: conversationKey(ev), target: targetOf(ev),
		text: ev.Text, received: time.Now(), entryID: id}
	e, err := h.b.entryOf(it)
	if err != nil {
		t.Fatal(err)
	}
	e.Owner = owner
	adm, err := h.st.Turns().Enter(t.Context(), dedupeIDs(ev), time.Minute, "r:"+owner, store.Limit{Rate: 1, Burst: 100}, e, 9)
	if err != nil || !adm.Claimed || !adm.Allowed || adm.Full {
		t.Fatalf("enter = %+v, %v", adm, err)
	}
	return id
}

// A live process takes over what a dead one (no liveness record, another
// instance id) left: its cut-off reply is finalized with the text it
// showed, not asked again; the messages waiting in its inbox are answered
// in order; its lease on the conversation (an hour long) is released at
// once. A live owner's entries are left alone.
func TestTakeOverDeadOwner(t *testing.T) {
	t.Parallel()
	for _, kind := range storeKinds {
		t.Run(kind, func(t *testing.T) {
			t.Parallel()
			var half, liveID string
			h := newHarness(t, hopts{store: kind, platform: edits(), beforeRun: func(h *harness) {
				ctx := t.Context()
				h.b.tim.orphanEvery = 50 * time.Millisecond
				h.link("u1", "Ada")
				if err := h.st.Liveness().Beat(ctx, "live-2/y", time.Hour); err != nil {
					t.Fatal(err)
				}
				cut := h.msg("u1", "c1", "", "the cut-off question")
				half = admitAs(t, h, deadOwner, cut)
				rec := orphanReply(t, h, deadOwner, time.Now(), "en", "Shown before the crash")
				if err := h.st.Replies().DeleteReply(ctx, rec.ID); err != nil {
					t.Fatal(err)
				}
				rec.ID = half
				if err := h.st.Replies().PutReply(ctx, rec); err != nil {
					t.Fatal(err)
				}
				admitAs(t, h, deadOwner, h.msg("u1", "c1", "", "q1"))
				admitAs(t, h, deadOwner, h.msg("u1", "c1", "", "q2"))
				liveID = admitAs(t, h, "live-2/y", h.msg("u1", "c2", "", "a live replica's"))
				lock := lease.LockKey(keys.Conv(rec.Conversation))
				if _, err := h.st.Locks().Acquire(ctx, lock, deadOwner, time.Hour); err != nil {
					t.Fatal(err)
				}
			}})
			h.waitText("Shown before the crash\n\n⚠️ interrupted by a restart — please ask again")
			h.waitReplies(2)
			h.settle()
			var texts []string
			for _, m := range h.p.Messages() {
				texts = append(texts, m.Text)
			}
			want := []string{"Shown before the crash\n\n⚠️ interrupted by a restart — please ask again", "echo: q1", "echo: q2"}
			if strings.Join(texts, "|") != strings.Join(want, "|") {
				t.Errorf("messages = %q, want %q", texts, want)
			}
			if got := h.asked(); got != "q1,q2" {
				t.Errorf("SecondMe asked %q, want q1,q2 (the cut-off question is not asked again)", got)
			}
			h.waitInflight(0)
			es, err := h.st.Inbox().List(t.Context())
			if err != nil || len(es) != 1 || es[0].ID != liveID || es[0].Owner != "live-2/y" {
				t.Errorf("inbox = %+v, %v; want only the live replica's entry, still its own", es, err)
			}
			_ = half
		})
	}
}

// An orphaned native stream is finished by appending the notice and
// stopping it: what it showed stays.
func TestOrphanNativeStreamStopped(t *testing.T) {
	t.Parallel()
	h := newHarness(t, hopts{beforeRun: func(h *harness) {
		ctx := t.Context()
		s := platforms.ResolveCaps(h.p.As()).Streamer
		ref, err := s.StartStream(ctx, platforms.Target{Channel: "c1", User: "u1"}, "Streamed before the crash")
		if err != nil {
			t.Fatal(err)
		}
		rec := store.InflightReply{
			ID: "native-1", Owner: deadOwner, Native: true, Live: true, Text: "Streamed before",
			Conversation: store.ConversationKey{Platform: testPlatform, Channel: "c1", User: "u1"},
			Refs:         []store.ReplyRef{{Channel: string(ref.Channel), ID: string(ref.ID), Extra: ref.Extra}},
			StartedAt:    time.Now(), UpdatedAt: time.Now(),
		}
		if err := h.st.Replies().PutReply(ctx, rec); err != nil {
			t.Fatal(err)
		}
	}})
	h.p.MustWaitFor(t, waitLong, "the stream stopped", func(p *platformtest.Platform) bool {
		return len(p.CallsOf(platformtest.CallStopStream)) == 1
	})
	msgs := h.p.Messages()
	if len(msgs) != 1 || msgs[0].Text != "Streamed before the crash\n\n⚠️ interrupted by a restart — please ask again" {
		t.Errorf("final state wrong\n%s", h.p.Dump())
	}
	if n := len(h.p.CallsOf(platformtest.CallEdit)); n != 0 {
		t.Errorf("%d edits of a native stream", n)
	}
	h.waitInflight(0)
}

// A cut-off reply whose text fills its message keeps all of it: the notice
// goes into a message of its own rather than cutting the text.
func TestOrphanNearLimitKeepsText(t *testing.T) {
	t.Parallel()
	text := strings.Repeat("abcd ", 18) + "end." // 94 runes: the notice does not fit after it
	opts := edits()
	opts.Limits = platforms.Limits{MaxMessageChars: 100}
	h := newHarness(t, hopts{platform: opts, beforeRun: func(h *harness) {
		orphanReply(t, h, deadOwner, time.Now(), "en", text)
	}})
	h.waitText("⚠️ interrupted by a restart — please ask again")
	h.waitInflight(0)
	msgs := h.p.Messages()
	if len(msgs) != 2 || msgs[0].Text != text || msgs[1].Text != "⚠️ interrupted by a restart — please ask again" {
		t.Errorf("final state wrong\n%s", h.p.Dump())
	}
}

// The in-flight record never lags what the reply shows: it is written
// before each update, with at least the text the update shows.
func TestRecordCoversShownText(t *testing.T) {
	t.Parallel()
	for _, mode := range []string{"edits", "native"} {
		t.Run(mode, func(t *testing.T) {
			t.Parallel()
			opts := edits()
			if mode == "native" {
				opts = platformtest.Options{}
			}
			h := newHarness(t, hopts{platform: opts})
			h.link("u1", "Ada")
			hold := make(chan struct{})
			defer close(hold)
			var deltas []string
			for i := range 30 {
				deltas = append(deltas, "w"+itoa(int64(i))+" ")
			}
			h.sm.QueueStream(secondmetest.Script{Deltas: deltas, Delay: 5 * time.Millisecond, Hold: hold, HoldAfter: 20})
			h.deliver(h.msg("u1", "c1", "", "hi"))
			h.p.MustWaitFor(t, waitLong, "twenty words shown", func(p *platformtest.Platform) bool {
				ms := p.Messages()
				return len(ms) == 1 && strings.Contains(ms[0].Text, "w19")
			})
			shown := strings.TrimSuffix(h.p.Messages()[0].Text, " …")
			recs := h.inflight()
			if len(recs) != 1 || !strings.HasPrefix(recs[0].Text, strings.TrimSpace(shown)) {
				t.Errorf("record = %+v; its text lags the shown %q", recs, shown)
			}
			if mode == "native" && (len(recs) != 1 || !recs[0].Native) {
				t.Errorf("a native stream's record is not marked native: %+v", recs)
			}
		})
	}
}

// A message waiting for its conversation's lease at shutdown is neither
// told "something went wrong" nor dropped: it stays in the inbox, and the
// next process answers it.
func TestShutdownWhileWaitingForLease(t *testing.T) {
	t.Parallel()
	for _, kind := range storeKinds {
		t.Run(kind, func(t *testing.T) {
			t.Parallel()
			ctx := t.Context()
			h := newHarness(t, hopts{store: kind, platform: edits(), cfg: func(c *Config) { c.ShutdownGrace = 50 * time.Millisecond }})
			h.link("u1", "Ada")
			// Another live replica holds the conversation.
			if err := h.st.Liveness().Beat(ctx, "busy-3/z", time.Hour); err != nil {
				t.Fatal(err)
			}
			key := store.ConversationKey{Platform: testPlatform, Channel: "c1", User: "u1"}
			l, err := h.st.Locks().Acquire(ctx, lease.LockKey(keys.Conv(key)), "busy-3/z", time.Hour)
			if err != nil {
				t.Fatal(err)
			}
			h.deliver(h.msg("u1", "c1", "", "waiting"))
			h.p.MustWaitFor(t, waitLong, "the typing indicator while waiting", func(p *platformtest.Platform) bool {
				return len(p.CallsOf(platformtest.CallTyping)) > 0
			})
			h.stop()
			if msgs := h.p.Messages(); len(msgs) != 0 {
				t.Errorf("shutdown told the waiting user something\n%s", h.p.Dump())
			}
			es, err := h.st.Inbox().List(ctx)
			if err != nil || len(es) != 1 {
				t.Fatalf("inbox after shutdown = %+v, %v; want the waiting message", es, err)
			}
			if err := h.st.Locks().Release(ctx, l); err != nil {
				t.Fatal(err)
			}
			next := newHarnessOn(t, hopts{platform: edits()}, h.sm, h.st)
			next.waitText("echo: waiting")
			next.waitInflight(0)
		})
	}
}

// A record of a version that kept no liveness record is not taken for an
// orphan while it is fresh (a rolling upgrade must not cut live replies),
// only once stale.
func TestLegacyRecordLeftUntilStale(t *testing.T) {
	t.Parallel()
	var fresh, stale store.InflightReply
	h := newHarness(t, hopts{platform: edits(), beforeRun: func(h *harness) {
		h.b.tim.orphanEvery = 20 * time.Millisecond
		fresh = orphanReply(t, h, "old-version/1", time.Now(), "en", "A live reply of an old replica")
		stale = orphanReply(t, h, "old-version/1", time.Now().Add(-time.Hour), "en", "A stale reply of an old replica")
		for _, r := range []*store.InflightReply{&fresh, &stale} {
			r.Live = false
			if err := h.st.Replies().PutReply(t.Context(), *r); err != nil {
				t.Fatal(err)
			}
		}
	}})
	h.waitText("A stale reply of an old replica\n\n⚠️ interrupted by a restart — please ask again")
	h.waitInflight(1)
	// Later sweeps leave the fresh one untouched.
	n := h.b.sweep(t.Context(), false)
	if recs := h.inflight(); n != 0 || len(recs) != 1 || recs[0].ID != fresh.ID {
		t.Errorf("sweep finalized %d; records left %+v, want only the fresh legacy one", n, recs)
	}
	for _, m := range h.p.Messages() {
		if string(m.Ref.ID) == fresh.Refs[0].ID && m.Edits != 0 {
			t.Errorf("a fresh legacy reply was edited\n%s", h.p.Dump())
		}
	}
}

// The in-flight record exists before the reply's first platform message is
// sent (write-ahead), so no crash leaves a reply the sweep cannot find.
func TestRecordWrittenAhead(t *testing.T) {
	t.Parallel()
	for _, mode := range []string{"edits", "native"} {
		t.Run(mode, func(t *testing.T) {
			t.Parallel()
			opts := edits()
			if mode == "native" {
				opts = platformtest.Options{}
			}
			h := newHarness(t, hopts{platform: opts})
			link := h.link("u1", "Ada")
			var ahead []store.InflightReply
			var once bool
			h.p.SetHook(func(c platformtest.Call) error {
				if (c.Kind == platformtest.CallSend || c.Kind == platformtest.CallStartStream) && !once {
					once = true
					recs, err := h.st.Replies().ListReplies(t.Context(), time.Time{})
					if err != nil {
						t.Error(err)
					}
					ahead = recs
				}
				return nil
			})
			h.deliver(h.msg("u1", "c1", "", "hi"))
			h.waitReplies(1)
			if len(ahead) != 1 || len(ahead[0].Refs) != 0 || ahead[0].Owner != h.b.owner || !ahead[0].Live || ahead[0].Account != link.SecondMeUserID {
				t.Errorf("records when the first message went out: %+v; want the reply's, with no message yet, naming the account %s", ahead, link.SecondMeUserID)
			}
			h.waitInflight(0)
		})
	}
}

// failingEnter is a store whose inbox writes fail.
type failingEnter struct{ store.Store }

func (f failingEnter) Turns() store.Turns { return failingTurns{f.Store.Turns()} }

type failingTurns struct{ store.Turns }

func (failingTurns) Enter(context.Context, []string, time.Duration, string, store.Limit, store.InboxEntry, int) (store.Admission, error) {
	return store.Admission{}, errors.New("inbox unavailable")
}

// Without the inbox (its write failed), a message is still answered; one
// still waiting at shutdown gets the restart notice, not "something went
// wrong".
func TestShutdownWithoutInboxTellsRestart(t *testing.T) {
	t.Parallel()
	st := failingEnter{newStore(t, "bolt")}
	h := newHarnessOn(t, hopts{platform: edits(), cfg: func(c *Config) { c.ShutdownGrace = 50 * time.Millisecond }}, secondmetest.New(t), st)
	h.link("u1", "Ada")
	h.deliver(h.msg("u1", "c1", "", "first"))
	h.waitText("echo: first")
	h.sm.QueueStream(secondmetest.Script{Deltas: []string{"cut ", "short"}, Hang: true})
	h.deliver(h.msg("u1", "c1", "", "hangs"))
	h.deliver(h.msg("u1", "c1", "", "waits"))
	h.p.MustWaitFor(t, waitLong, "the hanging reply's text", func(p *platformtest.Platform) bool {
		ms := p.Messages()
		return len(ms) == 2 && ms[1].Text == "cut short"
	})
	h.stop()
	var texts []string
	for _, m := range h.p.Messages() {
		texts = append(texts, m.Text)
	}
	want := []string{"echo: first", "cut short\n\n⚠️ interrupted by a restart — please ask again", "⚠️ interrupted by a restart — please ask again"}
	if strings.Join(texts, "|") != strings.Join(want, "|") {
		t.Errorf("messages = %q, want %q", texts, want)
	}
}

// An entry a dead process left for a platform this process does not run
// is taken over but kept, for a replica that runs it, never dropped; the
// others are answered.
func TestTakeOverKeepsOtherPlatformsEntries(t *testing.T) {
	t.Parallel()
	h := newHarness(t, hopts{platform: edits(), beforeRun: func(h *harness) {
		h.link("u1", "Ada")
		ev := h.msg("u1", "c9", "", "for a platform not enabled here")
		ev.Platform = testPlatform
		it := &workItem{kind: itemChat, p: h.p.As(), ev: ev, key: conversationKey(ev), target: targetOf(ev),
			text: ev.Text, received: time.Now(), entryID: "entry-elsewhere"}
		e, err := h.b.entryOf(it)
		if err != nil {
			t.Fatal(err)
		}
		e.Owner, e.Conversation.Platform = deadOwner, "elsewhere"
		adm, err := h.st.Turns().Enter(t.Context(), []string{"elsewhere:1"}, time.Minute, "r:elsewhere", store.Limit{Rate: 1, Burst: 100}, e, 9)
		if err != nil || !adm.Claimed || !adm.Allowed || adm.Full {
			t.Fatalf("enter = %+v, %v", adm, err)
		}
		admitAs(t, h, deadOwner, h.msg("u1", "c1", "", "q1"))
	}})
	h.waitReplies(1)
	h.settle()
	es, err := h.st.Inbox().List(t.Context())
	if err != nil || len(es) != 1 || es[0].ID != "entry-elsewhere" || es[0].Owner != h.b.owner {
		t.Errorf("inbox = %+v, %v; want the other platform's entry kept, now this process's", es, err)
	}
}
