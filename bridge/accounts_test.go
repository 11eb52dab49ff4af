package bridge

import (
	"errors"
	"testing"
	"time"

	"github.com/secondme-bridge/secondme-bridge/secondme"
	"github.com/secondme-bridge/secondme-bridge/secondme/secondmetest"
	"github.com/secondme-bridge/secondme-bridge/store"
	"github.com/secondme-bridge/secondme-bridge/store/storetest"
)

// A link stored under a key the bridge no longer has is no link: a chat
// message gets the invitation to /link (not "something went wrong"), and
// /unlink removes it.
func TestUnreadableLinkGetsTheInvitation(t *testing.T) {
	t.Parallel()
	be := storetest.NewBackend(t, storetest.Bolt, storetest.Options{})
	old := be.Open(t)
	key := store.UserKey{Platform: testPlatform, User: "u1"}
	err := old.Links().PutLink(t.Context(), store.Link{Key: key, SecondMeUserID: "sm-1", Name: "Ada",
		Token: store.Token{AccessToken: "lba_at_old", RefreshToken: "lba_rt_old", Expiry: time.Now().Add(time.Hour)}})
	if err != nil {
		t.Fatal(err)
	}
	_ = old.Close()
	st := be.OpenWith(t, storetest.NewSealer(t)) // another key
	h := newHarnessOn(t, hopts{}, secondmetest.New(t), st)

	h.deliver(h.msg("u1", "c1", "", "hello?"))
	h.waitEphemeral("You haven't linked your SecondMe account yet: run /link to connect it.")
	if n := len(h.sm.RequestsTo(secondmetest.PathChatStream)); n != 0 {
		t.Errorf("SecondMe got %d chat requests for an unreadable link", n)
	}
	h.deliver(h.cmd("u1", "c1", "unlink", ""))
	h.waitEphemeral("Unlinked your SecondMe account")
	if _, err := st.Links().GetLink(t.Context(), key); !errors.Is(err, store.ErrNotFound) || errors.Is(err, store.ErrUnseal) {
		t.Errorf("after /unlink: %v, want the record gone", err)
	}
}

// A conversation whose session was issued to another SecondMe account than
// the user's current link (a turn of the old account that finished after
// a relink) is not continued: the new account's token never carries the
// old account's session id.
func TestSessionOfAnotherAccountIsNotSent(t *testing.T) {
	t.Parallel()
	h := newHarness(t, hopts{platform: edits()})
	h.link("u1", "Ada")
	link, err := h.st.Links().GetLink(t.Context(), store.UserKey{Platform: testPlatform, User: "u1"})
	if err != nil {
		t.Fatal(err)
	}
	h.sm.QueueStream(secondmetest.Script{Deltas: []string{"one"}, SessionID: "labs_sess_A"})
	h.deliver(h.msg("u1", "c1", "", "first"))
	h.waitReplies(1)
	h.settle()
	key := conversationKey(h.p.Events()[0])
	conv, err := h.st.Conversations().GetConversation(t.Context(), key)
	if err != nil || conv.SessionID != "labs_sess_A" || conv.Account != link.SecondMeUserID {
		t.Fatalf("stored conversation = %+v, %v; want labs_sess_A bound to %s", conv, err, link.SecondMeUserID)
	}
	// A turn of a previous account finished after a relink.
	conv.SessionID, conv.Account = "labs_sess_old_account", link.SecondMeUserID+"-previous"
	if err := h.st.Conversations().PutConversation(t.Context(), conv, time.Hour); err != nil {
		t.Fatal(err)
	}
	h.sm.QueueStream(secondmetest.Script{Deltas: []string{"two"}, SessionID: "labs_sess_B"})
	h.deliver(h.msg("u1", "c1", "", "second"))
	h.waitReplies(2)
	h.settle()
	calls := h.chatCallsDecoded()
	if len(calls) != 2 || calls[0].session != "" || calls[1].session != "" {
		t.Fatalf("chat calls = %+v, want the second without the old account's session", calls)
	}
	conv, err = h.st.Conversations().GetConversation(t.Context(), key)
	if err != nil || conv.SessionID != "labs_sess_B" || conv.Account != link.SecondMeUserID {
		t.Errorf("stored conversation = %+v, %v; want labs_sess_B bound to %s", conv, err, link.SecondMeUserID)
	}
	// Its own account's session is continued.
	h.sm.QueueStream(secondmetest.Script{Deltas: []string{"three"}})
	h.deliver(h.msg("u1", "c1", "", "third"))
	h.waitReplies(3)
	if calls := h.chatCallsDecoded(); len(calls) != 3 || calls[2].session != "labs_sess_B" {
		t.Errorf("third call = %+v, want session labs_sess_B", calls)
	}
}

// A turn of the old account cut off by a crash, recovered after the user
// relinked to another SecondMe account, never gives its session to the
// new account: the sweep does not restore it (nor that of an older
// version's record, which does not name its account), and the user's next
// message goes to the new account without a session.
func TestRecoveredTurnOfOldAccountAfterRelink(t *testing.T) {
	t.Parallel()
	for _, kind := range storeKinds {
		t.Run(kind, func(t *testing.T) {
			t.Parallel()
			ctx := t.Context()
			var oldSession string
			var newLink store.Link
			h := newHarness(t, hopts{store: kind, platform: edits(), beforeRun: func(h *harness) {
				old := h.link("u1", "Ada")
				oldSession = h.sm.AddSession(old.SecondMeUserID, secondme.Session{AppID: testAppID})
				rec := orphanReply(t, h, "test-1/oldboot", time.Now(), "en", "Cut off by a crash")
				rec.SessionID, rec.Account = oldSession, old.SecondMeUserID
				if err := h.st.Replies().PutReply(ctx, rec); err != nil {
					t.Fatal(err)
				}
				legacy := orphanReply(t, h, "test-1/oldboot", time.Now(), "en", "An older version's")
				legacy.Conversation.Channel, legacy.SessionID = "c2", oldSession
				if err := h.st.Replies().PutReply(ctx, legacy); err != nil {
					t.Fatal(err)
				}
				// The relink to another account, before the restart.
				h.sm.AddUser(secondmetest.User{ID: "sm-other", Name: "Bob"})
				newLink = h.linkAs("u1", "sm-other", "Bob")
			}})
			h.waitInflight(0)
			h.b.workers.Wait() // every task of the sweep is done
			for _, ch := range []string{"c1", "c2"} {
				key := store.ConversationKey{Platform: testPlatform, Channel: ch, User: "u1"}
				if c, err := h.st.Conversations().GetConversation(ctx, key); !errors.Is(err, store.ErrNotFound) {
					t.Errorf("%s: conversation = %+v, %v; want the old account's session not restored", ch, c, err)
				}
			}
			h.sm.QueueStream(secondmetest.Script{Deltas: []string{"Hi Bob"}})
			h.deliver(h.msg("u1", "c1", "", "again"))
			h.waitReplies(1)
			calls := h.chatCalls()
			if len(calls) != 1 {
				t.Fatalf("chat calls = %d, want 1", len(calls))
			}
			if s, _ := calls[0].JSON["sessionId"].(string); s != "" {
				t.Errorf("the new account's chat call carried session %q (the old account's is %s)", s, oldSession)
			}
			if got := calls[0].Header.Get("Authorization"); got != "Bearer "+newLink.Token.AccessToken {
				t.Errorf("chat call authorized with %q, want the new account's token", got)
			}
		})
	}
}
