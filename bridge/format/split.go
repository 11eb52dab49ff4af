package format

import "strings"

// MinLimit is the smallest limit Split accepts; smaller limits are raised to
// it.
const MinLimit = 16

// Split splits a finished reply into parts of at most limit runes (Unicode
// code points) each, for posting as consecutive messages. Text within limit
// is returned as one part, unchanged. A longer text is cut, for each part, at
// the best boundary far enough into the room left: a paragraph break (after
// a blank line, before a code fence or after one) in its last two thirds;
// else, in its second half, a line break, a sentence end (". ", "! ", "? ",
// or 。！？ without a space), or a word boundary (after spaces), the last two
// only outside code; failing that, the best boundary anywhere; and last a
// hard cut, which never splits a UTF-8 sequence, a "\r\n" or (as far as
// practical) an emoji or combining sequence. The whitespace at a cut stays at
// the end of the part before it: chat platforms do not render trailing
// whitespace, and callers may trim it.
//
// A cut never leaves a part inside an unbalanced Markdown code fence: when a
// cut falls inside a ``` fence, the part is closed with a fence line and the
// next part reopens it with the same info string ("```go"); the added lines
// count toward limit, and Join removes them again. (When a part is cut in
// the middle of a code line, the added closing line ends with one space,
// which renders as nothing, so that Join can tell the two cases apart.) A
// text that ends inside an unclosed fence keeps it open in its last part.
// Balance is guaranteed when every run of three or more backticks starts a
// line (after blanks) shorter than limit/4 runes, as in ordinary replies;
// with longer fence lines a cut may have to fall inside one, a fence may be
// reopened without its info string, or not at all. Limits below MinLimit are
// raised to MinLimit.
func Split(text string, limit int) []string {
	limit = max(limit, MinLimit)
	total := RuneLen(text)
	if total <= limit {
		return []string{text}
	}
	sp := newSplitter(text, limit)
	return sp.split(total)
}

// Join is the inverse of Split: it removes the fence lines Split added and
// concatenates the parts, giving back the original text exactly.
func Join(parts []string) string {
	var b strings.Builder
	reopened := false
	for i, part := range parts {
		if reopened {
			if j := strings.IndexByte(part, '\n'); j >= 0 {
				part = part[j+1:]
			}
		}
		reopened = false
		if i < len(parts)-1 {
			if body, ok := stripAddedCloser(part); ok {
				part, reopened = body, true
			}
		}
		b.WriteString(part)
	}
	return b.String()
}

// stripAddedCloser recognizes the fence line Split adds at the end of a part
// that is not the last one.
func stripAddedCloser(part string) (string, bool) {
	j := strings.LastIndexByte(part, '\n')
	if j < 0 || !looksLikeAddedCloser(part[j+1:]) {
		return part, false
	}
	if strings.HasSuffix(part, " ") {
		return part[:j], true // cut mid-line: the "\n" was added too
	}
	return part[:j+1], true
}

// looksLikeAddedCloser reports whether line has the shape of a closing fence
// line that Split adds: blanks, three or more backticks, at most one space.
func looksLikeAddedCloser(line string) bool {
	ind := leadingBlanks(line)
	n := backtickRun(line[ind:])
	rest := line[ind+n:]
	return n >= 3 && (rest == "" || rest == " ")
}
