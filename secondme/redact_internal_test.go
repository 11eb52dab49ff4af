package secondme

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

// TestErrorPathsRedact checks every error path that carries server text
// (HTTP error bodies, JSON and not; error envelopes at 200; token calls;
// a stream's non-event-stream reply, event: error and untyped error
// objects) against a server that echoes the caller's secrets. The secrets
// are not credential-shaped, so only the explicit redaction hides them.
func TestErrorPathsRedact(t *testing.T) {
	t.Parallel()
	const (
		token   = "tok-user-0001"
		code    = "code-0002"
		refresh = "refresh-0003"
		csecret = "csecret-0004"
	)
	secrets := []string{token, code, refresh, csecret}
	envelopeOf := func(status int, echo string) string {
		b, _ := json.Marshal(map[string]any{"code": status, "message": "echo " + echo, "subCode": "sub." + echo})
		return string(b)
	}
	jsonErr := func(status int) func(http.ResponseWriter, string) {
		return func(w http.ResponseWriter, echo string) {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(status)
			_, _ = w.Write([]byte(envelopeOf(status, echo)))
		}
	}
	textErr := func(w http.ResponseWriter, echo string) {
		w.Header().Set("Content-Type", "text/plain")
		w.WriteHeader(http.StatusBadGateway)
		_, _ = w.Write([]byte("echo " + echo))
	}
	sse := func(body func(echo string) string) func(http.ResponseWriter, string) {
		return func(w http.ResponseWriter, echo string) {
			w.Header().Set("Content-Type", "text/event-stream")
			_, _ = w.Write([]byte(body(echo)))
		}
	}
	getCall := func(c *Client) error { _, err := c.UserInfo(t.Context(), token); return err }
	postCall := func(c *Client) error {
		_, err := c.AddNote(t.Context(), token, Note{Content: "x", Type: NoteText})
		return err
	}
	memoryCall := func(c *Client) error { return c.AddKeyMemory(t.Context(), token, KeyMemoryInput{Content: "x"}) }
	exchange := func(c *Client) error {
		_, err := c.ExchangeCode(t.Context(), code, "https://app.example/cb")
		return err
	}
	refreshCall := func(c *Client) error { _, err := c.RefreshToken(t.Context(), refresh); return err }
	stream := func(c *Client) error {
		st, err := c.ChatStream(t.Context(), token, ChatRequest{Message: "hi"})
		if err != nil {
			return err
		}
		for st.Next() {
		}
		return st.Err()
	}
	const (
		one = "echo [REDACTED]"
		two = "echo [REDACTED] [REDACTED]"
	)
	tests := []struct {
		name             string
		call             func(*Client) error
		reply            func(http.ResponseWriter, string)
		wantMsg, wantSub string
	}{
		{"GET JSON 401", getCall, jsonErr(401), one, "sub.[REDACTED]"},
		{"GET text 502", getCall, textErr, one, ""},
		{"GET error envelope at 200", getCall, jsonErr(200), one, "sub.[REDACTED]"},
		{"POST JSON 403", postCall, jsonErr(403), one, "sub.[REDACTED]"},
		{"POST memory text 502", memoryCall, textErr, one, ""},
		{"code exchange JSON 400", exchange, jsonErr(400), two, "sub.[REDACTED] [REDACTED]"},
		{"code exchange text 502", exchange, textErr, two, ""},
		{"refresh error envelope at 200", refreshCall, jsonErr(200), two, "sub.[REDACTED] [REDACTED]"},
		{"stream JSON 401", stream, jsonErr(401), one, "sub.[REDACTED]"},
		{"stream text 502", stream, textErr, one, ""},
		{"stream JSON at 200", stream, jsonErr(200), one, "sub.[REDACTED]"},
		{"stream event: error", stream, sse(func(e string) string { return "event: error\ndata: " + envelopeOf(500, e) + "\n\n" }), one, "sub.[REDACTED]"},
		{"stream event: error text", stream, sse(func(e string) string { return "event: error\ndata: echo " + e + "\n\n" }), one, ""},
		{"stream untyped error", stream, sse(func(e string) string { return "data: " + envelopeOf(500, e) + "\n\n" }), one, "sub.[REDACTED]"},
	}
	for _, tc := range tests {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			echo := strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")
			if r.Header.Get("Authorization") == "" {
				_ = r.ParseForm()
				echo = r.PostForm.Get("code") + r.PostForm.Get("refresh_token") + " " + r.PostForm.Get("client_secret")
			}
			tc.reply(w, echo)
		}))
		c, err := NewClient(WithBaseURL(srv.URL), WithOAuth("cid", csecret, ""))
		if err != nil {
			t.Fatal(err)
		}
		err = tc.call(c)
		srv.Close()
		var ae *APIError
		if !errors.As(err, &ae) {
			t.Errorf("%s: err = %v, want *APIError", tc.name, err)
			continue
		}
		if ae.Message != tc.wantMsg || ae.SubCode != tc.wantSub {
			t.Errorf("%s: message %q sub-code %q, want %q %q", tc.name, ae.Message, ae.SubCode, tc.wantMsg, tc.wantSub)
		}
		for _, sec := range secrets {
			if strings.Contains(err.Error(), sec) {
				t.Errorf("%s: error leaks %q: %v", tc.name, sec, err)
			}
		}
	}
}

// A server (or a proxy in front of it) that echoes the token call's form
// body as sent shows the secrets percent-encoded: they are redacted too.
func TestErrorRedactsEchoedFormBody(t *testing.T) {
	t.Parallel()
	const (
		refresh = "lba_rt_Ab+c/9=="
		csecret = "cs+cret/0004=="
	)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		w.Header().Set("Content-Type", "text/plain")
		w.WriteHeader(http.StatusBadRequest)
		_, _ = w.Write(append([]byte("bad request: "), body...))
	}))
	t.Cleanup(srv.Close)
	c, err := NewClient(WithBaseURL(srv.URL), WithOAuth("cid", csecret, ""))
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.RefreshToken(t.Context(), refresh)
	var ae *APIError
	if !errors.As(err, &ae) || !strings.Contains(ae.Message, "client_id=cid") {
		t.Fatalf("err = %v, want an *APIError echoing the body", err)
	}
	for _, sec := range []string{refresh, csecret, url.QueryEscape(refresh), url.QueryEscape(csecret), "0004", "9%3D"} {
		if strings.Contains(err.Error(), sec) {
			t.Errorf("error leaks %q: %v", sec, err)
		}
	}
}
