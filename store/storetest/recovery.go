package storetest

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/secondme-bridge/secondme-bridge/store"
)

func alive(t *testing.T, s store.Store) []string {
	t.Helper()
	owners, err := s.Liveness().Alive(t.Context())
	mustOK(t, err, "alive")
	slices.Sort(owners)
	return owners
}

func testLiveness(t *testing.T, s store.Store) {
	ctx, lv := t.Context(), s.Liveness()
	if got := alive(t, s); len(got) != 0 {
		t.Fatalf("fresh store: alive = %v", got)
	}
	mustOK(t, lv.Beat(ctx, "a/1", time.Minute), "beat a")
	mustOK(t, lv.Beat(ctx, "b/2", 150*time.Millisecond), "beat b")
	mustOK(t, lv.Beat(ctx, "a/1", time.Minute), "beat a again")
	mustEqual(t, []string{"a/1", "b/2"}, alive(t, s), "alive after beats")
	time.Sleep(300 * time.Millisecond)
	mustEqual(t, []string{"a/1"}, alive(t, s), "alive after b's record expired")
	mustOK(t, lv.Beat(ctx, "b/2", time.Minute), "b beats again")
	mustOK(t, lv.Leave(ctx, "a/1"), "leave a")
	mustOK(t, lv.Leave(ctx, "a/1"), "leave a twice")
	mustEqual(t, []string{"b/2"}, alive(t, s), "alive after a left")
	mustErr(t, lv.Beat(ctx, "", time.Minute), "beat without owner")
	mustErr(t, lv.Beat(ctx, "c", 0), "beat with ttl 0")
}

func testLockBreak(t *testing.T, s store.Store) {
	ctx, locks := t.Context(), s.Locks()
	a := acquire(t, s, "conv:1", "dead/1", time.Minute)
	mustBe(t, locks.Break(ctx, "conv:1", "other"), store.ErrNotFound, "break by a non-holder")
	mustOK(t, locks.Validate(ctx, a), "lease survives a non-holder's break")
	mustOK(t, locks.Break(ctx, "conv:1", "dead/1"), "break the dead owner's lease")
	mustBe(t, locks.Validate(ctx, a), store.ErrStaleFence, "validate a broken lease")
	mustBe(t, locks.Break(ctx, "conv:1", "dead/1"), store.ErrNotFound, "break twice")
	b := acquire(t, s, "conv:1", "live/2", time.Minute)
	higher(t, b, a)
	mustBe(t, locks.Release(ctx, a), store.ErrStaleFence, "the dead owner's release after the break")
	mustOK(t, locks.Validate(ctx, b), "new holder after the break")
	mustErr(t, locks.Break(ctx, "", "x"), "break an empty key")
}

var inboxConv = store.ConversationKey{Platform: "slack", Workspace: "T1", Channel: "C1", Thread: "1.2", User: "U1"}

func entry(id, owner string, conv store.ConversationKey) store.InboxEntry {
	return store.InboxEntry{ID: id, Owner: owner, Conversation: conv, Item: []byte(`{"text":"question ` + id + `"}`), AdmittedAt: base}
}

func enter(t *testing.T, s store.Store, ids []string, e store.InboxEntry, bound int) store.Admission {
	t.Helper()
	a, err := s.Turns().Enter(t.Context(), ids, time.Minute, "rate:"+e.Conversation.User, store.Limit{Rate: 0.001, Burst: 100}, e, bound)
	mustOK(t, err, "enter "+e.ID)
	return a
}

func listInbox(t *testing.T, s store.Store) []store.InboxEntry {
	t.Helper()
	es, err := s.Inbox().List(t.Context())
	mustOK(t, err, "list inbox")
	return es
}

func inboxIDs(es []store.InboxEntry) []string {
	out := make([]string, len(es))
	for i, e := range es {
		out[i] = e.ID + "@" + e.Owner
	}
	return out
}

func testInboxEnter(t *testing.T, s store.Store) {
	ctx := t.Context()
	other := inboxConv
	other.Channel = "C2"
	a := enter(t, s, []string{"ev-1"}, entry("e1", "p/1", inboxConv), 2)
	mustEqual(t, store.Admission{Claimed: true, Allowed: true}, a, "enter e1")
	claimed(t, s, "ev-1")
	enter(t, s, []string{"ev-2"}, entry("e2", "p/1", other), 2)
	enter(t, s, []string{"ev-3"}, entry("e3", "p/1", inboxConv), 2)
	a = enter(t, s, []string{"ev-4"}, entry("e4", "p/1", inboxConv), 2)
	mustEqual(t, store.Admission{Claimed: true, Allowed: true, Full: true}, a, "enter over the bound")
	claimed(t, s, "ev-4")
	a = enter(t, s, []string{"ev-1"}, entry("e5", "p/1", other), 2)
	mustEqual(t, store.Admission{}, a, "enter a duplicate")

	es := listInbox(t, s)
	mustEqual(t, []string{"e1@p/1", "e2@p/1", "e3@p/1"}, inboxIDs(es), "inbox after enters")
	for i := 1; i < len(es); i++ {
		if es[i].Seq <= es[i-1].Seq {
			t.Fatalf("seqs not increasing: %d after %d", es[i].Seq, es[i-1].Seq)
		}
	}
	want := entry("e1", "p/1", inboxConv)
	want.Seq = es[0].Seq
	mustEqual(t, want, es[0], "entry round trip")

	_, err := s.Turns().Enter(ctx, []string{"ev-6"}, time.Minute, "r", slowRate, entry("e1", "p/1", other), 5)
	mustErr(t, err, "enter an id already in the inbox")
	// Refused before anything was written: the event is not taken for a
	// duplicate when the Enter is tried again under a new entry id.
	a, err = s.Turns().Enter(ctx, []string{"ev-6"}, time.Minute, "r", slowRate, entry("e6", "p/1", other), 5)
	mustOK(t, err, "enter again after the refused id")
	mustEqual(t, true, a.Claimed, "ev-6 claimed after the refused Enter")
	if a.Allowed && !a.Full {
		mustOK(t, s.Inbox().Remove(ctx, "e6"), "remove e6")
	}
	for name, e := range map[string]store.InboxEntry{
		"no id": entry("", "p/1", inboxConv), "no owner": entry("x", "", inboxConv),
		"no platform": entry("x", "p/1", store.ConversationKey{Channel: "c"}),
	} {
		_, err := s.Turns().Enter(ctx, []string{"ev-" + name}, time.Minute, "r", slowRate, e, 5)
		mustErr(t, err, "enter with "+name)
	}
	_, err = s.Turns().Enter(ctx, []string{"ev-7"}, time.Minute, "r", slowRate, entry("x", "p/1", inboxConv), 0)
	mustErr(t, err, "enter with bound 0")

	// Over the rate limit: claimed, no token, no entry.
	tight := store.Limit{Rate: 0.001, Burst: 1}
	_, err = s.Turns().Enter(ctx, []string{"ev-8"}, time.Minute, "tight", tight, entry("e8", "p/1", other), 5)
	mustOK(t, err, "enter e8")
	a, err = s.Turns().Enter(ctx, []string{"ev-9"}, time.Minute, "tight", tight, entry("e9", "p/1", other), 5)
	mustOK(t, err, "enter e9")
	if !a.Claimed || a.Allowed || a.Wait <= 0 {
		t.Fatalf("enter over the rate = %+v", a)
	}
	mustEqual(t, []string{"e1@p/1", "e2@p/1", "e3@p/1", "e8@p/1"}, inboxIDs(listInbox(t, s)), "inbox after rate-limited enter")

	mustOK(t, s.Inbox().Remove(ctx, "e1"), "remove e1")
	mustBe(t, s.Inbox().Remove(ctx, "e1"), store.ErrNotFound, "remove e1 twice")
	a = enter(t, s, []string{"ev-10"}, entry("e10", "p/1", inboxConv), 2)
	if a.Full {
		t.Fatal("the conversation is still full after a removal")
	}
	mustEqual(t, []string{"e2@p/1", "e3@p/1", "e8@p/1", "e10@p/1"}, inboxIDs(listInbox(t, s)), "inbox after remove")
}

func testInboxFinish(t *testing.T, s store.Store) {
	ctx := t.Context()
	conv := store.ConversationKey{Platform: "discord", Channel: "c1", User: "u1"}
	enter(t, s, []string{"ev-1"}, entry("turn-1", "p/1", conv), 1)
	mustOK(t, s.Replies().PutReply(ctx, store.InflightReply{ID: "turn-1", Owner: "p/1", Conversation: conv}), "put reply")
	if a := enter(t, s, []string{"ev-2"}, entry("turn-2", "p/1", conv), 1); !a.Full {
		t.Fatalf("enter behind a turn with bound 1 = %+v, want Full", a)
	}
	ts, err := s.Turns().Begin(ctx, "conv:1", "p/1", time.Minute, conv)
	mustOK(t, err, "begin")
	mustOK(t, s.Turns().Finish(ctx, ts.Lease, nil, 0, "turn-1"), "finish")
	if es := listInbox(t, s); len(es) != 0 {
		t.Fatalf("inbox after finish: %v", inboxIDs(es))
	}
	if ids := replyIDs(t, s); len(ids) != 0 {
		t.Fatalf("replies after finish: %v", ids)
	}
	if a := enter(t, s, []string{"ev-3"}, entry("turn-3", "p/1", conv), 1); a.Full {
		t.Fatal("the conversation is still full after its turn finished")
	}
	// A stale finish removes nothing.
	mustBe(t, s.Turns().Finish(ctx, ts.Lease, nil, 0, "turn-3"), store.ErrStaleFence, "stale finish")
	mustEqual(t, []string{"turn-3@p/1"}, inboxIDs(listInbox(t, s)), "inbox after a stale finish")
}

func testInboxAdopt(t *testing.T, s store.Store) {
	ctx := t.Context()
	for i := range 6 {
		owner := "dead/1"
		if i%3 == 2 {
			owner = "live/2"
		}
		conv := inboxConv
		conv.Channel = fmt.Sprintf("C%d", i%2)
		enter(t, s, []string{fmt.Sprintf("ev-%d", i)}, entry(fmt.Sprintf("e%d", i), owner, conv), 10)
	}
	n := race(t, 4, func(i int) (bool, error) {
		es, err := s.Inbox().Adopt(ctx, "dead/1", fmt.Sprintf("heir/%d", i))
		if err != nil {
			return false, err
		}
		return len(es) > 0, nil
	})
	if n != 1 {
		t.Fatalf("%d adopters got entries, want exactly 1", n)
	}
	es := listInbox(t, s)
	heir := ""
	for _, e := range es {
		if e.Owner == "live/2" {
			continue
		}
		if heir == "" {
			heir = e.Owner
		}
		if e.Owner != heir || e.Owner == "dead/1" {
			t.Fatalf("after adoption: %v", inboxIDs(es))
		}
	}
	adopted, err := s.Inbox().Adopt(ctx, heir, "next/3")
	mustOK(t, err, "adopt again")
	mustEqual(t, []string{"e0@next/3", "e1@next/3", "e3@next/3", "e4@next/3"}, inboxIDs(adopted), "adopted entries by seq")
	if adopted[0].Item == nil || string(adopted[0].Item) != `{"text":"question e0"}` {
		t.Fatalf("adopted item = %q", adopted[0].Item)
	}
	none, err := s.Inbox().Adopt(ctx, "nobody", "next/3")
	mustOK(t, err, "adopt from an owner with no entries")
	if len(none) != 0 {
		t.Fatalf("adopted %d entries of nobody", len(none))
	}
	mustErr(t, second(s.Inbox().Adopt(ctx, "dead/1", "")), "adopt to an empty owner")
}
