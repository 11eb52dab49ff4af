package bridge

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/secondme-bridge/secondme-bridge/bridge/internal/stops"
	"github.com/secondme-bridge/secondme-bridge/platforms"
	"github.com/secondme-bridge/secondme-bridge/platforms/platformtest"
	"github.com/secondme-bridge/secondme-bridge/secondme/secondmetest"
	"github.com/secondme-bridge/secondme-bridge/store"
	"github.com/secondme-bridge/secondme-bridge/store/storetest"
)

const stoppedNotice = "⏹ Stopped: ask again to continue."

// heldStream queues a stream that sends deltas, then holds until the
// client leaves (or, when release is not nil, until it is closed: then
// the stream completes); the returned channel receives the time the fake
// saw its connection end.
func heldStream(h *harness, session string, release chan struct{}, deltas ...string) <-chan time.Time {
	closed := make(chan time.Time, 1)
	sc := secondmetest.Script{Deltas: deltas, SessionID: session, Hang: true, Done: func(string) { closed <- time.Now() }}
	if release != nil {
		sc.Hang, sc.Hold, sc.HoldAfter = false, release, len(deltas)
	}
	h.sm.QueueStream(sc)
	return closed
}

// stopEvent is a click on the Stop button id by user.
func (h *harness) stopEvent(user, channel, id string) platforms.Event {
	n := itoa(h.seq.Add(1))
	return platforms.Event{
		Kind: platforms.EventStop, Platform: testPlatform, DedupeIDs: []string{"stop:" + n},
		User:    platforms.User{ID: platforms.UserID(user), Locale: "en-US"},
		Channel: platforms.ChannelID(channel), Interaction: "ix" + n, Addressed: true, HumanTrigger: true,
		Stop: &platforms.Stop{ReplyID: id},
	}
}

// waitStopButton waits for a message carrying a Stop button and text
// containing sub, and returns it.
func (h *harness) waitStopButton(sub string) platformtest.Message {
	h.t.Helper()
	var found platformtest.Message
	h.p.MustWaitFor(h.t, waitLong, "a streaming message with a Stop button showing "+sub, func(p *platformtest.Platform) bool {
		for _, m := range p.Messages() {
			if m.Stop != nil && strings.Contains(m.Text, sub) {
				found = m
				return true
			}
		}
		return false
	})
	return found
}

// waitClosed waits for the upstream connection to close and returns when.
func waitClosed(t *testing.T, closed <-chan time.Time) time.Time {
	t.Helper()
	select {
	case at := <-closed:
		return at
	case <-time.After(waitLong):
		t.Fatal("the SecondMe stream was never closed")
	}
	return time.Time{}
}

// noStopLeft fails if any message still shows a Stop button.
func noStopLeft(t *testing.T, p *platformtest.Platform) {
	t.Helper()
	for _, m := range p.Messages() {
		if m.Stop != nil {
			t.Errorf("message %s still shows a Stop button: %q", m.Ref.ID, m.Text)
		}
	}
}

// A Stop by the person who asked closes the upstream stream within a
// second, ends the message with the text so far and the notice, removes
// the button, and keeps the session for the next message. A second click
// (a redelivery) changes nothing.
func TestStopByOwner(t *testing.T) {
	t.Parallel()
	for _, kind := range storeKinds {
		t.Run(kind, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t, hopts{store: kind, platform: edits()})
			h.link("u1", "Ada")
			closed := heldStream(h, "labs_sess_S", nil, "Partial answer ", "so far")
			h.deliver(h.msg("u1", "c1", "", "tell me a long story"))
			m := h.waitStopButton("Partial answer so far")
			if m.Stop.Label != "Stop" || !platforms.ValidStopReplyID(m.Stop.ReplyID) {
				t.Fatalf("stop control %+v", m.Stop)
			}
			for _, c := range h.p.CallsOf(platformtest.CallSend, platformtest.CallEdit) {
				if c.Stop == nil || c.Stop.ReplyID != m.Stop.ReplyID {
					t.Fatalf("an update while streaming carried stop %+v", c.Stop)
				}
			}
			click := h.stopEvent("u1", "c1", m.Stop.ReplyID)
			asked := time.Now()
			h.deliver(click)
			if lag := waitClosed(t, closed).Sub(asked); lag > time.Second {
				t.Errorf("upstream closed %v after the click, want within 1s", lag)
			}
			h.waitText("Partial answer so far\n\n" + stoppedNotice)
			h.waitInflight(0)
			h.settle()
			noStopLeft(t, h.p)
			if n := len(h.p.CallsOf(platformtest.CallEphemeral)); n != 0 {
				t.Errorf("%d private messages to the owner, want none", n)
			}
			h.deliver(click) // redelivered: claimed already

			// The session is kept: the next message continues it.
			h.deliver(h.msg("u1", "c1", "", "go on"))
			h.waitText("echo: go on")
			calls := h.chatCallsDecoded()
			if len(calls) != 2 || calls[1].session != "labs_sess_S" {
				t.Errorf("chat calls %+v, want the second in session labs_sess_S", calls)
			}
			if got := h.waitText("Partial answer"); got != "Partial answer so far\n\n"+stoppedNotice {
				t.Errorf("the redelivered click changed the stopped reply to %q", got)
			}
		})
	}
}

// A Stop before any text ends the reply with the notice alone.
func TestStopBeforeText(t *testing.T) {
	t.Parallel()
	h := newHarness(t, hopts{platform: edits()})
	h.link("u1", "Ada")
	closed := heldStream(h, "", nil)
	h.deliver(h.msg("u1", "c1", "", "think hard"))
	// No message yet, so no button: the id is the engine's, taken from
	// its registry once the stream started.
	var id string
	deadline := time.Now().Add(waitLong)
	for id == "" && time.Now().Before(deadline) {
		if ids := h.b.stops.IDs(); len(ids) == 1 && h.sm.StreamCount() == 1 {
			id = ids[0]
		}
		time.Sleep(5 * time.Millisecond)
	}
	h.deliver(h.stopEvent("u1", "c1", id))
	waitClosed(t, closed)
	if got := h.waitText(stoppedNotice); got != stoppedNotice {
		t.Errorf("reply %q, want the notice alone", got)
	}
	h.waitInflight(0)
	noStopLeft(t, h.p)
}

// A click by anyone else is refused privately and changes nothing; an id
// forged for the clicker names no reply; the reply then completes and its
// final edit removes the button.
func TestStopBySomeoneElse(t *testing.T) {
	t.Parallel()
	h := newHarness(t, hopts{platform: edits()})
	h.link("u1", "Ada")
	release := make(chan struct{})
	closed := heldStream(h, "", release, "Still ", "going")
	h.deliver(h.msg("u1", "c1", "", "story"))
	m := h.waitStopButton("Still going")
	click := h.stopEvent("u2", "c1", m.Stop.ReplyID)
	h.deliver(click)
	c := h.waitEphemeral("Only the person who asked can stop this reply.")
	if c.Target.User != "u2" || c.Target.Interaction != click.Interaction {
		t.Errorf("refusal went to %+v, want u2 through the click's interaction", c.Target)
	}
	replyID, _, _ := strings.Cut(m.Stop.ReplyID, ".")
	forged := stopIDFor(replyID, store.UserKey{Platform: testPlatform, User: "u2"})
	h.deliver(h.stopEvent("u2", "c1", forged))
	h.deliver(h.stopEvent("u2", "c1", "not-a-reply"))
	time.Sleep(300 * time.Millisecond)
	select {
	case <-closed:
		t.Fatal("someone else's click closed the stream")
	default:
	}
	close(release)
	h.waitReplies(1)
	h.waitInflight(0)
	final, _ := h.p.Message(m.Ref.ID)
	if final.Text != "Still going" || final.Stop != nil {
		t.Errorf("final message %q with stop %+v, want the whole reply and no button", final.Text, final.Stop)
	}
	if n := len(h.p.CallsOf(platformtest.CallEphemeral)); n != 2 {
		t.Errorf("%d refusals, want 2 (the forged id passes the owner check for its forger and names nothing)", n)
	}
}

// A Stop after the reply ended is harmless: nothing is said or changed.
func TestStopAfterEnd(t *testing.T) {
	t.Parallel()
	h := newHarness(t, hopts{platform: edits()})
	h.link("u1", "Ada")
	h.sm.QueueStream(secondmetest.Script{Deltas: []string{"Done ", "already"}, Delay: 60 * time.Millisecond})
	h.deliver(h.msg("u1", "c1", "", "quick"))
	m := h.waitStopButton("Done")
	h.waitReplies(1)
	h.waitInflight(0)
	h.settle()
	before := len(h.p.Calls())
	h.deliver(h.stopEvent("u1", "c1", m.Stop.ReplyID))
	time.Sleep(200 * time.Millisecond)
	if calls := h.p.Calls(); len(calls) != before {
		t.Errorf("a stop after the end made platform calls: %+v", calls[before:])
	}
	final, _ := h.p.Message(m.Ref.ID)
	if final.Text != "Done already" || final.Stop != nil {
		t.Errorf("final %q stop %+v", final.Text, final.Stop)
	}
}

// A Stop handled by one replica stops the reply streaming on another
// within a second, through Redis (pub/sub), both running.
func TestStopAcrossReplicas(t *testing.T) {
	t.Parallel()
	shared := storetest.NewBackend(t, storetest.Redis, storetest.Options{})
	h := newHarnessOn(t, hopts{platform: edits()}, secondmetest.New(t), shared.Open(t))
	h2 := newHarnessOn(t, hopts{platform: edits(), cfg: func(c *Config) { c.InstanceID = "test-2" }}, h.sm, shared.Open(t))
	h.link("u1", "Ada")
	closed := heldStream(h, "", nil, "Streaming on ", "replica one")
	h.deliver(h.msg("u1", "c1", "", "long one"))
	m := h.waitStopButton("replica one")
	asked := time.Now()
	h2.b.HandleEvent(t.Context(), h.stopEvent("u1", "c1", m.Stop.ReplyID))
	if lag := waitClosed(t, closed).Sub(asked); lag > time.Second {
		t.Errorf("upstream closed %v after the click on the other replica, want within 1s", lag)
	}
	h.waitText("Streaming on replica one\n\n" + stoppedNotice)
	h.waitInflight(0)
	noStopLeft(t, h.p)
	if n := len(h2.p.Calls()); n != 0 {
		t.Errorf("the clicked replica made %d platform calls, want none", n)
	}
}

// Slack's native stop in the agent view names the conversation: the
// stream is cancelled, the native stream gets the notice and is stopped,
// and the session goes back to active. The session was titled from the
// DM that started it and was processing while the avatar answered.
func TestNativeStopAndAgentSession(t *testing.T) {
	t.Parallel()
	h := newHarness(t, hopts{platform: platformtest.Options{AgentSessions: true}})
	h.link("u1", "Ada")
	closed := heldStream(h, "", nil, "Native ", "text ")
	ev := h.msg("u1", "D1", "", "What did I note this week?")
	ev.DM, ev.Thread = true, platforms.ThreadID(ev.MessageID)
	h.deliver(ev)
	h.p.MustWaitFor(t, waitLong, "the native stream", func(p *platformtest.Platform) bool {
		for _, m := range p.Messages() {
			if m.Stream == platformtest.StreamOpen && strings.Contains(m.Text, "Native") {
				return true
			}
		}
		return false
	})
	stop := platforms.Event{
		Kind: platforms.EventStop, Platform: testPlatform, DedupeIDs: []string{"stopped:1"},
		User: ev.User, Channel: "D1", Thread: ev.Thread, DM: true, Addressed: true, HumanTrigger: true,
		Stop: &platforms.Stop{Native: true},
	}
	asked := time.Now()
	h.deliver(stop)
	if lag := waitClosed(t, closed).Sub(asked); lag > time.Second {
		t.Errorf("upstream closed %v after the native stop", lag)
	}
	h.p.MustWaitFor(t, waitLong, "the stream stopped with the notice", func(p *platformtest.Platform) bool {
		for _, m := range p.Messages() {
			if m.Stream == platformtest.StreamClosed && strings.HasSuffix(m.Text, "\n\n"+stoppedNotice) && strings.HasPrefix(m.Text, "Native") {
				return true
			}
		}
		return false
	})
	h.waitInflight(0)
	h.settle()
	var got []string
	for _, c := range h.p.CallsOf(platformtest.CallSessionStatus, platformtest.CallSessionTitle) {
		if c.Target.Thread != ev.Thread || c.Target.Channel != "D1" {
			t.Errorf("session call on %+v", c.Target)
		}
		switch c.Kind {
		case platformtest.CallSessionTitle:
			got = append(got, "title:"+c.Text)
		default:
			got = append(got, map[platforms.SessionStatus]string{platforms.SessionActive: "active", platforms.SessionProcessing: "processing"}[c.Status])
		}
	}
	want := []string{"processing", "title:What did I note this week?"}
	if len(got) < 3 || strings.Join(got[:2], "|") != strings.Join(want, "|") || got[len(got)-1] != "active" {
		t.Errorf("session calls %q, want processing, the title, then active (also set by the stop)", got)
	}
}

// In an agent session, a follow-up in the thread is processing then
// active but does not retitle it; outside a DM nothing is called.
func TestAgentSessionFollowUp(t *testing.T) {
	t.Parallel()
	h := newHarness(t, hopts{platform: platformtest.Options{AgentSessions: true, NoStream: true}})
	h.link("u1", "Ada")
	first := h.msg("u1", "D1", "", "first")
	first.DM, first.Thread = true, platforms.ThreadID(first.MessageID)
	h.deliver(first)
	h.waitText("echo: first")
	h.settle()
	follow := h.msg("u1", "D1", string(first.Thread), "second")
	follow.DM = true
	h.deliver(follow)
	h.waitText("echo: second")
	h.deliver(h.msg("u1", "c9", "", "in a channel"))
	h.waitText("echo: in a channel")
	h.settle()
	var got []string
	for _, c := range h.p.CallsOf(platformtest.CallSessionStatus, platformtest.CallSessionTitle) {
		if c.Kind == platformtest.CallSessionTitle {
			got = append(got, "title:"+c.Text)
			continue
		}
		got = append(got, map[platforms.SessionStatus]string{platforms.SessionActive: "active", platforms.SessionProcessing: "processing"}[c.Status])
	}
	want := "processing|title:first|active|processing|active"
	if strings.Join(got, "|") != want {
		t.Errorf("session calls %q, want %s", strings.Join(got, "|"), want)
	}
}

// Crash recovery's final edit of an orphaned reply removes the Stop button
// the dead process left on it.
func TestOrphanLosesStopButton(t *testing.T) {
	t.Parallel()
	var ref platforms.MessageRef
	h := newHarness(t, hopts{platform: edits(), beforeRun: func(h *harness) {
		h.b.tim.orphanEvery = 50 * time.Millisecond
		var err error
		ref, err = h.p.As().Send(t.Context(), platforms.Target{Channel: "c1"}, platforms.Message{
			Text: "Shown before the crash", Stop: &platforms.StopControl{ReplyID: "dead0123.abcdef", Label: "Stop"},
		})
		if err != nil {
			t.Fatal(err)
		}
		rec := store.InflightReply{
			ID: "dead0123", Owner: deadOwner, Live: true, Text: "Shown before the crash",
			Conversation: store.ConversationKey{Platform: testPlatform, Channel: "c1", User: "u1"},
			Refs:         []store.ReplyRef{{Channel: string(ref.Channel), ID: string(ref.ID)}},
			StartedAt:    time.Now(), UpdatedAt: time.Now(),
		}
		if err := h.st.Replies().PutReply(t.Context(), rec); err != nil {
			t.Fatal(err)
		}
	}})
	h.waitText("Shown before the crash\n\n⚠️ interrupted by a restart — please ask again")
	h.waitInflight(0)
	if m, _ := h.p.Message(ref.ID); m.Stop != nil {
		t.Errorf("the orphan kept its Stop button: %+v", m.Stop)
	}
}

// Stop ids are valid button payloads bound to one user; anything else,
// forged or malformed, is not owned by anyone.
func TestStopIDs(t *testing.T) {
	t.Parallel()
	ada := store.UserKey{Platform: "discord", User: "1001"}
	bob := store.UserKey{Platform: "discord", User: "1002"}
	id := stopIDFor("0123456789abcdef01234567", ada)
	if !platforms.ValidStopReplyID(id) || !ownsStop(id, ada) || ownsStop(id, bob) {
		t.Fatalf("stop id %q: valid %v, Ada owns %v, Bob owns %v", id, platforms.ValidStopReplyID(id), ownsStop(id, ada), ownsStop(id, bob))
	}
	if other := stopIDFor("0123456789abcdef01234568", ada); other == id || ownsStop(other[:25]+id[25:], ada) {
		t.Error("the tag does not bind the reply id")
	}
	scoped := store.UserKey{Platform: "discord", Workspace: "T1", User: "1001"}
	if ownsStop(id, scoped) {
		t.Error("the tag does not bind the user's scope")
	}
	for _, bad := range []string{"", ".", "0123", id + ".x", id + "0", strings.ToUpper(id), "a b." + id[25:], strings.Repeat("a", 80)} {
		if ownsStop(bad, ada) {
			t.Errorf("ownsStop(%q) = true", bad)
		}
	}
	if got := stopIDFor("with.dot", ada); got != "" {
		t.Errorf("stopIDFor of an id with a dot = %q, want none", got)
	}
	if got := stopIDFor(strings.Repeat("a", 60), ada); got != "" {
		t.Errorf("stopIDFor of a long id = %q, want none (over 64 bytes)", got)
	}
	if a, b := convStopID(store.ConversationKey{Platform: "slack", Channel: "D1", User: "U1"}), convStopID(store.ConversationKey{Platform: "slack", Channel: "D1", User: "U2"}); a == b || !platforms.ValidStopReplyID(a+".0123456789ab") {
		t.Errorf("conversation stop ids %q, %q", a, b)
	}
}

// A Chinese-speaking user gets the button and the notice in Chinese; a
// stop event without its payload is dropped without a word.
func TestStopChineseAndMalformed(t *testing.T) {
	t.Parallel()
	h := newHarness(t, hopts{platform: edits()})
	h.link("u1", "Ada")
	closed := heldStream(h, "", nil, "你好，", "世界")
	ev := h.msg("u1", "c1", "", "讲个故事")
	ev.User.Locale = "zh-CN"
	h.deliver(ev)
	m := h.waitStopButton("世界")
	if m.Stop.Label != "停止" {
		t.Errorf("label %q, want 停止", m.Stop.Label)
	}
	bad := h.stopEvent("u1", "c1", "")
	bad.Stop = nil
	h.deliver(bad)
	click := h.stopEvent("u1", "c1", m.Stop.ReplyID)
	click.User.Locale = "zh-CN"
	h.deliver(click)
	waitClosed(t, closed)
	h.waitText("你好，世界\n\n⏹ 已停止：再问一次即可继续。")
	h.waitInflight(0)
	noStopLeft(t, h.p)
	if n := len(h.p.CallsOf(platformtest.CallEphemeral)); n != 0 {
		t.Errorf("%d private messages, want none", n)
	}
}

// When the watch (re)starts, the replies running here whose stop was
// requested meanwhile (the announcement missed) are stopped from the
// store's record.
func TestStopCatchUpAfterWatchRestart(t *testing.T) {
	t.Parallel()
	h := newHarness(t, hopts{platform: edits(), noRun: true})
	ctx := t.Context()
	stopped := map[string]error{}
	for _, id := range []string{"aaaa.1111", "bbbb.2222"} {
		remove := h.b.stops.Add(&stops.Running{StopID: id, ConvID: "c." + id, Cancel: func(err error) { stopped[id] = err }})
		defer remove()
	}
	if _, err := h.st.Cancels().Request(ctx, "aaaa.1111", time.Minute); err != nil {
		t.Fatal(err)
	}
	stops.CatchUp(ctx, h.b.stopDeps())
	if len(stopped) != 1 || !errors.Is(stopped["aaaa.1111"], stops.ErrStopped) {
		t.Errorf("stopped %v, want only aaaa.1111 with stops.ErrStopped", stopped)
	}
}
