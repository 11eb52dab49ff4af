package format

import (
	"strings"
	"testing"
	"unicode/utf8"
)

// checkSplit asserts every property Split promises for text and limit.
func checkSplit(t *testing.T, text string, limit int) []string {
	t.Helper()
	parts := Split(text, limit)
	lim := max(limit, MinLimit)
	if len(parts) == 0 {
		t.Fatalf("Split(%q, %d) returned no parts", text, limit)
	}
	if RuneLen(text) <= lim && (len(parts) != 1 || parts[0] != text) {
		t.Fatalf("Split(%q, %d) = %q, want the text unchanged", text, limit, parts)
	}
	if got := Join(parts); got != text {
		t.Fatalf("Join(Split(%q, %d)) = %q\nparts: %q", text, limit, got, parts)
	}
	balanced, valid := fencesFit(text, lim), utf8.ValidString(text)
	for i, p := range parts {
		if n := RuneLen(p); n > lim || p == "" && text != "" {
			t.Fatalf("Split(%q, %d): part %d has %d runes: %q", text, limit, i, n, p)
		}
		if valid && !utf8.ValidString(p) {
			t.Fatalf("Split(%q, %d): part %d is invalid UTF-8: %q", text, limit, i, p)
		}
		if !balanced {
			continue
		}
		want := false
		if i == len(parts)-1 {
			want = endsInFence(text)
		}
		if endsInFence(p) != want {
			t.Fatalf("Split(%q, %d): part %d ends in fence = %v, want %v\nparts: %q", text, limit, i, !want, want, parts)
		}
	}
	return parts
}

// fencesFit reports whether text meets the condition under which Split
// guarantees balanced fences: every run of three or more backticks starts a
// line (after blanks) shorter than a quarter of limit.
func fencesFit(text string, limit int) bool {
	for line := range strings.Lines(text) {
		line = strings.TrimSuffix(line, "\n")
		rest := line
		if fenceish(line) {
			if RuneLen(line) >= minContent(limit) {
				return false
			}
			rest = line[leadingBlanks(line)+backtickRun(line[leadingBlanks(line):]):]
		}
		if strings.Contains(rest, "```") {
			return false
		}
	}
	return true
}

// maxFuzzLen bounds fuzz inputs: longer ones add no new paths, and the
// fuzzer takes minutes to minimize them.
const maxFuzzLen = 1024

func FuzzSplit(f *testing.F) {
	for _, tc := range splitCases {
		if len(tc.text) <= maxFuzzLen {
			f.Add(tc.text, uint16(tc.limit))
		}
	}
	f.Add("```go\nfunc main() {\n\tprintln(\"hi\")\n}\n```\n\nDone.", uint16(20))
	f.Add("a\r\nb\r\n\r\n```\r\ncode\r\n```\r\n", uint16(17))
	f.Add("👩\u200d👩\u200d👧\u200d👦🇫🇷🇩🇪 e\u0301 1\ufe0f\u20e3", uint16(16))
	f.Add("````md\n```go\nx\n```\n````\n", uint16(18))
	f.Fuzz(func(t *testing.T, text string, limit uint16) {
		if len(text) > maxFuzzLen {
			return
		}
		checkSplit(t, text, int(limit%700))
	})
}

func FuzzPreview(f *testing.F) {
	for _, tc := range splitCases {
		if len(tc.text) <= maxFuzzLen {
			f.Add(tc.text, uint16(tc.limit))
		}
	}
	f.Add("Here is **bold and `code", uint16(10))
	f.Add("| a | b |\n|--", uint16(40))
	f.Add("```py\nprint(1)\n``", uint16(12))
	f.Fuzz(func(t *testing.T, text string, limit uint16) {
		if len(text) > maxFuzzLen {
			return
		}
		lim := int(limit % 700)
		got := Preview(text, lim)
		if n := RuneLen(got); n > lim {
			t.Fatalf("Preview(%q, %d) = %q has %d runes", text, lim, got, n)
		}
		if utf8.ValidString(text) && !utf8.ValidString(got) {
			t.Fatalf("Preview(%q, %d) = %q is invalid UTF-8", text, lim, got)
		}
		if lim >= MinLimit && endsInFence(got) {
			t.Fatalf("Preview(%q, %d) = %q ends inside a fence", text, lim, got)
		}
		h := Heal(text)
		if utf8.ValidString(text) && !utf8.ValidString(h) {
			t.Fatalf("Heal(%q) = %q is invalid UTF-8", text, h)
		}
		if endsInFence(h) {
			t.Fatalf("Heal(%q) = %q ends inside a fence", text, h)
		}
		m := NeutralizeMentions(text)
		if NeutralizeMentions(m) != m {
			t.Fatalf("NeutralizeMentions(%q) is not idempotent", text)
		}
	})
}
