package secondme

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
)

// FuzzParser encodes fuzz-chosen deltas as a stream in a fuzz-chosen
// framing, feeds it in fuzz-chosen read sizes, and checks that the deltas
// come back complete and in order, with Err nil after [DONE]. The raw
// input is also parsed as a stream, which must not panic.
func FuzzParser(f *testing.F) {
	f.Add([]byte("Hello\x00, world\x00!"), []byte{1}, uint8(0))
	f.Add([]byte("a\x00\x00b\nc\x00\"q\"\x00\\\x00é😀\x00[DONE]"), []byte{3, 1, 7}, uint8(0xff))
	f.Add([]byte("data: {\"choices\":[{\"delta\":{\"content\":\"x\"}}]}\n"), []byte{2}, uint8(0x2a))
	f.Add([]byte("event: error\ndata: {}\n\u2028\x00\ud7ff"), []byte{64, 1}, uint8(0x55))
	f.Fuzz(func(t *testing.T, data, chunks []byte, flags uint8) {
		sizes := make([]int, 0, len(chunks))
		for _, c := range chunks {
			sizes = append(sizes, int(c)+1)
		}
		// Arbitrary bytes as a stream: any outcome but a panic.
		_, _ = parseAll(t, string(data), sizes...)

		deltas := strings.Split(strings.ToValidUTF8(string(data), "\uFFFD"), "\x00")
		body := encodeStream(deltas, flags)
		evs, err := parseAll(t, body, sizes...)
		if err != nil {
			t.Fatalf("err = %v for body %q", err, body)
		}
		if got, want := textOf(evs), strings.Join(deltas, ""); got != want {
			t.Fatalf("text = %q, want %q (body %q)", got, want, body)
		}
		if n := len(evs); n == 0 || evs[n-1].Type != EventDone {
			t.Fatalf("last event is not EventDone: %+v", evs)
		}
	})
}

// encodeStream frames deltas as SSE. flags: 1 blank lines, 2 CRLF,
// 4 "data:" without space, 8 comments, 16 session and tool events,
// 32 extra JSON fields, 64 every non-ASCII rune as \u escapes,
// 128 spaces inside the JSON.
func encodeStream(deltas []string, flags uint8) string {
	nl := "\n"
	if flags&2 != 0 {
		nl = "\r\n"
	}
	end := nl
	if flags&1 != 0 {
		end = nl + nl
	}
	data := "data: "
	if flags&4 != 0 {
		data = "data:"
	}
	var b strings.Builder
	if flags&16 != 0 {
		b.WriteString("event: session" + nl + data + `{"sessionId":"s1"}` + end)
		b.WriteString("event: tool_call" + nl + data + `{"toolName":"web_search","status":"searching"}` + end)
		b.WriteString("event: future_thing" + nl + data + `{"choices":[{"delta":{"content":"IGNORED"}}]}` + end)
	}
	for i, d := range deltas {
		if flags&8 != 0 {
			b.WriteString(": ping " + fmt.Sprint(i) + nl)
		}
		var content string
		if flags&64 != 0 {
			content = escapeAll(d)
		} else {
			p, _ := json.Marshal(d)
			content = string(p)
		}
		switch {
		case flags&32 != 0:
			fmt.Fprintf(&b, `%s{"id":"c%d","model":"secondme/nano","choices":[{"index":0,"delta":{"role":"assistant","content":%s},"finish_reason":null}]}%s`, data, i, content, end)
		case flags&128 != 0:
			fmt.Fprintf(&b, `%s{ "choices" : [ { "delta" : { "content" : %s } } ] }%s`, data, content, end)
		default:
			fmt.Fprintf(&b, `%s{"choices":[{"delta":{"content":%s}}]}%s`, data, content, end)
		}
	}
	b.WriteString(data + "[DONE]" + end)
	return b.String()
}

// escapeAll encodes s as a JSON string with every rune outside printable
// ASCII (and " and \) as \u escapes, surrogate pairs included.
func escapeAll(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch {
		case r >= 0x20 && r < 0x7f && r != '"' && r != '\\':
			b.WriteRune(r)
		case r > 0xffff:
			r -= 0x10000
			fmt.Fprintf(&b, `\u%04x\u%04X`, 0xd800+(r>>10), 0xdc00+(r&0x3ff))
		default:
			fmt.Fprintf(&b, `\u%04x`, r)
		}
	}
	b.WriteByte('"')
	return b.String()
}
