package bridge

import (
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/secondme-bridge/secondme-bridge/secondme/secondmetest"
	"github.com/secondme-bridge/secondme-bridge/store"
	"github.com/secondme-bridge/secondme-bridge/store/bolt"
)

// A link stored under a key the bridge no longer has is no link: a chat
// message gets the invitation to /link (not "something went wrong"), and
// /unlink removes it.
func TestUnreadableLinkGetsTheInvitation(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "bridge.db")
	old, err := bolt.Open(path, testSealer(t), bolt.Options{})
	if err != nil {
		t.Fatal(err)
	}
	key := store.UserKey{Platform: testPlatform, User: "u1"}
	err = old.Links().PutLink(t.Context(), store.Link{Key: key, SecondMeUserID: "sm-1", Name: "Ada",
		Token: store.Token{AccessToken: "lba_at_old", RefreshToken: "lba_rt_old", Expiry: time.Now().Add(time.Hour)}})
	if err != nil {
		t.Fatal(err)
	}
	_ = old.Close()
	st, err := bolt.Open(path, testSealer(t), bolt.Options{}) // another key
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
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
