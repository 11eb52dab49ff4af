package format

import (
	"strings"
	"testing"
)

func TestPreview(t *testing.T) {
	t.Parallel()
	code := "```go\n" + strings.Repeat("fmt.Println(1)\n", 5)
	tests := []struct {
		name  string
		in    string
		limit int
		want  string
	}{
		{"short healed", "Here is **bold", 100, "Here is **bold**"},
		{"short unchanged", "plain", 5, "plain"},
		{"cut at a word", "hello world this is long text", 16, "hello world …"},
		{"cut heals bold", "Here is **bold text that keeps going on", 20, "Here is **bold** …"},
		{"cut inside a fence", code, 40, "```go\nfmt.Println(1)\n```\n…"},
		{"CJK hard cut", strings.Repeat("长", 30), 16, strings.Repeat("长", 14) + " …"},
		{"long word hard cut", strings.Repeat("x", 30), 10, "xxxxxxxx …"},
		{"table row cut", "| a | b |\n|---|---|\n| 1 | 2 |\n| 3 | 4 |", 20, "| a | b |\n|---|--\n\n…"},
		{"emoji kept whole", strings.Repeat("a", 12) + "👩\u200d👩\u200d👧" + "bbbbbbbb", 16, strings.Repeat("a", 12) + " …"},
		{"tiny limit", "abc", 2, "ab"},
		{"zero limit", "abc", 0, ""},
		{"negative limit", "abc", -5, ""},
		{"fence held back", "Answer:\n```py", 50, "Answer:\n"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got := Preview(tc.in, tc.limit)
			if got != tc.want {
				t.Errorf("Preview(%q, %d) = %q, want %q", tc.in, tc.limit, got, tc.want)
			}
			if tc.limit > 0 && RuneLen(got) > tc.limit {
				t.Errorf("Preview(%q, %d) has %d runes", tc.in, tc.limit, RuneLen(got))
			}
		})
	}
}

func TestPreviewLongReplyStaysBalanced(t *testing.T) {
	t.Parallel()
	text := longFenceReply()
	for limit := 16; limit <= RuneLen(text)+10; limit += 37 {
		got := Preview(text, limit)
		if RuneLen(got) > limit {
			t.Fatalf("Preview(_, %d) has %d runes", limit, RuneLen(got))
		}
		if endsInFence(got) {
			t.Fatalf("Preview(_, %d) ends inside a fence: %q", limit, got)
		}
	}
}

//nolint:paralleltest // AllocsPerRun counts allocations process-wide.
func TestPreviewNoAllocWhenClean(t *testing.T) {
	text := strings.Repeat("A clean sentence with nothing to heal. ", 50)
	allocs := testing.AllocsPerRun(100, func() { _ = Preview(text, 4000) })
	if allocs != 0 {
		t.Errorf("Preview of clean text allocated %v times, want 0", allocs)
	}
}
