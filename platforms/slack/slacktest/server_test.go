package slacktest_test

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	slackapi "github.com/slack-go/slack"

	"github.com/secondme-bridge/secondme-bridge/platforms/slack/slacktest"
)

func client(s *slacktest.Server, token string) *slackapi.Client {
	return slackapi.New(token, slackapi.OptionAPIURL(s.APIURL()), slackapi.OptionHTTPClient(&http.Client{Timeout: 5 * time.Second}))
}

func TestWebAPIState(t *testing.T) {
	t.Parallel()
	s := slacktest.NewServer(t, slacktest.Options{})
	api := client(s, s.BotToken())
	ctx := t.Context()

	ch, ts, err := api.PostMessageContext(ctx, "C1", slackapi.MsgOptionText("hi <!here>", false), slackapi.MsgOptionTS("1.1"))
	if err != nil || ch != "C1" || ts == "" {
		t.Fatalf("PostMessage = %q %q %v", ch, ts, err)
	}
	if _, _, _, err := api.UpdateMessageContext(ctx, "C1", ts, slackapi.MsgOptionText("fixed", false)); err != nil {
		t.Fatalf("UpdateMessage: %v", err)
	}
	m, ok := s.Message("C1", ts)
	if !ok || m.Text != "fixed" || len(m.Edits) != 1 || m.ThreadTS != "1.1" || !m.Bot {
		t.Errorf("message = %+v", m)
	}
	if got := s.ReplyText("C1", "1.1"); got != "fixed" {
		t.Errorf("ReplyText = %q", got)
	}
	if p := s.Pings(); len(p) != 1 || p[0] != "hi <!here>" {
		t.Errorf("Pings = %q, want the original post", p)
	}
	// <!group> is the legacy <!channel>.
	if _, _, err := api.PostMessageContext(ctx, "C2", slackapi.MsgOptionText("legacy <!GROUP>", false)); err != nil {
		t.Fatalf("PostMessage: %v", err)
	}
	if p := s.Pings(); len(p) != 2 || p[1] != "legacy <!GROUP>" {
		t.Errorf("Pings = %q, want the <!GROUP> post too", p)
	}
	if _, _, err := api.PostMessageContext(ctx, "C1", slackapi.MsgOptionText(strings.Repeat("x", 4001), false)); err == nil || err.Error() != "msg_too_long" {
		t.Errorf("a 4,001-character message = %v, want msg_too_long", err)
	}
	if _, err := client(s, "xoxb-wrong").AuthTestContext(ctx); err == nil || err.Error() != "invalid_auth" {
		t.Errorf("wrong token = %v", err)
	}
	u, err := api.GetUserInfoContext(ctx, "U42")
	if err != nil || u.Locale != "en-US" {
		t.Errorf("users.info = %+v, %v", u, err)
	}
	s.AddUser(slacktest.User{ID: "U43", Name: "zh", Locale: "zh-CN"})
	if u, err = api.GetUserInfoContext(ctx, "U43"); err != nil || u.Locale != "zh-CN" || u.Name != "zh" {
		t.Errorf("users.info(U43) = %+v, %v", u, err)
	}
}

func TestInjectedFailures(t *testing.T) {
	t.Parallel()
	s := slacktest.NewServer(t, slacktest.Options{})
	api := client(s, s.BotToken())
	ctx := t.Context()

	s.RateLimit("chat.postMessage", 1, 1500*time.Millisecond)
	_, _, err := api.PostMessageContext(ctx, "C1", slackapi.MsgOptionText("x", false))
	if rl, ok := errors.AsType[*slackapi.RateLimitedError](err); !ok || rl.RetryAfter != 2*time.Second {
		t.Errorf("rate limited post = %v, want Retry-After 2s", err)
	}
	if _, _, err := api.PostMessageContext(ctx, "C1", slackapi.MsgOptionText("x", false)); err != nil {
		t.Errorf("post after the rate limit: %v", err)
	}
	if c := s.Calls("chat.postMessage"); len(c) != 2 || c[0].Status != http.StatusTooManyRequests || c[1].Status != http.StatusOK {
		t.Errorf("recorded calls = %+v", c)
	}

	s.FailMethodN("chat.update", "cant_update_message", 2)
	for i, want := range []string{"cant_update_message", "cant_update_message", "message_not_found"} {
		if _, _, _, err := api.UpdateMessageContext(ctx, "C1", "9.9", slackapi.MsgOptionText("x", false)); err == nil || err.Error() != want {
			t.Errorf("update %d = %v, want %s", i, err, want)
		}
	}
	s.FailMethod("auth.test", "account_inactive")
	if _, err := api.AuthTestContext(ctx); err == nil || err.Error() != "account_inactive" {
		t.Errorf("auth.test = %v", err)
	}
	s.ClearFailures()
	if _, err := api.AuthTestContext(ctx); err != nil {
		t.Errorf("auth.test after ClearFailures: %v", err)
	}
}

func TestStreamRules(t *testing.T) {
	t.Parallel()
	s := slacktest.NewServer(t, slacktest.Options{})
	api := client(s, s.BotToken())
	ctx := t.Context()

	if _, _, err := api.StartStreamContext(ctx, "C1", slackapi.MsgOptionTS("1.1")); err == nil || err.Error() != "missing_recipient_team_id" {
		t.Errorf("channel stream without recipients = %v", err)
	}
	if _, _, err := api.StartStreamContext(ctx, "D1"); err == nil || err.Error() != "invalid_arguments" {
		t.Errorf("stream without thread = %v", err)
	}
	ch, ts, err := api.StartStreamContext(ctx, "D1", slackapi.MsgOptionTS("1.1"), slackapi.MsgOptionMarkdownText("a"))
	if err != nil {
		t.Fatalf("DM stream: %v", err)
	}
	if _, _, err := api.AppendStreamContext(ctx, ch, ts, slackapi.MsgOptionMarkdownText("b")); err != nil {
		t.Fatalf("append: %v", err)
	}
	if _, _, err := api.StopStreamContext(ctx, ch, ts); err != nil {
		t.Fatalf("stop: %v", err)
	}
	if _, _, err := api.AppendStreamContext(ctx, ch, ts, slackapi.MsgOptionMarkdownText("c")); err == nil || err.Error() != "message_not_in_streaming_state" {
		t.Errorf("append after stop = %v", err)
	}
	s.WaitReplyText(t, "D1", "1.1", "ab", time.Second)
	s.SetNativeStreaming("T1", false)
	if _, _, err := api.StartStreamContext(ctx, "D1", slackapi.MsgOptionTS("1.1")); err == nil || err.Error() != "feature_not_enabled" {
		t.Errorf("stream with native streaming off = %v", err)
	}
}

func TestResponseURLs(t *testing.T) {
	t.Parallel()
	s := slacktest.NewServer(t, slacktest.Options{})
	u := s.NewResponseURL()
	postJSON := func(url, body string) int {
		req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, url, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatalf("post: %v", err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	for i := range 5 {
		if code := postJSON(u, `{"text":"x","response_type":"ephemeral"}`); code != http.StatusOK {
			t.Fatalf("use %d = %d", i+1, code)
		}
	}
	if code := postJSON(u, `{"text":"x"}`); code != http.StatusNotFound {
		t.Errorf("sixth use = %d, want 404", code)
	}
	if code := postJSON(s.URL()+"/response/unknown", `{"text":"x"}`); code != http.StatusNotFound {
		t.Errorf("unknown response_url = %d, want 404", code)
	}
	if p := s.ResponsePosts(u); len(p) != 5 || p[0].ResponseType != "ephemeral" {
		t.Errorf("posts = %+v", p)
	}
}

func TestSignMatchesSlackVerifier(t *testing.T) {
	t.Parallel()
	body := []byte(`{"type":"event_callback"}`)
	req, err := slacktest.NewSignedRequest(t.Context(), "http://127.0.0.1/slack/events", "application/json", body, "s3cr3t", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	sv, err := slackapi.NewSecretsVerifier(req.Header, "s3cr3t")
	if err != nil {
		t.Fatalf("verifier: %v", err)
	}
	_, _ = sv.Write(body)
	if err := sv.Ensure(); err != nil {
		t.Errorf("slack-go rejects slacktest's signature: %v", err)
	}
	sv, _ = slackapi.NewSecretsVerifier(req.Header, "other")
	_, _ = sv.Write(body)
	if sv.Ensure() == nil {
		t.Error("a signature verified under the wrong secret")
	}
	path, ctype, form, err := slacktest.HTTPBody("interactive", []byte(`{"type":"message_action"}`))
	if err != nil || path != "/slack/interactivity" || ctype != "application/x-www-form-urlencoded" || !bytes.HasPrefix(form, []byte("payload=")) {
		t.Errorf("HTTPBody(interactive) = %q %q %q %v", path, ctype, form, err)
	}
	if _, _, _, err := slacktest.HTTPBody("bogus", nil); err == nil {
		t.Error("HTTPBody accepted an unknown type")
	}
}

func TestSendEnvelopeWithoutClient(t *testing.T) {
	t.Parallel()
	s := slacktest.NewServer(t, slacktest.Options{})
	ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
	defer cancel()
	if _, err := s.SendEvent(ctx, slacktest.InnerEvent{Type: "message", Channel: "D1", TS: "1.1"}); err == nil {
		t.Error("SendEvent without a connected client = nil error")
	}
	if s.Connections() != 0 || s.LiveConnections() != 0 {
		t.Errorf("connections = %d/%d", s.Connections(), s.LiveConnections())
	}
}

func TestResponseURLInjectedFailures(t *testing.T) {
	t.Parallel()
	s := slacktest.NewServer(t, slacktest.Options{})
	u := s.NewResponseURL()
	post := func() (int, string, string) {
		req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, u, strings.NewReader(`{"text":"x"}`))
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatalf("post: %v", err)
		}
		defer resp.Body.Close()
		var body bytes.Buffer
		_, _ = body.ReadFrom(resp.Body)
		return resp.StatusCode, resp.Header.Get("Retry-After"), body.String()
	}
	s.RateLimit("response_url", 1, 1500*time.Millisecond)
	s.FailMethodN("response_url", "invalid_blocks", 1)
	// The rate limit comes first and does not use up the failure.
	if code, retry, body := post(); code != http.StatusTooManyRequests || retry != "2" || !strings.Contains(body, `"ratelimited"`) {
		t.Errorf("rate limited post = %d, Retry-After %q, %s; want 429, 2, ratelimited", code, retry, body)
	}
	if code, _, body := post(); code != http.StatusNotFound || !strings.Contains(body, `"invalid_blocks"`) {
		t.Errorf("failed post = %d %s, want 404 invalid_blocks", code, body)
	}
	if code, _, body := post(); code != http.StatusOK {
		t.Errorf("third post = %d %s, want 200", code, body)
	}
	if p := s.ResponsePosts(u); len(p) != 1 {
		t.Errorf("posts = %+v, want only the third", p)
	}
	if c := s.Calls("response_url"); len(c) != 3 || c[0].Status != http.StatusTooManyRequests || c[1].Status != http.StatusNotFound || c[2].Status != http.StatusOK {
		t.Errorf("recorded calls = %+v", c)
	}
}

func TestEphemeralMessages(t *testing.T) {
	t.Parallel()
	s := slacktest.NewServer(t, slacktest.Options{})
	api := client(s, s.BotToken())
	ctx := t.Context()

	if _, err := api.PostEphemeralContext(ctx, "C1", "", slackapi.MsgOptionText("x", false)); err == nil || err.Error() != "invalid_arguments" {
		t.Errorf("ephemeral without user = %v, want invalid_arguments", err)
	}
	if _, err := api.PostEphemeralContext(ctx, "C1", "U1", slackapi.MsgOptionText(strings.Repeat("x", 4001), false)); err == nil || err.Error() != "msg_too_long" {
		t.Errorf("a 4,001-character ephemeral message = %v, want msg_too_long", err)
	}
	ts, err := api.PostEphemeralContext(ctx, "C1", "U1", slackapi.MsgOptionText("only you <@U2>", false), slackapi.MsgOptionTS("1.1"))
	if err != nil || ts == "" {
		t.Fatalf("PostEphemeral = %q, %v", ts, err)
	}
	m, ok := s.Message("C1", ts)
	if !ok || !m.Ephemeral || m.EphemeralUser != "U1" || !m.Bot || m.ThreadTS != "1.1" || m.Text != "only you <@U2>" || m.User != s.BotUserID() {
		t.Errorf("ephemeral message = %+v", m)
	}
	if r := s.BotReplies("C1", "1.1"); len(r) != 0 {
		t.Errorf("BotReplies = %+v, want the ephemeral message left out", r)
	}
	if p := s.Pings(); len(p) != 1 || p[0] != "only you <@U2>" {
		t.Errorf("Pings = %q, want the ephemeral text", p)
	}
	if _, _, _, err := api.UpdateMessageContext(ctx, "C1", ts, slackapi.MsgOptionText("y", false)); err == nil || err.Error() != "message_not_found" {
		t.Errorf("updating an ephemeral message = %v, want message_not_found", err)
	}
	// A normal post still is not ephemeral.
	_, ts2, err := api.PostMessageContext(ctx, "C1", slackapi.MsgOptionText("all", false), slackapi.MsgOptionTS("1.1"))
	if err != nil {
		t.Fatal(err)
	}
	if m, _ := s.Message("C1", ts2); m.Ephemeral || m.EphemeralUser != "" {
		t.Errorf("posted message = %+v, want not ephemeral", m)
	}
}
