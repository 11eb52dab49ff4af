package bridge

import (
	"errors"
	"log/slog"
	"slices"
	"testing"
	"time"

	"github.com/secondme-bridge/secondme-bridge/bridge/internal/keys"
	"github.com/secondme-bridge/secondme-bridge/bridge/internal/lease"
	"github.com/secondme-bridge/secondme-bridge/bridge/internal/orphan"
	"github.com/secondme-bridge/secondme-bridge/internal/testutil"
	"github.com/secondme-bridge/secondme-bridge/platforms"
	"github.com/secondme-bridge/secondme-bridge/platforms/platformtest"
	"github.com/secondme-bridge/secondme-bridge/secondme"
	"github.com/secondme-bridge/secondme-bridge/secondme/secondmetest"
	"github.com/secondme-bridge/secondme-bridge/store"
	"github.com/secondme-bridge/secondme-bridge/store/storetest"
)

// orphanReply posts a message as a crashed process would have, and records it
// as in flight.
func orphanReply(t *testing.T, h *harness, owner string, updated time.Time, locale, text string) store.InflightReply {
	t.Helper()
	ref, err := h.p.As().Send(t.Context(), platforms.Target{Channel: "c1"}, platforms.Message{Text: text + " …"})
	if err != nil {
		t.Fatal(err)
	}
	rec := store.InflightReply{
		ID:           "reply-" + owner + "-" + string(ref.ID),
		Owner:        owner,
		Conversation: store.ConversationKey{Platform: testPlatform, Channel: "c1", User: "u1"},
		Refs:         []store.ReplyRef{{Channel: string(ref.Channel), ID: string(ref.ID), Extra: ref.Extra}},
		Text:         text,
		Locale:       locale,
		Live:         true,
		StartedAt:    updated.Add(-time.Second),
		UpdatedAt:    updated,
	}
	if err := h.st.Replies().PutReply(t.Context(), rec); err != nil {
		t.Fatal(err)
	}
	return rec
}

func TestCrashRecovery(t *testing.T) {
	t.Parallel()
	for _, kind := range storeKinds {
		t.Run(kind, func(t *testing.T) {
			t.Parallel()
			now := time.Now()
			h := newHarness(t, hopts{store: kind, platform: edits(), beforeRun: func(h *harness) {
				if err := h.st.Liveness().Beat(t.Context(), "other-9/b", time.Hour); err != nil {
					t.Fatal(err)
				}
				orphanReply(t, h, "test-1/oldboot", now, "en", "Our own reply from before a restart")
				orphanReply(t, h, "other-9/b", now.Add(-time.Hour), "zh-CN", "另一个副本留下的回复")
				orphanReply(t, h, "other-9/b", now, "en", "A live reply of another replica")
			}})
			h.p.MustWaitFor(t, waitLong, "orphans finalized", func(p *platformtest.Platform) bool {
				return len(p.CallsOf(platformtest.CallEdit)) == 2
			})
			msgs := h.p.Messages()
			if got, want := msgs[0].Text, "Our own reply from before a restart\n\n⚠️ interrupted by a restart — please ask again"; got != want {
				t.Errorf("own orphan = %q, want %q", got, want)
			}
			if got, want := msgs[1].Text, "另一个副本留下的回复\n\n⚠️ 因服务重启而中断——请再问一次"; got != want {
				t.Errorf("stale orphan = %q, want %q", got, want)
			}
			if msgs[2].Edits != 0 {
				t.Errorf("a live reply of another replica was finalized")
			}
			recs := h.waitInflight(1)
			if len(recs) != 1 || recs[0].Owner != "other-9/b" {
				t.Errorf("records left: %+v", recs)
			}
			// A later sweep does not touch the live one either, and a
			// second sweeper cannot finalize an orphan twice.
			if n := h.b.sweep(t.Context(), false); n != 0 {
				t.Errorf("sweep finalized %d", n)
			}
		})
	}
}

func TestCrashRecoveryWithoutEditor(t *testing.T) {
	t.Parallel()
	h := newHarness(t, hopts{platform: platformtest.Options{NoEdit: true, NoStream: true}, beforeRun: func(h *harness) {
		orphanReply(t, h, "test-1/oldboot", time.Now(), "", "partial")
	}})
	h.waitText("⚠️ interrupted by a restart — please ask again")
	h.waitInflight(0)
}

func TestTwoReplicasShareOneStore(t *testing.T) {
	t.Parallel()
	shared := storetest.NewBackend(t, storetest.Redis, storetest.Options{})
	st1, st2 := shared.Open(t), shared.Open(t)
	h := newHarnessOn(t, hopts{platform: edits()}, secondmetest.New(t), st1)
	// The second replica shares the store, the fake SecondMe and the
	// platform; the test hands it events directly (the fake platform runs
	// one handler).
	h2 := newHarnessOn(t, hopts{platform: edits(), noRun: true, cfg: func(c *Config) { c.InstanceID = "test-2" }}, h.sm, st2)
	h2.b.reg.mu.Lock()
	h2.b.reg.byName[testPlatform] = h.p.As()
	h2.b.reg.caps[testPlatform] = platforms.ResolveCaps(h.p.As())
	h2.b.reg.order = []platforms.Platform{h.p.As()}
	h2.b.reg.mu.Unlock()
	h2.b.tim.leasePoll = 20 * time.Millisecond
	h.link("u1", "Ada")

	ev := h.msg("u1", "c1", "", "hello")
	ev.Platform = testPlatform
	h.deliver(ev)
	h2.b.HandleEvent(t.Context(), ev)
	h.waitReplies(1)
	h.settle()
	h2.settle()
	if n := len(h.chatCalls()); n != 1 {
		t.Fatalf("%d chat calls for one event delivered to two replicas", n)
	}

	// Two messages of one conversation reaching different replicas are
	// answered one after the other: the lease serializes them.
	h.sm.SetStreamHandler(func(c secondmetest.ChatCall) secondmetest.Script {
		return secondmetest.Script{Deltas: words(secondmetest.EchoReply(c.Message)), Delay: 10 * time.Millisecond}
	})
	a := h.msg("u1", "c1", "", "from replica one")
	bEv := h.msg("u1", "c1", "", "from replica two")
	bEv.Platform = testPlatform
	h.deliver(a)
	h2.b.HandleEvent(t.Context(), bEv)
	deadline := time.Now().Add(waitLong)
	for len(h.p.Messages()) < 3 || len(h.inflight()) > 0 || !h.idle() || !h2.idle() {
		if time.Now().After(deadline) {
			t.Fatalf("replies did not finish\n%s", h.p.Dump())
		}
		time.Sleep(10 * time.Millisecond)
	}
	msgs := h.p.Messages()
	if len(msgs) != 3 {
		t.Fatalf("want 3 replies\n%s", h.p.Dump())
	}
	owner := map[string]int{string(msgs[1].Ref.ID): 1, string(msgs[2].Ref.ID): 2}
	last := 0
	for _, c := range h.p.CallsOf(platformtest.CallSend, platformtest.CallEdit) {
		if i := owner[string(c.Ref.ID)]; i != 0 {
			if i < last {
				t.Fatalf("replies interleaved across replicas\n%s", h.p.Dump())
			}
			last = i
		}
	}
	for _, m := range msgs[1:] {
		if m.Text != "echo: from replica one" && m.Text != "echo: from replica two" {
			t.Errorf("reply %q", m.Text)
		}
	}
}

// A reply cut off by a crash keeps its session: the sweep saves it as the
// conversation's once the crashed process's lease expires, and the user's
// next message continues it. A session saved by a later turn is kept.
func TestCrashRecoveryKeepsSession(t *testing.T) {
	t.Parallel()
	for _, kind := range storeKinds {
		t.Run(kind, func(t *testing.T) {
			t.Parallel()
			ctx := t.Context()
			var crashed, later string
			laterKey := store.ConversationKey{Platform: testPlatform, Channel: "c2", User: "u1"}
			h := newHarness(t, hopts{store: kind, platform: edits(), beforeRun: func(h *harness) {
				h.b.tim.leaseTTL = 400 * time.Millisecond
				h.b.tim.leasePoll = 20 * time.Millisecond
				link := h.link("u1", "Ada")
				crashed = h.sm.AddSession(link.SecondMeUserID, secondme.Session{AppID: testAppID})
				later = h.sm.AddSession(link.SecondMeUserID, secondme.Session{AppID: testAppID})
				rec := orphanReply(t, h, "test-1/oldboot", time.Now(), "en", "Cut off by a crash")
				rec.SessionID, rec.Account = crashed, link.SecondMeUserID
				if err := h.st.Replies().PutReply(ctx, rec); err != nil {
					t.Fatal(err)
				}
				// The crashed process still holds the conversation's lease.
				if _, err := h.st.Locks().Acquire(ctx, lease.LockKey(keys.Conv(rec.Conversation)), "test-1/oldboot", 300*time.Millisecond); err != nil {
					t.Fatal(err)
				}
				// In another conversation, a later turn saved its session
				// after the crash: the orphan's must not replace it.
				rec2 := orphanReply(t, h, "test-1/oldboot", time.Now(), "en", "Also cut off")
				rec2.Conversation, rec2.SessionID, rec2.Account = laterKey, crashed, link.SecondMeUserID
				if err := h.st.Replies().PutReply(ctx, rec2); err != nil {
					t.Fatal(err)
				}
				c := store.Conversation{Key: laterKey, SessionID: later, LastActive: time.Now().Add(time.Second)}
				if err := h.st.Conversations().PutConversation(ctx, c, time.Hour); err != nil {
					t.Fatal(err)
				}
			}})
			h.waitInflight(0)
			key := store.ConversationKey{Platform: testPlatform, Channel: "c1", User: "u1"}
			deadline := time.Now().Add(waitLong)
			for {
				c, err := h.st.Conversations().GetConversation(ctx, key)
				if err == nil && c.SessionID == crashed {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("conversation = %+v, %v; want the crashed reply's session %s", c, err, crashed)
				}
				time.Sleep(10 * time.Millisecond)
			}
			// Every task of the sweep, the later conversation's included,
			// is done (no message has started another task yet).
			h.b.workers.Wait()
			if c, err := h.st.Conversations().GetConversation(ctx, laterKey); err != nil || c.SessionID != later {
				t.Errorf("a later turn's session was replaced: %+v, %v (want %s)", c, err, later)
			}
			h.sm.QueueStream(secondmetest.Script{Deltas: []string{"Where were we?"}})
			h.deliver(h.msg("u1", "c1", "", "again"))
			h.waitReplies(1)
			if calls := h.chatCallsDecoded(); len(calls) != 1 || calls[0].session != crashed {
				t.Errorf("next chat call = %+v, want it in session %s", calls, crashed)
			}
		})
	}
}

// Keeping an orphan's session never takes the conversation's lease from a
// live turn of this very process (same lease owner string): that turn
// keeps its lease (and so can save its own session), and the orphan's
// session is not written over it.
func TestKeepOrphanSessionLeavesLiveTurnLease(t *testing.T) {
	t.Parallel()
	for _, kind := range storeKinds {
		t.Run(kind, func(t *testing.T) {
			t.Parallel()
			ctx := t.Context()
			h := newHarness(t, hopts{store: kind, noRun: true})
			h.b.tim.leaseTTL = 100 * time.Millisecond
			h.b.tim.leasePoll = 10 * time.Millisecond
			key := store.ConversationKey{Platform: testPlatform, Channel: "c1", User: "u1"}
			live, err := h.st.Locks().Acquire(ctx, lease.LockKey(keys.Conv(key)), h.b.owner, time.Minute)
			if err != nil {
				t.Fatal(err)
			}
			rec := store.InflightReply{
				ID: "reply-crashed", Owner: "test-1/oldboot", Conversation: key, SessionID: "crashed",
				StartedAt: time.Now().Add(-time.Second), UpdatedAt: time.Now(),
			}
			orphan.KeepSession(ctx, h.b.orphanDeps(), rec, testutil.Logger(t, slog.LevelInfo), true) // gives up after 2×leaseTTL
			if err := h.st.Locks().Validate(ctx, live); err != nil {
				t.Errorf("the live turn's lease was taken over: %v", err)
			}
			if c, err := h.st.Conversations().GetConversation(ctx, key); !errors.Is(err, store.ErrNotFound) {
				t.Errorf("conversation = %+v, %v; want none written under a live turn's lease", c, err)
			}
		})
	}
}

// TestOrphanWhoseMessageIsGone: an orphan whose message cannot be edited
// any more (deleted meanwhile) is still finished, with its text sent as a
// new message, as a live reply's final does, instead of being tried again
// by every sweep: the notice after the recorded text, or the recorded
// final parts.
func TestOrphanWhoseMessageIsGone(t *testing.T) {
	t.Parallel()
	final := []string{"The whole final answer.", "Its second part."}
	h := newHarness(t, hopts{platform: edits(), beforeRun: func(h *harness) {
		del := platforms.ResolveCaps(h.p.As()).Deleter
		rec := orphanReply(t, h, "test-1/oldboot", time.Now(), "en", "Words shown before")
		if err := del.Delete(t.Context(), refOf(rec)); err != nil {
			t.Fatal(err)
		}
		rec = orphanReply(t, h, "test-1/oldboot", time.Now(), "en", "The whole")
		rec.FinalParts = final
		if err := h.st.Replies().PutReply(t.Context(), rec); err != nil {
			t.Fatal(err)
		}
		if err := del.Delete(t.Context(), refOf(rec)); err != nil {
			t.Fatal(err)
		}
	}})
	h.waitInflight(0)
	var got []string
	for _, m := range h.p.Messages() {
		if !m.Deleted {
			got = append(got, m.Text)
		}
	}
	want := []string{"Words shown before\n\n⚠️ interrupted by a restart — please ask again", final[0], final[1]}
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("messages after recovery %q, want %q\n%s", got, want, h.p.Dump())
	}
	if n := h.b.sweep(t.Context(), false); n != 0 {
		t.Errorf("a later sweep finalized %d", n)
	}
}

// refOf is the platform reference of an orphan's last message.
func refOf(rec store.InflightReply) platforms.MessageRef {
	r := rec.Refs[len(rec.Refs)-1]
	return platforms.MessageRef{Channel: platforms.ChannelID(r.Channel), ID: platforms.MessageID(r.ID), Extra: r.Extra}
}
