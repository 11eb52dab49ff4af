package storetest

import (
	"fmt"
	"testing"
	"time"

	"github.com/secondme-bridge/secondme-bridge/store"
)

func replyIDs(t *testing.T, s store.Store) []string {
	t.Helper()
	var ids []string
	for _, r := range listReplies(t, s, time.Time{}) {
		ids = append(ids, r.ID)
	}
	return ids
}

func testTurnsFinish(t *testing.T, s store.Store) {
	ctx, conv := t.Context(), turnConv()
	ts := begin(t, s, "turn", "a", time.Minute, conv)
	for _, id := range []string{"r1", "r2"} {
		mustOK(t, s.Replies().PutReply(ctx, sampleReply(id, base)), "put reply "+id)
	}
	c := store.Conversation{Key: conv, SessionID: "sess-new", LastActive: base}
	mustOK(t, s.Turns().Finish(ctx, ts.Lease, &c, time.Hour, "r1"), "finish")

	got, err := s.Conversations().GetConversation(ctx, conv)
	mustOK(t, err, "get the conversation Finish wrote")
	mustEqual(t, c, got, "conversation after Finish")
	mustEqual(t, []string{"r2"}, replyIDs(t, s), "replies after Finish")
	mustBe(t, s.Locks().Validate(ctx, ts.Lease), store.ErrStaleFence, "validate a finished lease")
	mustBe(t, s.Turns().Finish(ctx, ts.Lease, &c, time.Hour, ""), store.ErrStaleFence, "finish twice")
	b := acquire(t, s, "turn", "b", time.Minute) // released: another owner gets it
	higher(t, b, ts.Lease)

	next := begin(t, s, "turn-2", "a", time.Minute, conv)
	if !next.HasConversation || next.Conversation.SessionID != "sess-new" {
		t.Fatalf("Begin after Finish = %+v, want the conversation Finish wrote", next)
	}
	n, err := s.Conversations().DeleteUserConversations(ctx, conv.UserKey())
	mustOK(t, err, "delete user conversations")
	if n != 1 {
		t.Fatalf("DeleteUserConversations removed %d, want 1 (the one Finish wrote)", n)
	}
	_, err = s.Conversations().GetConversation(ctx, conv)
	mustBe(t, err, store.ErrNotFound, "get after DeleteUserConversations")
}

// testTurnsFinishStale: a superseded, released or expired lease writes
// nothing.
func testTurnsFinishStale(t *testing.T, s store.Store) {
	ctx, conv := t.Context(), turnConv()
	old := store.Conversation{Key: conv, SessionID: "old", LastActive: base}
	mustOK(t, s.Conversations().PutConversation(ctx, old, time.Hour), "put conversation")
	mustOK(t, s.Replies().PutReply(ctx, sampleReply("r", base)), "put reply")
	stale := store.Conversation{Key: conv, SessionID: "stale", LastActive: base.Add(time.Hour)}

	a1 := begin(t, s, "turn", "a", time.Minute, conv).Lease
	a2 := begin(t, s, "turn", "a", time.Minute, conv).Lease
	mustBe(t, s.Turns().Finish(ctx, a1, &stale, time.Hour, "r"), store.ErrStaleFence, "finish a superseded lease")
	mustOK(t, s.Locks().Validate(ctx, a2), "current lease after a stale Finish")
	mustOK(t, s.Locks().Release(ctx, a2), "release")
	mustBe(t, s.Turns().Finish(ctx, a2, &stale, time.Hour, "r"), store.ErrStaleFence, "finish a released lease")

	short := begin(t, s, "turn", "a", 80*time.Millisecond, conv).Lease
	time.Sleep(150 * time.Millisecond)
	mustBe(t, s.Turns().Finish(ctx, short, &stale, time.Hour, "r"), store.ErrStaleFence, "finish an expired lease")
	mustBe(t, s.Turns().Finish(ctx, store.Lease{}, &stale, time.Hour, "r"), store.ErrStaleFence, "finish a zero lease")

	got, err := s.Conversations().GetConversation(ctx, conv)
	mustOK(t, err, "get conversation")
	mustEqual(t, old, got, "conversation after stale Finishes")
	mustEqual(t, []string{"r"}, replyIDs(t, s), "replies after stale Finishes")
}

func testTurnsFinishPartial(t *testing.T, s store.Store) {
	ctx, conv := t.Context(), turnConv()
	old := store.Conversation{Key: conv, SessionID: "old", LastActive: base}
	mustOK(t, s.Conversations().PutConversation(ctx, old, time.Hour), "put conversation")
	mustOK(t, s.Replies().PutReply(ctx, sampleReply("r", base)), "put reply")

	l := begin(t, s, "turn", "a", time.Minute, conv).Lease
	mustOK(t, s.Turns().Finish(ctx, l, nil, 0, ""), "finish with nothing to write")
	got, err := s.Conversations().GetConversation(ctx, conv)
	mustOK(t, err, "get conversation")
	mustEqual(t, old, got, "conversation after Finish(nil)")
	mustEqual(t, []string{"r"}, replyIDs(t, s), "replies after Finish with no reply id")
	mustBe(t, s.Locks().Validate(ctx, l), store.ErrStaleFence, "lease after Finish(nil)")

	l = begin(t, s, "turn", "a", time.Minute, conv).Lease
	mustOK(t, s.Turns().Finish(ctx, l, nil, 0, "absent"), "finish deleting an absent reply")
	mustBe(t, s.Locks().Validate(ctx, l), store.ErrStaleFence, "lease after Finish")

	l = begin(t, s, "turn", "a", time.Minute, conv).Lease
	mustErr(t, s.Turns().Finish(ctx, l, &old, 0, "r"), "finish a conversation with ttl 0")
	mustOK(t, s.Locks().Validate(ctx, l), "a refused Finish keeps the lock")
	mustEqual(t, []string{"r"}, replyIDs(t, s), "a refused Finish keeps the reply")

	short := store.Conversation{Key: conv, SessionID: "short"}
	mustOK(t, s.Turns().Finish(ctx, l, &short, 100*time.Millisecond, "r"), "finish with a short ttl")
	time.Sleep(200 * time.Millisecond)
	_, err = s.Conversations().GetConversation(ctx, conv)
	mustBe(t, err, store.ErrNotFound, "conversation after Finish's ttl")
}

func testBeginOnce(t *testing.T, s store.Store) {
	ctx := t.Context()
	wins := race(t, 50, func(i int) (bool, error) {
		_, err := s.Turns().Begin(ctx, "turn", fmt.Sprintf("owner-%d", i), time.Minute, turnConv())
		return lose(err, store.ErrConflict)
	})
	exactly(t, "50 concurrent Begin", wins, 1)
}

func testAdmitOnce(t *testing.T, s store.Store) {
	ctx := t.Context()
	wins := race(t, 100, func(int) (bool, error) {
		a, err := s.Turns().Admit(ctx, []string{"event-1"}, time.Minute, "rate", store.Limit{Rate: 0.001, Burst: 100})
		return a.Claimed, err
	})
	exactly(t, "100 concurrent Admit of one id", wins, 1)
}

func testAdmitBudgetExact(t *testing.T, s store.Store) {
	ctx := t.Context()
	l := store.Limit{Rate: 0.001, Burst: 10}
	wins := race(t, 100, func(i int) (bool, error) {
		a, err := s.Turns().Admit(ctx, []string{fmt.Sprintf("event-%d", i)}, time.Minute, "rate", l)
		if err == nil && !a.Claimed {
			t.Errorf("distinct id %d was a duplicate", i)
		}
		return a.Allowed, err
	})
	exactly(t, "100 concurrent Admit from a burst of 10", wins, 10)
}
