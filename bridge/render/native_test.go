package render

import (
	"strings"
	"testing"
)

func TestHoldback(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ in, want string }{
		{"Hello wor", "Hello wor"},
		{"ping @every", "ping "},
		{"@here", ""},
		{"see <!chan", "see "},
		{"a <b> c", "a <b> c"},
		{"mail me@", "mail "},
		{"done.\n", "done.\n"},
		{"x " + strings.Repeat("@", 70), "x " + strings.Repeat("@", 70)},
	} {
		if got := tc.in[:holdback(tc.in)]; got != tc.want {
			t.Errorf("holdback(%q) keeps %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestCutAt(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		in   string
		room int
		want string
	}{
		{"short", 10, "short"},
		{"one two three four", 10, "one two "},
		{"line one\nline two", 12, "line one\n"},
		{"abcdefghijkl", 5, "abcde"},
		{"你好世界你好世界", 3, "你好世"},
		{"anything", 0, ""},
		{"a bcdefghijklmnop", 8, "a bcdefg"},
	} {
		if got := tc.in[:cutAt(tc.in, tc.room)]; got != tc.want {
			t.Errorf("cutAt(%q, %d) = %q, want %q", tc.in, tc.room, got, tc.want)
		}
	}
}

func TestFenceAcross(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ in, closer, opener string }{
		{"plain text", "", ""},
		{"```go\nfunc f() {", "\n``` ", "```go\n"},
		{"```go\nx\n```\nafter", "", ""},
		{"````\ncode\n", "````", "````\n"},
		{"text\n  ```py\nprint(1)\n", "```", "```py\n"},
		{"```\n``` not a closer\n", "```", "```\n"},
	} {
		closer, opener := fenceAcross(tc.in)
		if closer != tc.closer || opener != tc.opener {
			t.Errorf("fenceAcross(%q) = %q, %q; want %q, %q", tc.in, closer, opener, tc.closer, tc.opener)
		}
	}
}
