package slack

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/secondme-bridge/secondme-bridge/platforms"
	"github.com/secondme-bridge/secondme-bridge/platforms/slack/slacktest"
)

func post(t *testing.T, req *http.Request) (int, string) {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("POST %s: %v", req.URL.Path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestHTTPEventsProcessed(t *testing.T) {
	t.Parallel()
	fake := newFake(t)
	rec := &recorder{}
	startHTTP(t, fake, rec)

	p, err := fake.Mention(t.Context(), "U1", "C1", "", "over http")
	if err != nil {
		t.Fatalf("Mention: %v", err)
	}
	for _, a := range p.Acks {
		if a.HTTPStatus != http.StatusOK || a.Latency > 3*time.Second {
			t.Errorf("ack = %d after %s, want 200 within 3s", a.HTTPStatus, a.Latency)
		}
	}
	// A retried delivery of the same event yields the same dedupe ids.
	retry, err := fake.Redeliver(t.Context(), p, 0, 1)
	if err != nil || retry.HTTPStatus != http.StatusOK {
		t.Fatalf("Redeliver = %d, %v", retry.HTTPStatus, err)
	}
	evs := rec.wait(t, 2)
	if evs[0].Text != "over http" || !evs[0].Addressed || string(evs[0].Thread) != p.TS {
		t.Errorf("event = %+v", evs[0])
	}
	if diff := cmp.Diff(evs[0].DedupeIDs, evs[1].DedupeIDs); diff != "" {
		t.Errorf("retry dedupe ids differ:\n%s", diff)
	}
	want := []string{"ev:" + p.EventIDs[0], "msg:T1:C1:" + p.TS}
	if diff := cmp.Diff(want, evs[0].DedupeIDs); diff != "" {
		t.Errorf("dedupe ids (-want +got):\n%s", diff)
	}
	if evs := rec.settle(); len(evs) != 2 {
		t.Errorf("got %d events, want 2 (mention + its retry; the message twin suppressed)", len(evs))
	}
}

func TestHTTPRejectsUnsigned(t *testing.T) {
	t.Parallel()
	fake := newFake(t)
	rec := &recorder{}
	_, srv, logs := startHTTP(t, fake, rec)
	ctx := t.Context()
	body := slacktest.EventCallback("T1", "A1", "EvBad", slacktest.InnerEvent{
		Type: "message", User: "U1", Text: "must not pass", Channel: "D1", ChannelType: "im", TS: "1700000001.000001",
	})
	events := srv.URL + PathEvents
	now := time.Now()

	cases := map[string]*http.Request{}
	req, _ := slacktest.NewSignedRequest(ctx, events, "application/json", body, "wrong-secret", now)
	cases["bad signature"] = req
	req, _ = slacktest.NewSignedRequest(ctx, events, "application/json", body, testSecret, now.Add(-6*time.Minute))
	cases["stale timestamp"] = req
	req, _ = slacktest.NewSignedRequest(ctx, events, "application/json", body, testSecret, now.Add(6*time.Minute))
	cases["future timestamp"] = req
	req, _ = http.NewRequestWithContext(ctx, http.MethodPost, events, bytes.NewReader(body))
	cases["missing headers"] = req
	req, _ = slacktest.NewSignedRequest(ctx, events, "application/json", body, testSecret, now)
	req.Header.Set("X-Slack-Signature", "v0=zz")
	cases["malformed signature"] = req
	tampered := bytes.Replace(body, []byte("must not pass"), []byte("tampered text!"), 1)
	ts, sig := slacktest.Sign(testSecret, now, body)
	req, _ = http.NewRequestWithContext(ctx, http.MethodPost, events, bytes.NewReader(tampered))
	req.Header.Set("X-Slack-Request-Timestamp", ts)
	req.Header.Set("X-Slack-Signature", sig)
	cases["tampered body"] = req
	form := []byte("command=%2Fsecondme&text=link&user_id=U1&channel_id=C1&team_id=T1")
	req, _ = slacktest.NewSignedRequest(ctx, srv.URL+PathCommands, "application/x-www-form-urlencoded", form, "wrong-secret", now)
	cases["command bad signature"] = req
	req, _ = slacktest.NewSignedRequest(ctx, srv.URL+PathInteractivity, "application/x-www-form-urlencoded", []byte("payload=%7B%7D"), testSecret, now.Add(-10*time.Minute))
	cases["interactivity stale"] = req

	for name, req := range cases {
		if status, _ := post(t, req); status != http.StatusUnauthorized {
			t.Errorf("%s: status %d, want 401", name, status)
		}
	}
	big := append([]byte(`{"type":"event_callback","pad":"`), bytes.Repeat([]byte("x"), 2<<20)...)
	big = append(big, `"}`...)
	req, _ = slacktest.NewSignedRequest(ctx, events, "application/json", big, testSecret, now)
	if status, _ := post(t, req); status != http.StatusRequestEntityTooLarge {
		t.Errorf("oversized body: status %d, want 413", status)
	}
	if evs := rec.settle(); len(evs) != 0 {
		t.Errorf("rejected requests reached the handler: %+v", evs)
	}
	assertNoSecrets(t, "logs", logs.String(), testSecret)
}

func TestHTTPURLVerification(t *testing.T) {
	t.Parallel()
	fake := newFake(t)
	_, srv, _ := startHTTP(t, fake, &recorder{})
	body := []byte(`{"token":"x","challenge":"3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P","type":"url_verification"}`)
	req, _ := slacktest.NewSignedRequest(t.Context(), srv.URL+PathEvents, "application/json", body, testSecret, time.Now())
	status, answer := post(t, req)
	var got struct{ Challenge string }
	if err := json.Unmarshal([]byte(answer), &got); status != http.StatusOK || err != nil || got.Challenge != "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P" {
		t.Errorf("url_verification = %d %q", status, answer)
	}
}

func TestHTTPCommandsAndShortcuts(t *testing.T) {
	t.Parallel()
	fake := newFake(t)
	rec := &recorder{}
	startHTTP(t, fake, rec)
	a, err := fake.SendSlashCommand(t.Context(), slacktest.SlashCommand{User: "U1", Channel: "C1", Text: "ask how are you"})
	if err != nil || a.HTTPStatus != http.StatusOK || len(a.Payload) != 0 {
		t.Fatalf("slash over http = %d %q, %v; want 200 with an empty body", a.HTTPStatus, a.Payload, err)
	}
	s, err := fake.SendShortcut(t.Context(), slacktest.Shortcut{User: "U1", CallbackID: CallbackAsk, Channel: "C1", MessageTS: "1700000000.000009", MessageText: "this"})
	if err != nil || s.HTTPStatus != http.StatusOK {
		t.Fatalf("shortcut over http = %d, %v", s.HTTPStatus, err)
	}
	evs := rec.wait(t, 2)
	if c := evs[0].Command; c == nil || *c != (platforms.Command{Name: "ask", Args: "how are you"}) {
		t.Errorf("command = %+v", c)
	}
	if c := evs[1].Command; c == nil || c.Name != "askabout" || c.Args != "this" {
		t.Errorf("shortcut = %+v", c)
	}
}

func TestHTTPNotServingAndSocketRoutes(t *testing.T) {
	t.Parallel()
	fake := newFake(t)

	// HTTP mode before Run: events get 503 so Slack retries them.
	a, _ := newAdapter(t, fake, func(c *Config) { c.Mode = ModeHTTP })
	mux := http.NewServeMux()
	a.Routes(mux)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	fake.DeliverOverHTTP(srv.URL, testSecret)
	p, err := fake.DM(t.Context(), "U1", "", "too early")
	if err != nil || p.Acks[0].HTTPStatus != http.StatusServiceUnavailable {
		t.Errorf("event before Run = %+v, %v; want 503", p.Acks, err)
	}

	// Socket mode mounts nothing.
	s, _ := newAdapter(t, fake, nil)
	smux := http.NewServeMux()
	s.Routes(smux)
	for _, path := range []string{PathEvents, PathCommands, PathInteractivity} {
		rr := httptest.NewRecorder()
		smux.ServeHTTP(rr, httptest.NewRequestWithContext(t.Context(), http.MethodPost, path, strings.NewReader("{}")))
		if rr.Code != http.StatusNotFound {
			t.Errorf("socket mode %s = %d, want 404", path, rr.Code)
		}
	}
}
