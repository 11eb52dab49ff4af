package storetest

import (
	"fmt"
	"testing"
	"time"

	"github.com/secondme-bridge/secondme-bridge/store"
)

// slowRate never refills during a test.
var slowRate = store.Limit{Rate: 0.001, Burst: 2}

func admit(t *testing.T, s store.Store, ids []string, rateKey string, rate store.Limit) store.Admission {
	t.Helper()
	a, err := s.Turns().Admit(t.Context(), ids, time.Minute, rateKey, rate)
	mustOK(t, err, fmt.Sprintf("admit %v", ids))
	return a
}

func claimed(t *testing.T, s store.Store, id string) {
	t.Helper()
	won, err := s.Dedupe().Claim(t.Context(), id, time.Minute)
	mustOK(t, err, "claim "+id)
	if won {
		t.Fatalf("Claim(%q) = true after Admit: the id was not claimed", id)
	}
}

// tokensLeft takes tokens from key until it is refused and returns how
// many it got (the bucket must not refill meanwhile).
func tokensLeft(t *testing.T, s store.Store, key string, l store.Limit) int {
	t.Helper()
	n := 0
	for ; n <= l.Burst; n++ {
		if ok, _ := take(t, s, key, l, 1); !ok {
			return n
		}
	}
	t.Fatalf("bucket %s granted more than its burst %d", key, l.Burst)
	return n
}

func testTurnsAdmitNew(t *testing.T, s store.Store) {
	a := admit(t, s, []string{"ev-1", "msg-1", "ev-1"}, "rate", slowRate)
	mustEqual(t, store.Admission{Claimed: true, Allowed: true}, a, "admit new ids")
	claimed(t, s, "ev-1")
	claimed(t, s, "msg-1")
	if n := tokensLeft(t, s, "rate", slowRate); n != 1 {
		t.Fatalf("%d tokens left after one admission from a burst of 2, want 1", n)
	}
	a = admit(t, s, nil, "rate2", slowRate)
	mustEqual(t, store.Admission{Claimed: true, Allowed: true}, a, "admit with no ids")

	ctx := t.Context()
	_, err := s.Turns().Admit(ctx, []string{"x", ""}, time.Minute, "rate", slowRate)
	mustErr(t, err, "admit an empty id")
	_, err = s.Turns().Admit(ctx, []string{"x"}, 0, "rate", slowRate)
	mustErr(t, err, "admit with claim ttl 0")
	_, err = s.Turns().Admit(ctx, []string{"x"}, time.Minute, "rate", store.Limit{Rate: 1})
	mustErr(t, err, "admit with burst 0")
	if won, err := s.Dedupe().Claim(ctx, "x", time.Minute); err != nil || !won {
		t.Fatalf("refused Admit claimed its id: Claim = %v, %v", won, err)
	}
}

func testTurnsAdmitDuplicate(t *testing.T, s store.Store) {
	mustEqual(t, store.Admission{Claimed: true, Allowed: true}, admit(t, s, []string{"ev"}, "rate", slowRate), "first admit")
	mustEqual(t, store.Admission{}, admit(t, s, []string{"ev"}, "rate", slowRate), "second admit")
	if n := tokensLeft(t, s, "rate", slowRate); n != 1 {
		t.Fatalf("%d tokens left, want 1: a duplicate must not take a token", n)
	}
	// A Dedupe.Claim'd id is a duplicate for Admit.
	won, err := s.Dedupe().Claim(t.Context(), "claimed", time.Minute)
	mustOK(t, err, "claim")
	if !won {
		t.Fatal("first Claim lost")
	}
	mustEqual(t, store.Admission{}, admit(t, s, []string{"claimed"}, "rate3", slowRate), "admit a claimed id")
}

// testTurnsAdmitPartial: one id of two was claimed. The admission is a
// duplicate and takes no token, but the new id is claimed all the same
// (claims are independent, as separate Dedupe.Claim calls would be).
func testTurnsAdmitPartial(t *testing.T, s store.Store) {
	won, err := s.Dedupe().Claim(t.Context(), "old", time.Minute)
	mustOK(t, err, "claim old")
	if !won {
		t.Fatal("first Claim lost")
	}
	mustEqual(t, store.Admission{}, admit(t, s, []string{"new", "old"}, "rate", slowRate), "admit new+old")
	claimed(t, s, "new")
	if n := tokensLeft(t, s, "rate", slowRate); n != 2 {
		t.Fatalf("%d tokens left, want 2: a partial duplicate must not take a token", n)
	}
}

func testTurnsAdmitRateLimited(t *testing.T, s store.Store) {
	l := store.Limit{Rate: 2, Burst: 1}
	start := time.Now()
	if ok, _ := take(t, s, "rate", l, 1); !ok { // Budgets.Take and Admit share the bucket
		t.Fatal("take from a full bucket denied")
	}
	a := admit(t, s, []string{"ev"}, "rate", l)
	if a.Allowed {
		skipIfSlow(t, start, 500*time.Millisecond, "deny before a token refills")
	}
	if !a.Claimed || a.Allowed || a.Wait <= 0 || a.Wait > 500*time.Millisecond {
		t.Fatalf("admit on an empty bucket = %+v, want claimed, not allowed, 0 < wait <= 500ms", a)
	}
	// The claim stands: the same event is now a duplicate.
	mustEqual(t, store.Admission{}, admit(t, s, []string{"ev"}, "rate", l), "admit again")
	time.Sleep(a.Wait + 20*time.Millisecond)
	if a := admit(t, s, []string{"ev-2"}, "rate", l); !a.Claimed || !a.Allowed || a.Wait != 0 {
		t.Fatalf("admit after the wait = %+v, want claimed and allowed", a)
	}
}

func turnConv() store.ConversationKey {
	return store.ConversationKey{Platform: "slack", Workspace: "T1", Channel: "C1", Thread: "1.1", User: "U1"}
}

func begin(t *testing.T, s store.Store, key, owner string, ttl time.Duration, conv store.ConversationKey) *store.TurnStart {
	t.Helper()
	before := time.Now()
	ts, err := s.Turns().Begin(t.Context(), key, owner, ttl, conv)
	mustOK(t, err, "begin "+key+" by "+owner)
	if ts == nil {
		t.Fatalf("Begin(%q, %q) returned no TurnStart and no error", key, owner)
	}
	l := ts.Lease
	if l.Key != key || l.Owner != owner || l.Fence == 0 {
		t.Fatalf("Begin(%q, %q) lease = %+v", key, owner, l)
	}
	if l.Expiry.Before(before.Add(ttl-time.Second)) || l.Expiry.After(time.Now().Add(ttl+time.Second)) {
		t.Fatalf("lease expiry %v is not about now+%v", l.Expiry, ttl)
	}
	return ts
}

func testTurnsBegin(t *testing.T, s store.Store) {
	ctx, conv := t.Context(), turnConv()
	ts := begin(t, s, "turn", "a", time.Minute, conv)
	if ts.HasConversation || ts.HasLink {
		t.Fatalf("Begin on an empty store = %+v, want no conversation and no link", ts)
	}
	mustOK(t, s.Locks().Release(ctx, ts.Lease), "release Begin's lease")

	c := store.Conversation{Key: conv, SessionID: "sess", LastActive: base}
	mustOK(t, s.Conversations().PutConversation(ctx, c, time.Hour), "put conversation")
	link := sampleLink(conv.UserKey(), "turn")
	mustOK(t, s.Links().PutLink(ctx, link), "put link")
	ts2 := begin(t, s, "turn", "b", time.Minute, conv)
	higher(t, ts2.Lease, ts.Lease)
	if !ts2.HasConversation || !ts2.HasLink {
		t.Fatalf("Begin = %+v, want the conversation and the link", ts2)
	}
	mustEqual(t, c, ts2.Conversation, "Begin's conversation")
	mustEqual(t, link, ts2.Link, "Begin's link (tokens decrypted)")
	// The TurnStart is the caller's own: changing it changes nothing stored.
	ts2.Link.Name, ts2.Conversation.SessionID = "changed", "changed"
	mustOK(t, s.Locks().Release(ctx, ts2.Lease), "release")
	again := begin(t, s, "turn", "b", time.Minute, conv)
	mustEqual(t, c, again.Conversation, "the conversation after its TurnStart was changed")
	mustEqual(t, link, again.Link, "the link after its TurnStart was changed")
	ts2 = again

	other := conv
	other.Thread = "2.2" // same user, another conversation: the link only
	ts3 := begin(t, s, "turn-2", "b", time.Minute, other)
	if ts3.HasConversation || !ts3.HasLink {
		t.Fatalf("Begin on another thread = %+v, want the link only", ts3)
	}

	_, err := s.Turns().Begin(ctx, "turn", "a", 0, conv)
	mustErr(t, err, "begin with ttl 0")
	_, err = s.Turns().Begin(ctx, "", "a", time.Minute, conv)
	mustErr(t, err, "begin with an empty key")
}

func testTurnsBeginExpiredConversation(t *testing.T, s store.Store) {
	conv := turnConv()
	mustOK(t, s.Conversations().PutConversation(t.Context(), store.Conversation{Key: conv, SessionID: "s"}, 50*time.Millisecond), "put")
	time.Sleep(100 * time.Millisecond)
	if ts := begin(t, s, "turn", "a", time.Minute, conv); ts.HasConversation {
		t.Fatalf("Begin returned an expired conversation: %+v", ts.Conversation)
	}
}

func testTurnsBeginConflict(t *testing.T, s store.Store) {
	ctx, conv := t.Context(), turnConv()
	mustOK(t, s.Links().PutLink(ctx, sampleLink(conv.UserKey(), "x")), "put link")
	a := begin(t, s, "turn", "a", time.Minute, conv)
	ts, err := s.Turns().Begin(ctx, "turn", "b", time.Minute, conv)
	mustBe(t, err, store.ErrConflict, "begin a held turn")
	if ts != nil {
		t.Fatalf("Begin on conflict returned %+v, want nil", ts)
	}
	_, err = s.Locks().Acquire(ctx, "turn", "b", time.Minute)
	mustBe(t, err, store.ErrConflict, "acquire a lock held by Begin")
	mustOK(t, s.Locks().Validate(ctx, a.Lease), "holder survives the conflict")

	l := acquire(t, s, "held", "a", time.Minute)
	_, err = s.Turns().Begin(ctx, "held", "b", time.Minute, conv)
	mustBe(t, err, store.ErrConflict, "begin a lock held by Acquire")
	mustOK(t, s.Locks().Validate(ctx, l), "Acquire's holder survives")
}

// testTurnsBeginFences: Begin and Acquire share one fence counter, and a
// lease from Begin is an ordinary lease for Locks.
func testTurnsBeginFences(t *testing.T, s store.Store) {
	ctx, locks, conv := t.Context(), s.Locks(), turnConv()
	a1 := begin(t, s, "turn", "a", time.Minute, conv).Lease
	a2 := begin(t, s, "turn", "a", time.Minute, conv).Lease // own lease: new fence
	higher(t, a2, a1)
	mustBe(t, locks.Validate(ctx, a1), store.ErrStaleFence, "validate superseded Begin lease")
	a3 := acquire(t, s, "turn", "a", time.Minute)
	higher(t, a3, a2)
	a4 := begin(t, s, "turn", "a", time.Minute, conv).Lease
	higher(t, a4, a3)

	mustOK(t, locks.Validate(ctx, a4), "validate Begin's lease")
	ext, err := locks.Extend(ctx, a4, 2*time.Minute)
	mustOK(t, err, "extend Begin's lease")
	if ext.Fence != a4.Fence || !ext.Expiry.After(a4.Expiry) {
		t.Fatalf("Extend(%+v) = %+v", a4, ext)
	}
	mustOK(t, locks.Release(ctx, ext), "release Begin's lease")
	mustBe(t, locks.Validate(ctx, a4), store.ErrStaleFence, "validate released lease")
	b := begin(t, s, "turn", "b", time.Minute, conv).Lease
	higher(t, b, a4)

	short := begin(t, s, "short", "a", 80*time.Millisecond, conv).Lease
	time.Sleep(150 * time.Millisecond)
	mustBe(t, locks.Validate(ctx, short), store.ErrStaleFence, "validate expired Begin lease")
	c := begin(t, s, "short", "c", time.Minute, conv).Lease
	higher(t, c, short)
}
