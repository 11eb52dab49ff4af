package format

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// splitCases are checked against every property of Split (checkSplit) and
// seed the fuzz targets.
var splitCases = []struct {
	name  string
	text  string
	limit int
	want  []string // nil: only the properties are checked
}{
	{name: "empty", text: "", limit: 2000, want: []string{""}},
	{name: "exactly at limit", text: strings.Repeat("a", 2000), limit: 2000, want: []string{strings.Repeat("a", 2000)}},
	{
		name: "limit plus one, hard cut", text: strings.Repeat("a", 2001), limit: 2000,
		want: []string{strings.Repeat("a", 2000), "a"},
	},
	{
		name: "limit plus one at a word", text: strings.Repeat("abcd ", 400) + "x", limit: 2000,
		want: []string{strings.Repeat("abcd ", 400), "x"},
	},
	{
		name: "paragraph before line", text: "first paragraph\n\nsecond line\nthird line that is long", limit: 40,
		want: []string{"first paragraph\n\n", "second line\nthird line that is long"},
	},
	{
		name: "line when no paragraph", text: "one line here\ntwo line here\nthree line here", limit: 30,
		want: []string{"one line here\ntwo line here\n", "three line here"},
	},
	{
		name: "sentence before word", text: "This is one. This is two and then some more words", limit: 30,
		want: []string{"This is one. This is two and ", "then some more words"},
	},
	{
		name: "sentence", text: "Short one here. And another sentence goes on", limit: 24,
		want: []string{"Short one here. ", "And another sentence ", "goes on"},
	},
	{
		name: "single very long word", text: strings.Repeat("x", 50), limit: 16,
		want: []string{strings.Repeat("x", 16), strings.Repeat("x", 16), strings.Repeat("x", 16), "xx"},
	},
	{
		name: "limit clamped to 16", text: strings.Repeat("y", 20), limit: 3,
		want: []string{strings.Repeat("y", 16), "yyyy"},
	},
	{
		name: "CJK splits on full stop", text: "这是第一句话。这是第二句话。这是第三句话。", limit: 16,
		want: []string{"这是第一句话。这是第二句话。", "这是第三句话。"},
	},
	{
		name: "CJK without punctuation hard cut", text: strings.Repeat("长", 40), limit: 16,
		want: []string{strings.Repeat("长", 16), strings.Repeat("长", 16), strings.Repeat("长", 8)},
	},
	{
		name: "emoji ZWJ sequence kept whole", text: strings.Repeat("a", 14) + "👩\u200d👩\u200d👧" + "bbb", limit: 16,
		want: []string{strings.Repeat("a", 14), "👩\u200d👩\u200d👧bbb"},
	},
	{
		name: "flag pair kept whole", text: strings.Repeat("a", 15) + "🇫🇷" + "bb", limit: 16,
		want: []string{strings.Repeat("a", 15), "🇫🇷bb"},
	},
	{
		name: "combining accent kept", text: strings.Repeat("a", 15) + "e\u0301z", limit: 16,
		want: []string{strings.Repeat("a", 15), "e\u0301z"},
	},
	{
		name: "windows newlines", text: "line one is here\r\nline two is here\r\nline three", limit: 20,
		want: []string{"line one is here\r\n", "line two is here\r\n", "line three"},
	},
	{
		name: "code fence with language", text: "```python\nprint(1)\nprint(2)\nprint(3)\n```\n", limit: 32,
		want: []string{"```python\nprint(1)\nprint(2)\n```", "```python\nprint(3)\n```\n"},
	},
	{
		name: "windows newlines in a fence", text: "```go\r\nx := 1\r\ny := 2\r\nz := 3\r\n```\r\n", limit: 26,
		want: []string{"```go\r\nx := 1\r\ny := 2\r\n```", "```go\nz := 3\r\n```\r\n"},
	},
	{
		name: "nested-looking backticks", text: "````md\n```go\nx := 1\n```\nmore text\n````\nafter", limit: 30,
		want: []string{"````md\n```go\nx := 1\n```\n````", "````md\nmore text\n````\nafter"},
	},
	{
		name: "inline triple backticks are no fence", text: "use ```go to open a block and ``` to close it", limit: 24,
		want: []string{"use ```go to open a ", "block and ``` to close ", "it"},
	},
	{
		name: "cut before a fence", text: "Intro that is long enough.\n```\ncode line one\ncode line two\n```\n", limit: 40,
		want: []string{"Intro that is long enough.\n", "```\ncode line one\ncode line two\n```\n"},
	},
	{
		name: "hard cut inside a long code line", text: "```\n" + strings.Repeat("z", 30) + "\n```", limit: 20,
		want: []string{"```\n" + strings.Repeat("z", 11) + "\n``` ", "```\n" + strings.Repeat("z", 11) + "\n``` ", "```\n" + strings.Repeat("z", 8) + "\n```"},
	},
	{name: "boundary inside a code fence at 2000", text: longFenceReply(), limit: 2000},
	{name: "code block bigger than several parts", text: "```rust\n" + codeLines(300) + "```", limit: 500},
	{name: "unclosed fence at the end", text: "Look:\n```sh\n" + codeLines(40), limit: 200},
	{name: "many blank lines", text: "a" + strings.Repeat("\n", 60) + "b", limit: 20},
	{name: "indented fence in a list", text: "1. Step:\n   ```bash\n" + codeLines(20) + "   ```\n2. Done", limit: 120},
}

// codeLines returns n lines of Go-looking code.
func codeLines(n int) string {
	var b strings.Builder
	for i := range n {
		b.WriteString("\tfmt.Println(\"line\", ")
		b.WriteString(strings.Repeat("x", i%7))
		b.WriteString(")\n")
	}
	return b.String()
}

// longFenceReply is a realistic reply whose 2000th rune falls inside a code
// fence.
func longFenceReply() string {
	return "Here is the program you asked for.\n\n```go\npackage main\n\n" + codeLines(80) + "```\n\nRun it with `go run .`."
}

func TestSplitCases(t *testing.T) {
	t.Parallel()
	for _, tc := range splitCases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			parts := checkSplit(t, tc.text, tc.limit)
			if tc.want != nil {
				if diff := cmp.Diff(tc.want, parts); diff != "" {
					t.Errorf("Split(%q, %d) mismatch (-want +got):\n%s", tc.text, tc.limit, diff)
				}
			}
		})
	}
}

func TestSplitFenceAt2000(t *testing.T) {
	t.Parallel()
	text := longFenceReply()
	if RuneLen(text) <= 2000 || !endsInFence(truncateRunes(text, 2000)) {
		t.Fatalf("fixture: want the 2000th rune inside the fence, text has %d runes", RuneLen(text))
	}
	parts := checkSplit(t, text, 2000)
	if len(parts) != 2 {
		t.Fatalf("got %d parts, want 2: %q", len(parts), parts)
	}
	if !strings.HasSuffix(parts[0], "\n```") || !strings.HasPrefix(parts[1], "```go\n\tfmt.Println") {
		t.Errorf("fence not closed and reopened with its language:\n%s\n----\n%s", parts[0], parts[1])
	}
	if !strings.HasSuffix(parts[1], "Run it with `go run .`.") {
		t.Errorf("last part = %q", parts[1])
	}
}

func TestSplitCodeOnly(t *testing.T) {
	t.Parallel()
	text := "```rust\n" + codeLines(300) + "```"
	parts := checkSplit(t, text, 500)
	if len(parts) < 5 {
		t.Fatalf("got %d parts, want several", len(parts))
	}
	for i, p := range parts {
		if !strings.HasPrefix(p, "```rust\n") || !strings.HasSuffix(p, "\n```") {
			t.Errorf("part %d is not a whole rust block: %q", i, p)
		}
		if i < len(parts)-1 && RuneLen(p) < 400 {
			t.Errorf("part %d is short (%d runes): cuts should use the room", i, RuneLen(p))
		}
	}
}

func TestJoinWithoutAddedLines(t *testing.T) {
	t.Parallel()
	// A part that merely ends with a real closing fence is not stripped.
	parts := []string{"```\ncode\n```\n\n", "after"}
	if got, want := Join(parts), "```\ncode\n```\n\nafter"; got != want {
		t.Errorf("Join(%q) = %q, want %q", parts, got, want)
	}
}
