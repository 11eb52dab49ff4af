package main

import (
	"encoding/json"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/secondme-bridge/secondme-bridge/platforms/slack/slacktest"
	"github.com/secondme-bridge/secondme-bridge/secondme/secondmetest"
)

// TestE2ESlackDuplicateDelivery: a message delivered as app_mention and as
// message, redelivered by Slack (same event_id, retry_attempt 1), and
// delivered again under a new event id is answered once.
func TestE2ESlackDuplicateDelivery(t *testing.T) {
	t.Parallel()
	e := startE2E(t, e2eOptions{slack: true})
	linkSlackUser(t, e, "U1", "42", "Ada")
	ctx := slackCtx(t)

	hold := make(chan struct{})
	e.sm.QueueStream(secondmetest.Script{Deltas: []string{"Only ", "once."}, HoldAfter: 1, Hold: hold})
	p, err := e.sl.Mention(ctx, "U1", slackChannel, "", "answer me once")
	if err != nil {
		t.Fatalf("mention: %v", err)
	}
	if len(p.Events) != 2 || p.Events[0].Type != "app_mention" || p.Events[1].Type != "message" {
		t.Fatalf("mention delivered %+v, want the app_mention and message twins", p.Events)
	}
	// While the first reply is still streaming: Slack's retries of both
	// twins, and the mention again under a fresh event id.
	for i := range p.Events {
		if _, err := e.sl.Redeliver(ctx, p, i, 1); err != nil {
			t.Fatalf("redeliver %d: %v", i, err)
		}
	}
	if _, err := e.sl.SendEvent(ctx, p.Events[0]); err != nil {
		t.Fatalf("send again: %v", err)
	}
	close(hold)
	waitSlackReply(t, e, slackChannel, p.TS, "Only once.")

	// A follow-up in the thread goes through the same per-user delivery
	// order and the same conversation queue as any duplicate would: once it
	// is answered, a duplicate would have been answered already.
	e.sm.QueueStream(secondmetest.Script{Deltas: []string{"Follow-up ", "answer."}})
	if _, err := e.sl.Say(ctx, "U1", slackChannel, p.TS, "one more thing"); err != nil {
		t.Fatalf("follow-up: %v", err)
	}
	waitSlackMessage(t, e, slackChannel, p.TS, 2, "Follow-up answer.")
	if messages, _ := chatMessages(e); !slices.Equal(messages, []string{"answer me once", "one more thing"}) {
		t.Errorf("chat messages = %q, want the mention once and the follow-up", messages)
	}
	// A reply starts with chat.startStream, or with chat.postMessage when it
	// completed before its first update.
	if n := len(e.sl.Calls("chat.startStream")) + len(e.sl.Calls("chat.postMessage")); n != 2 {
		t.Errorf("%d replies started, want 2", n)
	}
	e.sl.AssertNoPings(t)
	e.assertNoSecrets(t)
}

// TestE2ESlackHTTPMode: in HTTP mode the url_verification challenge is
// answered, correctly signed deliveries (link, mention) work, a retried
// delivery is answered once, and requests with a bad signature or a stale
// timestamp get 401 and are not processed.
func TestE2ESlackHTTPMode(t *testing.T) {
	t.Parallel()
	e := startE2E(t, e2eOptions{slack: true, slackMode: "http"})
	ctx := slackCtx(t)
	client := &http.Client{Timeout: 10 * time.Second}
	post := func(path, contentType string, body []byte, secret string, at time.Time, edit func(*http.Request)) (int, []byte) {
		t.Helper()
		req, err := slacktest.NewSignedRequest(ctx, e.base+path, contentType, body, secret, at)
		if err != nil {
			t.Fatal(err)
		}
		if edit != nil {
			edit(req)
		}
		resp, err := client.Do(req)
		if err != nil {
			t.Fatalf("POST %s: %v", path, err)
		}
		defer func() { _ = resp.Body.Close() }()
		answer, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, answer
	}

	code, answer := post("/slack/events", "application/json",
		[]byte(`{"token":"unused","challenge":"chal-3eZbrw1aBm2","type":"url_verification"}`), slackSigningSecret, time.Now(), nil)
	var challenge struct {
		Challenge string `json:"challenge"`
	}
	if code != http.StatusOK || json.Unmarshal(answer, &challenge) != nil || challenge.Challenge != "chal-3eZbrw1aBm2" {
		t.Errorf("url_verification = %d %s", code, answer)
	}

	linkSlackUser(t, e, "U1", "42", "Ada")

	// Forged and replayed deliveries: a mention, a slash command, a shortcut.
	forgedTS := e.sl.NewTS()
	mention := slacktest.EventCallback(e.sl.TeamID(), e.sl.Options().AppID, "EvForged1", slacktest.InnerEvent{
		Type: "app_mention", User: "U1", Text: "<@" + e.sl.BotUserID() + "> forged", Channel: slackChannel,
		TS: forgedTS, EventTS: forgedTS, Team: e.sl.TeamID(),
	})
	forgedURLs := []string{e.sl.NewResponseURL(), e.sl.NewResponseURL()}
	_, _, ask, _ := slacktest.HTTPBody("slash_commands", mustJSON(t, map[string]string{
		"team_id": e.sl.TeamID(), "channel_id": slackChannel, "user_id": "U1", "command": "/secondme",
		"text": "ask forged", "response_url": forgedURLs[0], "trigger_id": "trig-forged",
	}))
	_, _, save, _ := slacktest.HTTPBody("interactive", e.sl.ShortcutPayload(slacktest.Shortcut{
		User: "U1", CallbackID: "save_to_secondme", Channel: slackChannel, MessageTS: forgedTS, MessageText: "forged note",
		ResponseURL: forgedURLs[1], TriggerID: "trig-forged-2",
	}))
	form := "application/x-www-form-urlencoded"
	stale := time.Now().Add(-6 * time.Minute)
	for _, c := range []struct {
		name        string
		path, ctype string
		body        []byte
		secret      string
		at          time.Time
		edit        func(*http.Request)
	}{
		{"event bad signature", "/slack/events", "application/json", mention, "wrong-secret", time.Now(), nil},
		{"event stale timestamp", "/slack/events", "application/json", mention, slackSigningSecret, stale, nil},
		{"event future timestamp", "/slack/events", "application/json", mention, slackSigningSecret, time.Now().Add(6 * time.Minute), nil},
		{"event no signature", "/slack/events", "application/json", mention, slackSigningSecret, time.Now(),
			func(r *http.Request) { r.Header.Del("X-Slack-Signature") }},
		{"event tampered body", "/slack/events", "application/json", mention, slackSigningSecret, time.Now(),
			func(r *http.Request) {
				r.Body = io.NopCloser(strings.NewReader(strings.Replace(string(mention), "forged", "FORGED", 1)))
			}},
		{"command bad signature", "/slack/commands", form, ask, "wrong-secret", time.Now(), nil},
		{"command stale timestamp", "/slack/commands", form, ask, slackSigningSecret, stale, nil},
		{"shortcut bad signature", "/slack/interactivity", form, save, "wrong-secret", time.Now(), nil},
		{"shortcut stale timestamp", "/slack/interactivity", form, save, slackSigningSecret, stale, nil},
	} {
		if code, answer := post(c.path, c.ctype, c.body, c.secret, c.at, c.edit); code != http.StatusUnauthorized {
			t.Errorf("%s: status %d %s, want 401", c.name, code, answer)
		}
	}

	deltas := []string{"Answered ", "over ", "HTTP."}
	e.sm.QueueStream(secondmetest.Script{Deltas: deltas, Delay: 40 * time.Millisecond})
	p, err := e.sl.Mention(ctx, "U1", slackChannel, "", "hello over http")
	if err != nil {
		t.Fatalf("mention: %v", err)
	}
	for i, a := range p.Acks {
		if a.HTTPStatus != http.StatusOK {
			t.Errorf("delivery %d answered %d, want 200", i, a.HTTPStatus)
		}
	}
	if a, err := e.sl.Redeliver(ctx, p, 0, 1); err != nil || a.HTTPStatus != http.StatusOK {
		t.Errorf("retry answered %d, %v; want 200", a.HTTPStatus, err)
	}
	waitSlackReply(t, e, slackChannel, p.TS, strings.Join(deltas, ""))
	e.sm.QueueStream(secondmetest.Script{Deltas: []string{"Follow-up."}})
	if _, err := e.sl.Say(ctx, "U1", slackChannel, p.TS, "and then?"); err != nil {
		t.Fatalf("follow-up: %v", err)
	}
	waitSlackMessage(t, e, slackChannel, p.TS, 2, "Follow-up.")

	if messages, _ := chatMessages(e); !slices.Equal(messages, []string{"hello over http", "and then?"}) {
		t.Errorf("chat messages = %q: a rejected or retried delivery was processed", messages)
	}
	if msgs := e.sl.BotReplies(slackChannel, forgedTS); len(msgs) != 0 {
		t.Errorf("bot answered the forged mention: %q", displays(msgs))
	}
	if notes := e.sm.Notes("42"); len(notes) != 0 {
		t.Errorf("forged shortcut saved notes: %+v", notes)
	}
	for _, u := range forgedURLs {
		if posts := e.sl.ResponsePosts(u); len(posts) != 0 {
			t.Errorf("bot answered a forged command or shortcut: %q", responseTexts(posts))
		}
	}
	if n := len(e.sl.Calls("chat.postEphemeral")); n != 0 {
		t.Errorf("%d chat.postEphemeral calls, want none", n)
	}
	e.sl.AssertNoPings(t)
	e.assertNoSecrets(t)
}

func mustJSON(t *testing.T, v any) json.RawMessage {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
