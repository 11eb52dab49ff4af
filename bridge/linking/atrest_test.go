package linking

import (
	"bytes"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/secondme-bridge/secondme-bridge/secondme/secondmetest"
	"github.com/secondme-bridge/secondme-bridge/store"
	"github.com/secondme-bridge/secondme-bridge/store/storetest"
)

// Through the real flow: a linked user, a link pending (its id, and a
// continued one's OAuth state), an interaction in flight; with them a
// message waiting in the inbox with its handles and a Slack workspace
// install. No link id, OAuth state, OAuth or bot token or interaction
// handle appears anywhere in the store's bytes, in the clear or in base64.
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
		// A message waiting in the inbox (its item holds the handles, as
		// the bridge's does) and a Slack workspace installed.
		item := `{"platform":"slack","target":{"Interaction":"` + handle + `","ResponseURL":"` + respURL + `"},"text":"hi"}`
		adm, err := h.store.Turns().Enter(ctx, []string{"rest-ev"}, time.Minute, "rest", store.Limit{Rate: 1, Burst: 10},
			store.InboxEntry{ID: "rest-entry", Owner: "o", Conversation: store.ConversationKey{Platform: u.Platform, Channel: "c", User: u.User}, Item: []byte(item)}, 5)
		if err != nil || !adm.Claimed || !adm.Allowed || adm.Full {
			t.Fatalf("enter = %+v, %v", adm, err)
		}
		inst := store.Install{Platform: "slack", Workspace: "TREST", BotUserID: "UB",
			Token: store.Token{AccessToken: "xoxb-" + strings.Repeat("B", 30), RefreshToken: "xoxe-1-" + strings.Repeat("E", 30)}}
		if err := h.store.Installs().PutInstall(ctx, inst); err != nil {
			t.Fatal(err)
		}

		dump := h.data.Dump(t)
		if !bytes.Contains(dump, []byte(linked.SecondMeUserID)) || len(dump) == 0 {
			t.Fatal("the dump lacks the cleartext SecondMe user id: it does not show the stored data")
		}
		for name, secret := range map[string]string{
			"link id": linkID, "oauth state": state, "access token": linked.Token.AccessToken,
			"refresh token": linked.Token.RefreshToken, "interaction handle": handle[len("i1:123:456:1700000000:1:"):],
			"response url":        respURL[len("https://hooks.slack.com/"):],
			"install's bot token": inst.Token.AccessToken, "install's refresh token": inst.Token.RefreshToken,
		} {
			if secret == "" {
				t.Fatalf("%s is empty", name)
			}
			if bytes.Contains(dump, []byte(secret)) || bytes.Contains(dump, []byte(url.QueryEscape(secret))) {
				t.Errorf("the store holds the %s in the clear", name)
			}
			for _, form := range storetest.Base64Forms(secret) {
				if bytes.Contains(dump, []byte(form)) {
					t.Errorf("the store holds the %s in base64 (not sealed)", name)
				}
			}
		}
		// The pending link still works.
		h.fake.NextAuthorize(secondmetest.AuthorizeDecision{UserID: "91"})
		expectContains(t, h.browse(pendingURL), http.StatusOK, "is now linked")
	})
}
