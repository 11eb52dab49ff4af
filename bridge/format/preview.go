package format

import (
	"strings"
	"unicode/utf8"
)

// Preview renders an interim (still streaming) text for display. It heals
// half-written Markdown (see Heal) and, if the result is longer than limit
// runes, keeps the beginning of the text with a trailing " …": the cut is at
// a word boundary when one is within 40 runes, and a code fence open at the
// cut is closed (the "…" then goes on its own line after the fence; after a
// table row, after a blank line, so as not to join the table). The result
// never exceeds limit runes; limit <= 0 gives "". Preview allocates nothing
// for text within limit that needs no healing. The final render is never
// previewed: it is the raw text (see Split).
func Preview(text string, limit int) string {
	if limit <= 0 {
		return ""
	}
	if RuneLen(text) <= limit {
		h, _ := heal(text)
		if h == text || RuneLen(h) <= limit {
			return h
		}
	}
	budget := limit - 2 // " …"
	for try := 0; budget > 0; try++ {
		h, closed := heal(cutHead(text, budget))
		h = strings.TrimRight(h, trailingSpace)
		ellipsis := " …"
		switch last := h[strings.LastIndexByte(h, '\n')+1:]; {
		case closed || fenceish(last):
			ellipsis = "\n…" // " …" would spoil a fence line
		case isTableRow(last):
			ellipsis = "\n\n…" // a line right after a table would join it
		}
		out := h + ellipsis
		over := RuneLen(out) - limit
		if over <= 0 {
			return out
		}
		if try >= 4 {
			over = max(over, budget/4) // converge fast on odd input
		}
		budget -= over
	}
	return truncateRunes(text, limit)
}

// cutHead returns at most n runes from the start of text, cut at a word
// boundary when one is within reach, else where no grapheme breaks.
func cutHead(text string, n int) string {
	e := 0
	for i := 0; i < n && e < len(text); i++ {
		_, size := utf8.DecodeRuneInString(text[e:])
		e += size
	}
	if e >= len(text) {
		return text
	}
	near := min(40, n/2)
	q := e
	for range near {
		if c := text[q]; c == ' ' || c == '\n' || c == '\t' {
			return text[:q]
		}
		_, size := utf8.DecodeLastRuneInString(text[:q])
		q -= size
		if q <= 0 {
			break
		}
	}
	for q = e; q > 0 && !graphemeSafe(text, q) && e-q < 32; {
		_, size := utf8.DecodeLastRuneInString(text[:q])
		q -= size
	}
	if q <= 0 || !graphemeSafe(text, q) {
		q = e
	}
	return text[:q]
}

// truncateRunes returns the first n runes of s.
func truncateRunes(s string, n int) string {
	e := 0
	for i := 0; i < n && e < len(s); i++ {
		_, size := utf8.DecodeRuneInString(s[e:])
		e += size
	}
	return s[:e]
}
