package secondme

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func delta(s string) Event { return Event{Type: EventDelta, Text: s} }

var done = Event{Type: EventDone}

func TestDecoderRules(t *testing.T) {
	t.Parallel()
	sess := Event{Type: EventSession, SessionID: "labs_sess_1"}
	tests := []struct {
		name    string
		body    string
		want    []Event
		wantErr error // nil, ErrIncompleteStream, or *APIError (matched by type)
	}{
		{
			name: "no blank lines (live API)",
			body: "event: session\ndata: {\"sessionId\":\"labs_sess_1\"}\ndata: {\"choices\":[{\"delta\":{\"content\":\"Hel\"}}]}\ndata: {\"choices\":[{\"delta\":{\"content\":\"lo\"}}]}\ndata: [DONE]\n",
			want: []Event{sess, delta("Hel"), delta("lo"), done},
		},
		{
			name: "blank lines (older docs)",
			body: "event: session\ndata: {\"sessionId\": \"labs_sess_1\"}\n\ndata: {\"choices\": [{\"delta\": {\"content\": \"Hel\"}}]}\n\ndata: {\"choices\": [{\"delta\": {\"content\": \"lo\"}}]}\n\ndata: [DONE]\n\n",
			want: []Event{sess, delta("Hel"), delta("lo"), done},
		},
		{
			name: "CRLF",
			body: "event: session\r\ndata: {\"sessionId\":\"labs_sess_1\"}\r\n\r\ndata: {\"choices\":[{\"delta\":{\"content\":\"a\"}}]}\r\ndata: [DONE]\r\n",
			want: []Event{sess, delta("a"), done},
		},
		{
			name: "data without space",
			body: "event:session\ndata:{\"sessionId\":\"labs_sess_1\"}\ndata:{\"choices\":[{\"delta\":{\"content\":\" a\"}}]}\ndata:[DONE]\n",
			want: []Event{sess, delta(" a"), done},
		},
		{
			name: "event types only the next data line",
			body: "event: session\ndata: {\"sessionId\":\"labs_sess_1\"}\ndata: {\"choices\":[{\"delta\":{\"content\":\"x\"}}]}\ndata: [DONE]\n",
			want: []Event{sess, delta("x"), done},
		},
		{
			name: "blank line between event and data keeps the type",
			body: "event: session\n\ndata: {\"sessionId\":\"labs_sess_1\"}\ndata: [DONE]\n",
			want: []Event{sess, done},
		},
		{
			name: "comments, id and retry ignored",
			body: ": keep-alive\nid: 7\nretry: 100\n:\ndata: {\"choices\":[{\"delta\":{\"content\":\"x\"}}]}\nnonsense line\ndata: [DONE]\n",
			want: []Event{delta("x"), done},
		},
		{
			name: "unknown event ignored, and only its data line",
			body: "event: usage\ndata: {\"choices\":[{\"delta\":{\"content\":\"hidden\"}}]}\ndata: {\"choices\":[{\"delta\":{\"content\":\"shown\"}}]}\ndata: [DONE]\n",
			want: []Event{delta("shown"), done},
		},
		{
			name: "event message is a delta",
			body: "event: message\ndata: {\"choices\":[{\"delta\":{\"content\":\"m\"}}]}\ndata: [DONE]\n",
			want: []Event{delta("m"), done},
		},
		{
			name: "fallbacks: message.content then top-level content",
			body: "data: {\"choices\":[{\"message\":{\"content\":\"a\"}}]}\ndata: {\"content\":\"b\"}\ndata: {\"model\":\"secondme/nano\",\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"c\"},\"finish_reason\":null}]}\ndata: [DONE]\n",
			want: []Event{delta("a"), delta("b"), delta("c"), done},
		},
		{
			name: "escapes and unicode",
			body: `data: {"choices":[{"delta":{"content":"line\nbreak \"q\" \\ \u00e9 \ud83d\ude00 \/ 你好"}}]}` + "\ndata: [DONE]\n",
			want: []Event{delta("line\nbreak \"q\" \\ é 😀 / 你好"), done},
		},
		{
			name: "lone surrogate handled by the fallback",
			body: `data: {"choices":[{"delta":{"content":"a\ud800b"}}]}` + "\ndata: [DONE]\n",
			want: []Event{delta("a\uFFFDb"), done},
		},
		{
			name: "empty, null and non-JSON payloads ignored",
			body: "data: {\"choices\":[{\"delta\":{\"content\":\"\"}}]}\ndata: {\"choices\":[{\"delta\":{\"content\":null}}]}\ndata: {\"choices\":[{\"finish_reason\":\"stop\",\"delta\":{}}]}\ndata: not json\ndata:\ndata: [DONE]\n",
			want: []Event{done},
		},
		{
			name: "tools",
			body: "event: tool_call\ndata: {\"toolName\":\"web_search\",\"status\":\"searching\"}\nevent: tool_result\ndata: {\"toolName\":\"web_search\",\"query\":\"go\",\"resultCount\":5}\ndata: [DONE]\n",
			want: []Event{
				{Type: EventTool, Tool: &ToolActivity{Kind: "tool_call", ToolName: "web_search", Status: "searching"}},
				{Type: EventTool, Tool: &ToolActivity{Kind: "tool_result", ToolName: "web_search", Query: "go", ResultCount: 5}},
				done,
			},
		},
		{
			name: "bare sessionId on an untyped line",
			body: "data: {\"sessionId\":\"labs_sess_1\"}\ndata: [DONE]\n",
			want: []Event{sess, done},
		},
		{
			name: "DONE with trailing space and no final newline",
			body: "data: {\"choices\":[{\"delta\":{\"content\":\"x\"}}]}\ndata: [DONE] ",
			want: []Event{delta("x"), done},
		},
		{
			name:    "EOF without DONE",
			body:    "data: {\"choices\":[{\"delta\":{\"content\":\"part\"}}]}\n",
			want:    []Event{delta("part")},
			wantErr: ErrIncompleteStream,
		},
		{
			name:    "truncated last line",
			body:    "data: {\"choices\":[{\"delta\":{\"content\":\"part\"}}]}\ndata: {\"choices\":[{\"del",
			want:    []Event{delta("part")},
			wantErr: ErrIncompleteStream,
		},
		{
			name:    "event error mid-stream",
			body:    "data: {\"choices\":[{\"delta\":{\"content\":\"part\"}}]}\nevent: error\ndata: {\"code\":500,\"message\":\"upstream failed\"}\ndata: {\"choices\":[{\"delta\":{\"content\":\"never\"}}]}\n",
			want:    []Event{delta("part")},
			wantErr: &APIError{},
		},
		{
			name:    "untyped error object",
			body:    "data: {\"code\":429,\"message\":\"slow down\",\"subCode\":\"rate.limited\"}\n",
			wantErr: &APIError{},
		},
	}
	for _, tc := range tests {
		for _, sizes := range [][]int{nil, {1}, {7, 3, 64}} {
			evs, err := parseAll(t, tc.body, sizes...)
			if diff := cmp.Diff(tc.want, evs); diff != "" {
				t.Errorf("%s (chunks %v): events (-want +got):\n%s", tc.name, sizes, diff)
			}
			var ae *APIError
			switch want := tc.wantErr.(type) {
			case nil:
				if err != nil {
					t.Errorf("%s (chunks %v): err = %v, want nil", tc.name, sizes, err)
				}
			case *APIError:
				if !errors.As(err, &ae) {
					t.Errorf("%s (chunks %v): err = %v, want *APIError", tc.name, sizes, err)
				}
			default:
				if !errors.Is(err, want) {
					t.Errorf("%s (chunks %v): err = %v, want %v", tc.name, sizes, err, want)
				}
			}
		}
	}
}

func TestDecoderErrorEvent(t *testing.T) {
	t.Parallel()
	body := "event: error\ndata: {\"code\":500,\"message\":\"bad token lba_at_secret and lba_rt_zzz\",\"subCode\":\"secondme.stream.error\"}\n"
	_, err := parseAll(t, body)
	var ae *APIError
	if !errors.As(err, &ae) {
		t.Fatalf("err = %v, want *APIError", err)
	}
	want := &APIError{HTTPStatus: 200, Code: 500, SubCode: "secondme.stream.error",
		Message: "bad token [REDACTED] and lba_rt_[REDACTED]", Endpoint: "/api/secondme/chat/stream"}
	if diff := cmp.Diff(want, ae); diff != "" {
		t.Errorf("APIError (-want +got):\n%s", diff)
	}
	if strings.Contains(err.Error(), "secret") || strings.Contains(err.Error(), "zzz") {
		t.Errorf("error leaks a token: %v", err)
	}
	if !IsRetryable(err) {
		t.Errorf("IsRetryable(stream error) = false")
	}
	_, err = parseAll(t, "event: error\ndata: plain text failure\n")
	if !errors.As(err, &ae) || ae.Message != "plain text failure" {
		t.Errorf("non-JSON error event: %v", err)
	}
}

func TestDecoderLongLines(t *testing.T) {
	t.Parallel()
	for _, n := range []int{64 << 10, 1 << 20, 3 << 20} {
		big := strings.Repeat("x", n)
		body := "data: {\"choices\":[{\"delta\":{\"content\":\"" + big + "\"}}]}\ndata: {\"choices\":[{\"delta\":{\"content\":\"!\"}}]}\ndata: [DONE]\n"
		evs, err := parseAll(t, body, 1000, 4096, 65536)
		if err != nil {
			t.Fatalf("%d: err %v", n, err)
		}
		if got := textOf(evs); got != big+"!" {
			t.Fatalf("%d: text length %d, want %d", n, len(got), n+1)
		}
	}
}

func TestDecoderLineTooLong(t *testing.T) {
	t.Parallel()
	body := "data: \"" + strings.Repeat("y", maxLineBytes+10) + "\"\n"
	_, err := parseAll(t, body, 1<<20)
	if !errors.Is(err, errLineTooLong) {
		t.Fatalf("err = %v, want errLineTooLong", err)
	}
}

func TestKindOf(t *testing.T) {
	t.Parallel()
	for name, want := range map[string]evKind{
		"": evNone, "message": evNone, "session": evSession, "tool_call": evToolCall,
		"tool_result": evToolResult, "error": evError, "ping": evUnknown,
	} {
		if got := kindOf([]byte(name)); got != want {
			t.Errorf("kindOf(%q) = %v, want %v", name, got, want)
		}
	}
}
