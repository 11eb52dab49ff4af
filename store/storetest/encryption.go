package storetest

import (
	"bytes"
	"crypto/rand"
	"testing"
	"time"

	"github.com/secondme-bridge/secondme-bridge/store"
)

// RunEncryptionTest stores links with distinctive tokens in s (through
// PutLink and UpdateLink) and checks that raw, which must return every byte
// the backend holds (a bolt file, a dump of all Redis values under the
// store's prefix), contains none of them. To show that raw really sees the
// data, it also checks that a field stored in the clear is found.
func RunEncryptionTest(t *testing.T, s store.Store, raw func(t testing.TB) []byte) {
	t.Helper()
	ctx := t.Context()
	secret := func(kind string) string { return "tok-" + kind + "-" + rand.Text() }
	k := store.UserKey{Platform: "slack", Workspace: "T1", User: "U1"}
	l := sampleLink(k, "enc")
	l.SecondMeUserID = "cleartext-marker-" + rand.Text()
	l.Token.AccessToken, l.Token.RefreshToken = secret("access"), secret("refresh")
	mustOK(t, s.Links().PutLink(ctx, l), "put link")
	newAccess, newRefresh := secret("access"), secret("refresh")
	_, err := s.Links().UpdateLink(ctx, k, func(l store.Link) (store.Link, error) {
		l.Token.AccessToken, l.Token.RefreshToken = newAccess, newRefresh
		return l, nil
	})
	mustOK(t, err, "update link")
	other := sampleLink(store.UserKey{Platform: "discord", User: "9"}, "enc2")
	other.Token.AccessToken = secret("access")
	mustOK(t, s.Links().PutLink(ctx, other), "put second link")
	mustOK(t, s.Conversations().PutConversation(ctx, store.Conversation{
		Key: store.ConversationKey{Platform: "slack", Workspace: "T1", Channel: "C", User: "U1"}, SessionID: "s",
	}, time.Minute), "put conversation")

	dump := raw(t)
	if !bytes.Contains(dump, []byte(l.SecondMeUserID)) {
		t.Fatalf("raw dump (%d bytes) lacks the cleartext marker: it does not show the stored data", len(dump))
	}
	for _, tok := range []string{l.Token.AccessToken, l.Token.RefreshToken, newAccess, newRefresh, other.Token.AccessToken} {
		if bytes.Contains(dump, []byte(tok)) {
			t.Errorf("raw store bytes contain a plaintext token (%.10s…)", tok)
		}
	}
	got, err := s.Links().GetLink(ctx, k)
	mustOK(t, err, "get link")
	if got.Token.AccessToken != newAccess || got.Token.RefreshToken != newRefresh {
		t.Fatal("tokens do not round-trip through the store")
	}
}
