package secondmetest_test

import (
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/secondme-bridge/secondme-bridge/secondme"
	"github.com/secondme-bridge/secondme-bridge/secondme/secondmetest"
)

func TestScriptBytes(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		sc   secondmetest.Script
		want string
	}{
		{"default framing", secondmetest.Script{SessionID: "labs_sess_x", Deltas: []string{"a"}},
			"event: session\ndata: {\"sessionId\":\"labs_sess_x\"}\ndata: {\"choices\":[{\"delta\":{\"content\":\"a\"}}]}\ndata: [DONE]\n"},
		{"all options", secondmetest.Script{SessionID: "labs_sess_y", Deltas: []string{"a"}, BlankLines: true, CRLF: true, NoSpace: true, Comments: true, ChunkSize: 3},
			": ping\r\nevent: session\r\ndata:{\"sessionId\":\"labs_sess_y\"}\r\n\r\n: ping\r\ndata:{\"choices\":[{\"delta\":{\"content\":\"a\"}}]}\r\n\r\n: ping\r\ndata:[DONE]\r\n\r\n"},
		{"error", secondmetest.Script{NoSessionEvent: true, Error: &secondmetest.StreamError{Code: 500, Message: "x"}, SplitLines: true},
			"event: error\ndata: {\"code\":500,\"message\":\"x\"}\n"},
		{"drop", secondmetest.Script{NoSessionEvent: true, Deltas: []string{"a"}, Drop: true},
			"data: {\"choices\":[{\"delta\":{\"content\":\"a\"}}]}\n"},
		{"raw", secondmetest.Script{Raw: "data: whatever\n"}, "data: whatever\n"},
	}
	for _, tc := range tests {
		s := secondmetest.New(t)
		tok := s.IssueToken("1").AccessToken
		s.QueueStream(tc.sc)
		status, h, body := do(t, s, "POST", s.URL+secondmetest.PathChatStream, "application/json", `{"message":"hi"}`, tok)
		if status != 200 || h.Get("Content-Type") != "text/event-stream" {
			t.Errorf("%s: %d %v", tc.name, status, h)
		}
		if body != tc.want {
			t.Errorf("%s: body\n%q\nwant\n%q", tc.name, body, tc.want)
		}
	}
}

func TestChatRequestChecks(t *testing.T) {
	t.Parallel()
	s := secondmetest.New(t)
	tok := s.IssueToken("1").AccessToken
	for body, want := range map[string]int{
		`{}`:                                      422,
		`not json`:                                422,
		`{"message":"hi","model":"gpt-4"}`:        422,
		`{"message":"hi","maxTokens":0}`:          422,
		`{"message":"hi","maxTokens":16000}`:      200,
		`{"message":"hi","model":"secondme/pro"}`: 200,
	} {
		if status, _, _ := do(t, s, "POST", s.URL+secondmetest.PathChatStream, "application/json", body, tok); status != want {
			t.Errorf("%s: status %d, want %d", body, status, want)
		}
	}
	s.SetScopes("1", "chat.read")
	if status, _, body := do(t, s, "POST", s.URL+secondmetest.PathChatStream, "application/json", `{"message":"hi"}`, tok); status != 403 ||
		field(t, body, "subCode") != "oauth2.scope.insufficient" {
		t.Errorf("scope: %d %s", status, body)
	}
}

func TestStreamHandlerAndHold(t *testing.T) {
	t.Parallel()
	s := secondmetest.New(t)
	c := s.Client(secondme.WithAppID("bridge"))
	tok := s.IssueToken("1").AccessToken
	var mu sync.Mutex
	var calls []secondmetest.ChatCall
	s.SetStreamHandler(func(call secondmetest.ChatCall) secondmetest.Script {
		mu.Lock()
		calls = append(calls, call)
		mu.Unlock()
		return secondmetest.Script{Deltas: []string{strings.ToUpper(call.Message)}}
	})
	st, err := c.ChatStream(t.Context(), tok, secondme.ChatRequest{Message: "loud", SystemPrompt: "sp", MaxTokens: 5, Model: "secondme/nano"})
	if err != nil {
		t.Fatal(err)
	}
	var text string
	for st.Next() {
		text += st.Current().Text
	}
	if text != "LOUD" {
		t.Errorf("text %q", text)
	}
	calls[0].Header = nil
	want := secondmetest.ChatCall{UserID: "1", Message: "loud", SystemPrompt: "sp", AppID: "bridge", Model: "secondme/nano", MaxTokens: 5}
	if diff := cmp.Diff(want, calls[0]); diff != "" {
		t.Errorf("call (-want +got):\n%s", diff)
	}
	// Hold: the first delta arrives, the rest waits for the test.
	s.SetStreamHandler(nil)
	hold := make(chan struct{})
	s.QueueStream(secondmetest.Script{Deltas: []string{"1", "2"}, Hold: hold, HoldAfter: 1})
	st, err = c.ChatStream(t.Context(), tok, secondme.ChatRequest{Message: "x"})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for st.Next() {
		if ev := st.Current(); ev.Type == secondme.EventDelta {
			got = append(got, ev.Text)
			if len(got) == 1 {
				close(hold)
			}
		}
	}
	if diff := cmp.Diff([]string{"1", "2"}, got); diff != "" || st.Err() != nil {
		t.Errorf("held stream: %v %v", got, st.Err())
	}
	// Default echo.
	if d := secondmetest.EchoDeltas("a b"); !cmp.Equal(d, []string{"echo: ", "a ", "b"}) {
		t.Errorf("EchoDeltas = %q", d)
	}
}

func TestDeltaContent(t *testing.T) {
	for _, c := range []struct {
		data, want string
		ok         bool
	}{
		{`{"choices":[{"delta":{"content":"你好 <@1>"}}]}`, "你好 <@1>", true},
		{`{"choices":[{"delta":{}}]}`, "", true},
		{`{"choices":[]}`, "", false},
		{`{"choices":`, "", false},
		{`[DONE]`, "", false},
	} {
		got, ok := secondmetest.DeltaContent([]byte(c.data))
		if got != c.want || ok != c.ok {
			t.Errorf("DeltaContent(%s) = %q, %v; want %q, %v", c.data, got, ok, c.want, c.ok)
		}
	}
}
