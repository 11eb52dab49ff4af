package storetest

import (
	"errors"
	"testing"
	"time"

	"github.com/secondme-bridge/secondme-bridge/store"
)

func testConversationCRUD(t *testing.T, s store.Store) {
	ctx, convs := t.Context(), s.Conversations()
	k := store.ConversationKey{Platform: "slack", Workspace: "T1", Channel: "C1", Thread: "1700000000.000100", User: "U1"}
	_, err := convs.GetConversation(ctx, k)
	mustBe(t, err, store.ErrNotFound, "get missing conversation")

	c := store.Conversation{Key: k, SessionID: "sess-1", LastActive: base}
	mustOK(t, convs.PutConversation(ctx, c, time.Hour), "put conversation")
	got, err := convs.GetConversation(ctx, k)
	mustOK(t, err, "get conversation")
	mustEqual(t, c, got, "get after put")

	noThread := k
	noThread.Thread = ""
	_, err = convs.GetConversation(ctx, noThread)
	mustBe(t, err, store.ErrNotFound, "same channel without the thread")

	c.SessionID, c.LastActive = "sess-2", base.Add(time.Minute)
	mustOK(t, convs.PutConversation(ctx, c, time.Hour), "replace conversation")
	got, err = convs.GetConversation(ctx, k)
	mustOK(t, err, "get replaced conversation")
	mustEqual(t, c, got, "get after replace")

	mustErr(t, convs.PutConversation(ctx, c, 0), "put with ttl 0")
	mustOK(t, convs.DeleteConversation(ctx, k), "delete conversation")
	_, err = convs.GetConversation(ctx, k)
	mustBe(t, err, store.ErrNotFound, "get deleted conversation")
	mustBe(t, convs.DeleteConversation(ctx, k), store.ErrNotFound, "delete missing conversation")
}

func testConversationTTL(t *testing.T, s store.Store) {
	ctx, convs := t.Context(), s.Conversations()
	short := store.ConversationKey{Platform: "discord", Channel: "1", User: "2"}
	renewed := store.ConversationKey{Platform: "discord", Channel: "3", User: "2"}
	start := time.Now()
	mustOK(t, convs.PutConversation(ctx, store.Conversation{Key: short, SessionID: "s"}, 250*time.Millisecond), "put short")
	mustOK(t, convs.PutConversation(ctx, store.Conversation{Key: renewed, SessionID: "r"}, 400*time.Millisecond), "put renewed")
	_, err := convs.GetConversation(ctx, short)
	if errors.Is(err, store.ErrNotFound) {
		skipIfSlow(t, start, 250*time.Millisecond, "get before expiry")
	}
	mustOK(t, err, "get before expiry")

	// A put resets the TTL.
	time.Sleep(100 * time.Millisecond)
	mustOK(t, convs.PutConversation(ctx, store.Conversation{Key: renewed, SessionID: "r2"}, time.Minute), "renew")
	time.Sleep(350 * time.Millisecond) // 450ms after the first puts
	_, err = convs.GetConversation(ctx, short)
	mustBe(t, err, store.ErrNotFound, "get after expiry")
	mustBe(t, convs.DeleteConversation(ctx, short), store.ErrNotFound, "delete expired")
	got, err := convs.GetConversation(ctx, renewed)
	mustOK(t, err, "get renewed after its first ttl")
	if got.SessionID != "r2" {
		t.Fatalf("renewed session = %q, want r2", got.SessionID)
	}
}

// testDeleteUserConversations checks that only the user's own live
// conversations go, and that users whose ids share a prefix, or who have the
// same id in another workspace, keep theirs.
func testDeleteUserConversations(t *testing.T, s store.Store) {
	ctx, convs := t.Context(), s.Conversations()
	a := store.UserKey{Platform: "slack", Workspace: "T1", User: "U1"}
	conv := func(u store.UserKey, ch, th string) store.ConversationKey {
		return store.ConversationKey{Platform: u.Platform, Workspace: u.Workspace, Channel: ch, Thread: th, User: u.User}
	}
	mine := []store.ConversationKey{conv(a, "C1", ""), conv(a, "C1", "1.1"), conv(a, "C2", "")}
	expired := conv(a, "C3", "")
	others := []store.ConversationKey{
		conv(store.UserKey{Platform: "slack", Workspace: "T1", User: "U10"}, "C1", ""),
		conv(store.UserKey{Platform: "slack", Workspace: "T2", User: "U1"}, "C1", ""),
		conv(store.UserKey{Platform: "discord", User: "U1"}, "C1", ""),
	}
	for _, k := range append(append([]store.ConversationKey{}, mine...), others...) {
		mustOK(t, convs.PutConversation(ctx, store.Conversation{Key: k, SessionID: "s-" + k.Channel}, time.Hour), "put")
	}
	mustOK(t, convs.PutConversation(ctx, store.Conversation{Key: expired, SessionID: "old"}, 50*time.Millisecond), "put expiring")
	time.Sleep(100 * time.Millisecond)

	n, err := convs.DeleteUserConversations(ctx, a)
	mustOK(t, err, "delete user conversations")
	if n != len(mine) {
		t.Fatalf("deleted %d conversations, want %d (the expired one does not count)", n, len(mine))
	}
	for _, k := range append(mine, expired) {
		_, err := convs.GetConversation(ctx, k)
		mustBe(t, err, store.ErrNotFound, "get deleted "+k.Channel+"/"+k.Thread)
	}
	for _, k := range others {
		got, err := convs.GetConversation(ctx, k)
		mustOK(t, err, "other user's conversation "+k.Platform+"/"+k.Workspace+"/"+k.User)
		if got.SessionID != "s-C1" {
			t.Fatalf("other user's session = %q", got.SessionID)
		}
	}
	n, err = convs.DeleteUserConversations(ctx, a)
	mustOK(t, err, "delete again")
	if n != 0 {
		t.Fatalf("second delete removed %d, want 0", n)
	}
	// The user can start over.
	mustOK(t, convs.PutConversation(ctx, store.Conversation{Key: mine[0], SessionID: "new"}, time.Hour), "put after delete")
	if got, err := convs.GetConversation(ctx, mine[0]); err != nil || got.SessionID != "new" {
		t.Fatalf("get after delete and put = %+v, %v", got, err)
	}
}
