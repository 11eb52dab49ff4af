package linking

import (
	"bytes"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/secondme-bridge/secondme-bridge/secondme/secondmetest"
	"github.com/secondme-bridge/secondme-bridge/store"
)

// Through the real flow: a linked user, a link pending (its id, and a
// continued one's OAuth state), an interaction in flight. No link id, OAuth
// state, OAuth token or interaction handle appears anywhere in the store's
// bytes.
func TestNothingSecretAtRest(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, b backend) {
		h := newHarness(t, b, harnessOpts{})
		ctx := t.Context()
		u := user("rest-user")
		h.linkAs(u, "90")
		linked, err := h.rawLink(u)
		if err != nil {
			t.Fatal(err)
		}
		handle := "i1:123:456:1700000000:1:" + strings.Repeat("Z", 40) + "interactiontoken"
		respURL := "https://hooks.slack.com/commands/T1/123/" + strings.Repeat("r", 24)
		pendingURL, err := h.linker.StartLink(ctx, store.PendingLink{User: user("pending"), Interaction: handle})
		if err != nil {
			t.Fatal(err)
		}
		linkID, _, _ := strings.Cut(strings.TrimPrefix(pendingURL, h.srv.URL+"/link/"), "?")
		continued := h.stepPost(h.continueForm(h.startLink(user("continued"))))
		if continued.status != http.StatusSeeOther {
			t.Fatalf("continue: %d", continued.status)
		}
		state := mustURL(t, continued.header.Get("Location")).Query().Get("state")
		if err := h.store.Replies().PutReply(ctx, store.InflightReply{
			ID: "r1", Owner: "o", Conversation: store.ConversationKey{Platform: u.Platform, Channel: "c", User: u.User},
			Refs: []store.ReplyRef{{Channel: "c", ID: "m1", Extra: "o|" + handle}, {Channel: "c", ID: "m2", Extra: "r|" + respURL}},
		}); err != nil {
			t.Fatal(err)
		}

		dump := h.data.Dump(t)
		if !bytes.Contains(dump, []byte(linked.SecondMeUserID)) || len(dump) == 0 {
			t.Fatal("the dump lacks the cleartext SecondMe user id: it does not show the stored data")
		}
		for name, secret := range map[string]string{
			"link id": linkID, "oauth state": state, "access token": linked.Token.AccessToken,
			"refresh token": linked.Token.RefreshToken, "interaction handle": handle[len("i1:123:456:1700000000:1:"):],
			"response url": respURL[len("https://hooks.slack.com/"):],
		} {
			if secret == "" {
				t.Fatalf("%s is empty", name)
			}
			if bytes.Contains(dump, []byte(secret)) || bytes.Contains(dump, []byte(url.QueryEscape(secret))) {
				t.Errorf("the store holds the %s in the clear", name)
			}
		}
		// The pending link still works.
		h.fake.NextAuthorize(secondmetest.AuthorizeDecision{UserID: "91"})
		expectContains(t, h.browse(pendingURL), http.StatusOK, "is now linked")
	})
}
