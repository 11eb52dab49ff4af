package linking

import (
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/secondme-bridge/secondme-bridge/secondme/secondmetest"
	"github.com/secondme-bridge/secondme-bridge/store"
	"github.com/secondme-bridge/secondme-bridge/store/storetest"
)

// Linking a different SecondMe account drops the conversations (session
// ids) of the previous one; relinking the same account keeps them.
func TestRelinkToAnotherAccountStartsClean(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, b backend) {
		h := newHarness(t, b, harnessOpts{})
		ctx := t.Context()
		u := user("rhea")
		conv := store.ConversationKey{Platform: u.Platform, Channel: "c1", User: u.User}
		put := func() {
			err := h.store.Conversations().PutConversation(ctx, store.Conversation{Key: conv, SessionID: "labs_sess_old"}, time.Hour)
			if err != nil {
				t.Fatal(err)
			}
		}
		h.linkAs(u, "61")
		put()
		h.linkAs(u, "61") // the same account
		if c, err := h.store.Conversations().GetConversation(ctx, conv); err != nil || c.SessionID != "labs_sess_old" {
			t.Errorf("relinking the same account lost the conversation: %+v, %v", c, err)
		}
		h.linkAs(u, "62") // another account
		if _, err := h.store.Conversations().GetConversation(ctx, conv); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("the previous account's session survived a relink to another account: %v", err)
		}
	})
}

// A link that no configured key opens is "not linked": Token says so,
// /link replaces it (dropping its conversations, whose account is
// unknown) and /unlink removes it.
func TestUnreadableLinkIsNotLinked(t *testing.T) {
	t.Parallel()
	var logs syncBuffer
	be := storetest.NewBackend(t, storetest.Bolt, storetest.Options{Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	u := user("uma")
	conv := store.ConversationKey{Platform: u.Platform, Channel: "c1", User: u.User}
	old := be.Open(t)
	ctx := t.Context()
	if err := old.Links().PutLink(ctx, store.Link{Key: u, SecondMeUserID: "70", Token: store.Token{AccessToken: "lba_at_x", RefreshToken: "lba_rt_x"}}); err != nil {
		t.Fatal(err)
	}
	if err := old.Conversations().PutConversation(ctx, store.Conversation{Key: conv, SessionID: "labs_sess_70"}, time.Hour); err != nil {
		t.Fatal(err)
	}
	_ = old.Close()

	// The key changed, without previous_encryption_keys.
	st := be.OpenWith(t, storetest.NewSealer(t))
	b := backend{name: "bolt", open: func(*testing.T) (func() store.Store, *storetest.Backend) {
		return func() store.Store { return st }, be
	}}
	h := newHarness(t, b, harnessOpts{})

	for range 3 {
		if _, err := h.linker.Token(ctx, u); !errors.Is(err, ErrNotLinked) {
			t.Fatalf("Token of an unreadable link: %v, want ErrNotLinked", err)
		}
	}
	if n := countLines(logs.String(), "cannot be opened with any configured encryption key"); n != 1 {
		t.Errorf("%d warnings for one unreadable link read three times, want 1:\n%s", n, logs.String())
	}
	// /link overwrites it and finishes normally.
	h.fake.NextAuthorize(secondmetest.AuthorizeDecision{UserID: "71"})
	p := h.browse(h.startLink(u))
	expectContains(t, p, 200, "is now linked")
	if l, err := h.linker.Token(ctx, u); err != nil || l.SecondMeUserID != "71" {
		t.Errorf("after /link: %+v, %v", l, err)
	}
	if _, err := st.Conversations().GetConversation(ctx, conv); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("the unreadable link's conversations survived a new link: %v", err)
	}

}

// /unlink removes a link that no configured key opens.
func TestUnlinkRemovesAnUnreadableLink(t *testing.T) {
	t.Parallel()
	be := storetest.NewBackend(t, storetest.Bolt, storetest.Options{})
	u := user("ursula")
	old := be.Open(t)
	ctx := t.Context()
	if err := old.Links().PutLink(ctx, store.Link{Key: u, SecondMeUserID: "80", Token: store.Token{AccessToken: "lba_at_y"}}); err != nil {
		t.Fatal(err)
	}
	_ = old.Close()
	st := be.OpenWith(t, storetest.NewSealer(t))
	l, err := New(LinkerConfig{PublicURL: "https://bridge.example", Store: st, SecondMe: secondmetest.NewServer(t, secondmetest.Options{}).Client()})
	if err != nil {
		t.Fatal(err)
	}
	removed, err := l.Unlink(ctx, u)
	if err != nil || removed.Key != u {
		t.Fatalf("Unlink of an unreadable link = %+v, %v; want it removed", removed, err)
	}
	if _, err := st.Links().GetLink(ctx, u); !errors.Is(err, store.ErrNotFound) || errors.Is(err, store.ErrUnseal) {
		t.Errorf("after unlink: %v, want a plain not found", err)
	}
	if _, err := l.Unlink(ctx, u); !errors.Is(err, ErrNotLinked) {
		t.Errorf("second unlink: %v, want ErrNotLinked", err)
	}
}

func countLines(s, substr string) int {
	return strings.Count(s, substr)
}
