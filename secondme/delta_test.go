package secondme

import (
	"testing"
)

func TestFastDelta(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in     string
		want   string
		wantOK bool
	}{
		{`{"choices":[{"delta":{"content":"Hello"}}]}`, "Hello", true},
		{` { "choices" : [ { "delta" : { "content" : "Hi" } } ] } `, "Hi", true},
		{`{"model":"secondme/nano","choices":[{"delta":{"content":"x"}}]}`, "x", true},
		{`{"id":"c1","object":"chunk","created":1.5e3,"choices":[{"index":0,"delta":{"role":"assistant","content":"y"},"finish_reason":null,"logprobs":{"a":[1,true,false,null,"s"]}}],"usage":null}`, "y", true},
		{`{"choices":[{"delta":{"content":"a\nb\u00e9\ud83d\ude00"}}]}`, "a\nbé😀", true},
		{`{"choices":[{"delta":{"content":""}}]}`, "", true},
		// Everything below is left to encoding/json.
		{`{"Choices":[{"delta":{"content":"x"}}]}`, "", false},
		{`{"choices":[{"delta":{"content":"x"}}],"choices":[]}`, "", false},
		{`{"choices":[{"delta":{"content":"x","Content":"y"}}]}`, "", false},
		{`{"choices":[{"delta":{"content":"x"}},{"delta":{"content":"y"}}]}`, "", false},
		{`{"choices":[{"delta":{"content":"x"},"message":{"content":"y"}}]}`, "", false},
		{`{"choices":[{"delta":{"content":"x"}}],"content":"y"}`, "", false},
		{`{"choices":[{"delta":{"content":5}}]}`, "", false},
		{`{"choices":[{"delta":{"content":null}}]}`, "", false},
		{`{"choices":[{"delta":{"content":"x"}}]} trailing`, "", false},
		{`{"choices":[{"delta":{"content":"bad` + "\xff" + `"}}]}`, "", false},
		{`{"choices":[{"delta":{"content":"ctl` + "\x01" + `"}}]}`, "", false},
		{`{"choices":[{"delta":{"content":"x"}}],"n":01}`, "", false},
		{`{"cho\u0069ces":[{"delta":{"content":"x"}}]}`, "", false},
		{`[DONE]`, "", false},
		{``, "", false},
	}
	for _, tc := range tests {
		raw, esc, ok := fastDelta([]byte(tc.in))
		if ok != tc.wantOK {
			t.Errorf("fastDelta(%q) ok = %v, want %v", tc.in, ok, tc.wantOK)
			continue
		}
		if !ok {
			continue
		}
		got := string(raw)
		if esc {
			b, uok := appendUnescaped(nil, raw)
			if !uok {
				t.Errorf("appendUnescaped(%q) failed", raw)
			}
			got = string(b)
		}
		if got != tc.want {
			t.Errorf("fastDelta(%q) = %q, want %q", tc.in, got, tc.want)
		}
		checkAgainstJSON(t, []byte(tc.in))
	}
}

// checkAgainstJSON fails when the fast path answers differently from the
// encoding/json reference.
func checkAgainstJSON(t testing.TB, in []byte) {
	t.Helper()
	raw, esc, ok := fastDelta(in)
	if !ok {
		return
	}
	got := string(raw)
	if esc {
		b, uok := appendUnescaped(nil, raw)
		if !uok {
			return // the stream falls back to encoding/json then
		}
		got = string(b)
	}
	want, found, err := slowDelta(in)
	if err != nil || !found || want != got {
		t.Fatalf("fast path disagrees on %q: fast %q; json %q found=%v err=%v", in, got, want, found, err)
	}
}

func FuzzFastDelta(f *testing.F) {
	for _, s := range []string{
		`{"choices":[{"delta":{"content":"Hello"}}]}`,
		`{"choices": [{"delta": {"content": "a\"b\\c\u0041\ud83d\ude00"}}]}`,
		`{"model":"m","choices":[{"index":0,"delta":{"role":"assistant","content":"y"},"finish_reason":null}]}`,
		`{"choices":[{"delta":{"content":"x"}}],"x":{"a":[1,-2.5e+3,true,null,{"b":"c"}]}}`,
		`{"choices":[{"delta":{"content":"\ud800"}}]}`,
		`{"choices":[{"delta":{"CONTENT":"x"}}]}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		checkAgainstJSON(t, in)
	})
}

func TestAppendUnescaped(t *testing.T) {
	t.Parallel()
	tests := map[string]string{
		`plain`:          "plain",
		`\b\f\n\r\t\/\\`: "\b\f\n\r\t/\\",
		`\u0000\u00ff`:   "\x00ÿ",
		`\uD83D\uDE00`:   "😀",
	}
	for in, want := range tests {
		got, ok := appendUnescaped(nil, []byte(in))
		if !ok || string(got) != want {
			t.Errorf("appendUnescaped(%q) = %q, %v; want %q", in, got, ok, want)
		}
	}
	for _, in := range []string{`\ud800`, `\ud800\u0041`, `\udc00\udc00`} {
		if _, ok := appendUnescaped(nil, []byte(in)); ok {
			t.Errorf("appendUnescaped(%q) ok, want failure (lone surrogate)", in)
		}
	}
}
