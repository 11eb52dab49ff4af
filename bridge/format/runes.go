package format

import (
	"unicode"
	"unicode/utf8"
)

// RuneLen counts code points. An invalid UTF-8 byte counts as one, as
// utf8.RuneCountInString counts it.
func RuneLen(s string) int {
	return utf8.RuneCountInString(s)
}

const (
	zwj = '\u200d' // zero-width joiner, inside emoji sequences
	zws = '\u200b' // zero-width space, used to make mentions inert
)

// extendsPrevious reports whether r attaches to the rune before it, so that a
// cut just before r would break a grapheme (combining marks, variation
// selectors, emoji skin tones, keycaps, tags, the zero-width joiner).
func extendsPrevious(r rune) bool {
	switch {
	case r == zwj, r == '\u20e3':
		return true
	case r >= 0xfe00 && r <= 0xfe0f, r >= 0xe0100 && r <= 0xe01ef:
		return true
	case r >= 0x1f3fb && r <= 0x1f3ff, r >= 0xe0020 && r <= 0xe007f:
		return true
	}
	return r >= 0x300 && unicode.In(r, unicode.Mn, unicode.Me, unicode.Mc)
}

func isRegionalIndicator(r rune) bool { return r >= 0x1f1e6 && r <= 0x1f1ff }

// graphemeSafe reports whether cutting text at byte offset p keeps grapheme
// clusters and "\r\n" whole, as far as practical without full Unicode
// segmentation tables. p must be a rune boundary inside (0, len(text)).
func graphemeSafe(text string, p int) bool {
	prev, _ := utf8.DecodeLastRuneInString(text[:p])
	next, _ := utf8.DecodeRuneInString(text[p:])
	if prev == '\r' && next == '\n' {
		return false
	}
	if prev == zwj || extendsPrevious(next) {
		return false
	}
	if isRegionalIndicator(prev) && isRegionalIndicator(next) {
		// Flags are pairs: cut only after an even number of indicators.
		n := 0
		for q := p; q > 0; {
			r, size := utf8.DecodeLastRuneInString(text[:q])
			if !isRegionalIndicator(r) {
				break
			}
			n++
			q -= size
		}
		return n%2 == 0
	}
	return true
}

// isSpace reports whether b is a space or tab.
func isSpace(b byte) bool { return b == ' ' || b == '\t' }
