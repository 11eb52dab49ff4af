package discordtest

import (
	"bytes"
	"encoding/json"
	"net/http"
	"testing"

	"github.com/bwmarrin/discordgo"
)

// hookCall sends a JSON request to the fake's API and returns the status and
// the decoded body (an object; a list comes back under "list").
func hookCall(t *testing.T, s *Server, method, path string, body any) (int, map[string]any) {
	t.Helper()
	var buf bytes.Buffer
	if body != nil {
		_ = json.NewEncoder(&buf).Encode(body)
	}
	req, _ := http.NewRequest(method, s.APIURL()+path, &buf)
	req.Header.Set("Authorization", "Bot "+s.Token())
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	var raw any
	_ = json.NewDecoder(resp.Body).Decode(&raw)
	out, ok := raw.(map[string]any)
	if !ok {
		out = map[string]any{"list": raw}
	}
	return resp.StatusCode, out
}

var none = map[string]any{"parse": []string{}}

func TestWebhookLifecycle(t *testing.T) {
	t.Parallel()
	s := New(t, WithGuild(Guild{ID: "g1", Channels: []Channel{
		{ID: "c1", Type: discordgo.ChannelTypeGuildText},
		{ID: "t1", ParentID: "c1", Type: discordgo.ChannelTypeGuildPublicThread},
	}}))
	if st, _ := hookCall(t, s, "POST", "/channels/c1/webhooks", map[string]any{"name": "Clyde"}); st != http.StatusBadRequest {
		t.Errorf("forbidden webhook name: %d", st)
	}
	if st, _ := hookCall(t, s, "POST", "/channels/t1/webhooks", map[string]any{"name": "x"}); st != http.StatusBadRequest {
		t.Errorf("webhook on a thread: %d", st)
	}
	if st, _ := hookCall(t, s, "POST", "/channels/"+s.DMChannel("u1")+"/webhooks", map[string]any{"name": "x"}); st != http.StatusBadRequest {
		t.Errorf("webhook in a DM: %d", st)
	}
	st, h := hookCall(t, s, "POST", "/channels/c1/webhooks", map[string]any{"name": "Bridge"})
	if st != http.StatusOK || h["token"] == "" || h["application_id"] != s.AppID() {
		t.Fatalf("create: %d %v", st, h)
	}
	base := "/webhooks/" + h["id"].(string) + "/" + h["token"].(string)
	if st, _ := hookCall(t, s, "POST", base+"?wait=true", map[string]any{"content": "x", "username": "a@b", "allowed_mentions": none}); st != http.StatusBadRequest {
		t.Errorf("username with @: %d", st)
	}
	st, m := hookCall(t, s, "POST", base+"?wait=true&thread_id=t1", map[string]any{"content": "hi", "username": "Ada · SecondMe", "allowed_mentions": none})
	if st != http.StatusOK || m["channel_id"] != "t1" || m["webhook_id"] != h["id"] {
		t.Fatalf("execute in thread: %d %v", st, m)
	}
	mid := m["id"].(string)
	if st, _ := hookCall(t, s, "PATCH", base+"/messages/"+mid, map[string]any{"content": "no thread id", "allowed_mentions": none}); st != http.StatusNotFound {
		t.Errorf("edit of a thread message without thread_id: %d", st)
	}
	if st, _ := hookCall(t, s, "PATCH", base+"/messages/"+mid+"?thread_id=t1", map[string]any{"content": "edited", "allowed_mentions": none}); st != http.StatusOK {
		t.Errorf("edit with thread_id: %d", st)
	}
	if st, _ := hookCall(t, s, "POST", "/webhooks/"+h["id"].(string)+"/wrong?wait=true", map[string]any{"content": "x"}); st != http.StatusUnauthorized {
		t.Errorf("wrong token: %d", st)
	}
	s.DenyWebhooks("c1", true)
	if st, _ := hookCall(t, s, "GET", "/channels/c1/webhooks", nil); st != http.StatusForbidden {
		t.Errorf("list without permission: %d", st)
	}
	s.DenyWebhooks("c1", false)
	if !s.DeleteWebhook(h["id"].(string)) {
		t.Fatal("delete failed")
	}
	if st, body := hookCall(t, s, "POST", base+"?wait=true", map[string]any{"content": "x", "allowed_mentions": none}); st != http.StatusNotFound || body["code"] != float64(codeUnknownWebhook) {
		t.Errorf("execute after delete: %d %v", st, body)
	}
	if st, list := hookCall(t, s, "GET", "/channels/c1/webhooks", nil); st != http.StatusOK || len(list["list"].([]any)) != 0 {
		t.Errorf("list after delete: %d %v", st, list)
	}
	if got, _ := s.Message(mid); got.Content != "edited" || got.Username != "Ada · SecondMe" {
		t.Errorf("message = %+v", got)
	}
}

// TestGuildWebhookListing: GET /guilds/{id}/webhooks lists the live
// webhooks of every channel of the guild (not another guild's, not deleted
// ones), answers 404 Unknown Guild for a guild the fake does not have and
// 403 once DenyGuildWebhooks is set.
func TestGuildWebhookListing(t *testing.T) {
	t.Parallel()
	s := New(t,
		WithGuild(Guild{ID: "g1", Channels: []Channel{{ID: "c1", Type: discordgo.ChannelTypeGuildText}, {ID: "c2", Type: discordgo.ChannelTypeGuildText}}}),
		WithGuild(Guild{ID: "g2", Channels: []Channel{{ID: "c3", Type: discordgo.ChannelTypeGuildText}}}),
	)
	a := s.AddWebhook("c1", "a", s.AppID())
	b := s.AddWebhook("c2", "b", "someone")
	s.AddWebhook("c3", "c", s.AppID())
	gone := s.AddWebhook("c2", "d", s.AppID())
	s.DeleteWebhook(gone.ID)
	st, body := hookCall(t, s, "GET", "/guilds/g1/webhooks", nil)
	list, _ := body["list"].([]any)
	if st != http.StatusOK || len(list) != 2 {
		t.Fatalf("guild listing: %d %v, want the two live webhooks of g1", st, body)
	}
	for i, want := range []Webhook{a, b} {
		h, _ := list[i].(map[string]any)
		if h["id"] != want.ID || h["channel_id"] != want.ChannelID || h["token"] != want.Token || h["guild_id"] != "g1" {
			t.Errorf("webhook %d = %v, want %+v", i, h, want)
		}
	}
	if st, _ := hookCall(t, s, "GET", "/guilds/g9/webhooks", nil); st != http.StatusNotFound {
		t.Errorf("unknown guild: %d, want 404", st)
	}
	s.DenyGuildWebhooks("g1", true)
	if st, _ := hookCall(t, s, "GET", "/guilds/g1/webhooks", nil); st != http.StatusForbidden {
		t.Errorf("denied guild listing: %d, want 403", st)
	}
	if st, _ := hookCall(t, s, "GET", "/channels/c1/webhooks", nil); st != http.StatusOK {
		t.Errorf("a channel's listing with the guild's denied: %d, want 200", st)
	}
}
