package secondme_test

import (
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/secondme-bridge/secondme-bridge/secondme"
	"github.com/secondme-bridge/secondme-bridge/secondme/secondmetest"
)

func TestChatStreamRequest(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		clientApp  string
		req        secondme.ChatRequest
		wantBody   map[string]any
		wantHeader string // X-App-Id
	}{
		{"minimal", "", secondme.ChatRequest{Message: "hi"}, map[string]any{"message": "hi"}, ""},
		{"app id from client", "bridge", secondme.ChatRequest{Message: "hi", SystemPrompt: "be kind"},
			map[string]any{"message": "hi", "appId": "bridge", "systemPrompt": "be kind"}, "bridge"},
		{"everything", "bridge", secondme.ChatRequest{Message: "hi", AppID: "own", Model: "secondme/pro", MaxTokens: 16000, EnableWebSearch: true},
			map[string]any{"message": "hi", "appId": "own", "model": "secondme/pro", "maxTokens": float64(16000), "enableWebSearch": true}, "own"},
	}
	for _, tc := range tests {
		s, c := setup(t, secondme.WithAppID(tc.clientApp))
		tok := userWithToken(t, s)
		chat(t, c, tok, tc.req)
		r := s.RequestsTo(secondmetest.PathChatStream)[0]
		if diff := cmp.Diff(tc.wantBody, r.JSON); diff != "" {
			t.Errorf("%s: body (-want +got):\n%s", tc.name, diff)
		}
		for k, want := range map[string]string{
			"Authorization": "Bearer " + tok, "Content-Type": "application/json",
			"Accept": "text/event-stream", "X-App-Id": tc.wantHeader, "User-Agent": secondme.DefaultUserAgent,
		} {
			if got := r.Header.Get(k); got != want {
				t.Errorf("%s: header %s = %q, want %q", tc.name, k, got, want)
			}
		}
	}
	// The system prompt is sent on the first turn only.
	s, c := setup(t)
	tok := userWithToken(t, s)
	_, sess := chat(t, c, tok, secondme.ChatRequest{Message: "one", SystemPrompt: "p"})
	chat(t, c, tok, secondme.ChatRequest{Message: "two", SessionID: sess, SystemPrompt: "p"})
	r := s.RequestsTo(secondmetest.PathChatStream)[1]
	if diff := cmp.Diff(map[string]any{"message": "two", "sessionId": sess}, r.JSON); diff != "" {
		t.Errorf("second turn body (-want +got):\n%s", diff)
	}
}

func TestChatStreamValidation(t *testing.T) {
	t.Parallel()
	s, c := setup(t)
	tok := userWithToken(t, s)
	for name, tc := range map[string]struct {
		tok string
		req secondme.ChatRequest
	}{
		"empty message":      {tok, secondme.ChatRequest{Message: " \t"}},
		"empty token":        {"", secondme.ChatRequest{Message: "hi"}},
		"negative maxTokens": {tok, secondme.ChatRequest{Message: "hi", MaxTokens: -1}},
		"huge maxTokens":     {tok, secondme.ChatRequest{Message: "hi", MaxTokens: 16001}},
	} {
		var ve *secondme.ValidationError
		if _, err := c.ChatStream(t.Context(), tc.tok, tc.req); !errors.As(err, &ve) {
			t.Errorf("%s: err = %v", name, err)
		}
	}
	if n := len(s.Requests()); n != 0 {
		t.Errorf("%d requests sent", n)
	}
}

func TestChatStreamHTTPErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		resp  secondmetest.Response
		check func(error) bool
	}{
		{"429 with Retry-After", secondmetest.Response{Status: 429, RetryAfter: "3", Body: `{"code":429,"message":"too many"}`},
			func(err error) bool {
				d, ok := secondme.RetryAfter(err)
				return ok && d == 3*time.Second && secondme.IsRetryable(err)
			}},
		{"500", secondmetest.ErrorResponse(500, "secondme.stream.error", "boom"), secondme.IsRetryable},
		{"502 html", secondmetest.Response{Status: 502, ContentType: "text/html", Body: "<h1>bad gateway</h1>"}, secondme.IsRetryable},
		{"401 expired", secondmetest.ErrorResponse(401, "oauth2.token.expired", "expired"), secondme.IsTokenInvalid},
		{"403 scope", secondmetest.LegacyErrorResponse(403, "apikey.permission.denied", "缺少 chat 权限"), func(err error) bool {
			s, ok := secondme.MissingScope(err)
			return ok && s == "chat"
		}},
		{"200 JSON error body", secondmetest.JSONResponse(200, map[string]any{"code": 500, "message": "stream failed", "subCode": "secondme.stream.error"}),
			func(err error) bool {
				var ae *secondme.APIError
				return errors.As(err, &ae) && ae.HTTPStatus == 200 && ae.Code == 500 && secondme.IsRetryable(err)
			}},
		{"200 JSON success instead of a stream", secondmetest.JSONResponse(200, map[string]any{"code": 0, "data": map[string]any{}}),
			func(err error) bool { var ae *secondme.APIError; return errors.As(err, &ae) && ae.Message != "" }},
		{"200 JSON without content type", secondmetest.Response{Header: http.Header{"Content-Type": {""}}, Body: " \n{\"detail\":\"需要认证\"}"}, secondme.IsTokenInvalid},
		{"200 JSON as text/plain", secondmetest.Response{ContentType: "text/plain; charset=utf-8", Body: `{"code":401,"subCode":"oauth2.token.invalid"}`}, secondme.IsTokenInvalid},
	}
	for _, tc := range tests {
		s, c := setup(t)
		tok := userWithToken(t, s)
		s.QueueStream(secondmetest.Script{Response: &tc.resp})
		st, err := c.ChatStream(t.Context(), tok, secondme.ChatRequest{Message: "hi"})
		if st != nil || err == nil || !tc.check(err) {
			t.Errorf("%s: stream %v err %v", tc.name, st, err)
		}
	}
	// A 200 stream without Content-Type is sniffed as a stream.
	s, c := setup(t)
	tok := userWithToken(t, s)
	s.QueueStream(secondmetest.Script{Response: &secondmetest.Response{Header: http.Header{"Content-Type": {""}},
		Body: "\ndata: {\"choices\":[{\"delta\":{\"content\":\"sniffed\"}}]}\ndata: [DONE]\n"}})
	if text, _ := chat(t, c, tok, secondme.ChatRequest{Message: "hi"}); text != "sniffed" {
		t.Errorf("sniffed stream text %q", text)
	}
	// 422 from the fake for an unknown model.
	_, err := c.ChatStream(t.Context(), tok, secondme.ChatRequest{Message: "hi", Model: "gpt-4"})
	var ae *secondme.APIError
	if !errors.As(err, &ae) || ae.HTTPStatus != 422 || ae.Message == "" {
		t.Errorf("unknown model: %v", err)
	}
}

func TestChatStreamSessionErrors(t *testing.T) {
	t.Parallel()
	s, c := setup(t)
	tok := userWithToken(t, s)
	_, err := c.ChatStream(t.Context(), tok, secondme.ChatRequest{Message: "hi", SessionID: "labs_sess_gone"})
	if !secondme.IsSessionInvalid(err) || !secondme.IsNotFound(err) {
		t.Errorf("unknown session: %v", err)
	}
	_, sess := chat(t, c, tok, secondme.ChatRequest{Message: "hi"})
	other := s.IssueToken("77").AccessToken
	if _, err := c.ChatStream(t.Context(), other, secondme.ChatRequest{Message: "hi", SessionID: sess}); !secondme.IsSessionInvalid(err) {
		t.Errorf("other user's session: %v", err)
	}
	s.DeleteSession(sess)
	if _, err := c.ChatStream(t.Context(), tok, secondme.ChatRequest{Message: "hi", SessionID: sess}); !secondme.IsSessionInvalid(err) {
		t.Errorf("deleted session: %v", err)
	}
}

func TestChatStreamTools(t *testing.T) {
	t.Parallel()
	s, c := setup(t)
	tok := userWithToken(t, s)
	s.QueueStream(secondmetest.Script{
		Tools: []secondmetest.Tool{
			{Kind: "tool_call", ToolName: "web_search", Status: "searching"},
			{Kind: "tool_result", ToolName: "web_search", Query: "golang", ResultCount: 5},
		},
		Deltas: []string{"found"},
	})
	st, err := c.ChatStream(t.Context(), tok, secondme.ChatRequest{Message: "search", EnableWebSearch: true})
	if err != nil {
		t.Fatal(err)
	}
	var got []secondme.Event
	for st.Next() {
		got = append(got, st.Current())
	}
	want := []secondme.Event{
		{Type: secondme.EventSession, SessionID: got[0].SessionID},
		{Type: secondme.EventTool, Tool: &secondme.ToolActivity{Kind: "tool_call", ToolName: "web_search", Status: "searching"}},
		{Type: secondme.EventTool, Tool: &secondme.ToolActivity{Kind: "tool_result", ToolName: "web_search", Query: "golang", ResultCount: 5}},
		{Type: secondme.EventDelta, Text: "found"},
		{Type: secondme.EventDone},
	}
	if diff := cmp.Diff(want, got); diff != "" || st.Err() != nil {
		t.Errorf("events (-want +got):\n%s err %v", diff, st.Err())
	}
}
