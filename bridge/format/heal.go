package format

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// Heal closes half-written Markdown at the end of an interim (still
// streaming) text so that it renders cleanly:
//   - an unclosed ``` fence is closed (a half-typed closing line is dropped
//     first); a fence whose opening line has no content yet is held back;
//   - in the last paragraph outside fences, an unclosed `code` span, **, __
//     or ~~ is closed, or removed when nothing follows it;
//   - a table header (a line starting with "|") whose separator line has not
//     arrived, or has not arrived complete, is held back.
//
// Text that needs none of this is returned unchanged. Heal is for interim
// renders only: the final render is the raw text.
func Heal(text string) string {
	out, _ := heal(text)
	return out
}

// heal is Heal, also reporting whether it closed a code fence.
func heal(text string) (string, bool) {
	var sc fenceScanner
	blockStart := 0 // start of the last paragraph outside fences
	for start := 0; start < len(text); {
		end, next := nextLine(text, start)
		was := sc.open
		sc.line(text, start, end, next)
		if was && !sc.open || !sc.open && isBlankRun(trimCR(text[start:end])) {
			blockStart = next
		}
		start = next
	}
	if sc.open {
		if sc.openEnd >= len(text) {
			out, _ := heal(text[:sc.openAt]) // nothing inside yet: hold the fence back
			return out, false
		}
		body, sep := text, ""
		if ls := strings.LastIndexByte(body, '\n') + 1; ls >= sc.openEnd {
			last := trimCR(body[ls:])
			ind := leadingBlanks(last)
			if n := backtickRun(last[ind:]); n > 0 && ind+n == len(last) {
				body = body[:ls] // a closing line being typed
			}
		}
		if !strings.HasSuffix(body, "\n") {
			sep = "\n"
		}
		return body + sep + sc.f.closerLine(), true
	}
	block := holdBackTable(text[blockStart:])
	var buf [16]byte
	e, cut, closers := healInline(block, buf[:0])
	if len(closers) == 0 && cut == len(text)-blockStart {
		return text, false
	}
	return text[:blockStart] + block[:e] + string(closers) + block[e:cut], false
}

// holdBackTable drops a trailing table header whose separator line is
// missing or incomplete.
func holdBackTable(block string) string {
	end := len(block)
	if end > 0 && block[end-1] == '\n' {
		end--
	}
	lastStart := strings.LastIndexByte(block[:end], '\n') + 1
	last := trimCR(block[lastStart:end])
	if !isTableRow(last) {
		return block
	}
	prevStart, prev := lineBefore(block, lastStart)
	if lastStart == 0 || !isTableRow(prev) {
		if isDelimRow(last) && strings.Contains(last, "-") {
			return block // a lone separator-like line is no table header
		}
		return block[:lastStart] // a header with no separator yet
	}
	if !isDelimRow(last) || isDelimRow(prev) {
		return block
	}
	if prevStart > 0 {
		if _, pp := lineBefore(block, prevStart); isTableRow(pp) {
			return block // prev is a body row of an existing table
		}
	}
	if len(tableCells(last)) != len(tableCells(prev)) || !completeDelim(last) {
		return block[:prevStart] // separator still being written
	}
	return block
}

// lineBefore returns the start and text of the line that ends just before
// byte start (which must follow a "\n").
func lineBefore(block string, start int) (int, string) {
	if start == 0 {
		return 0, ""
	}
	ps := strings.LastIndexByte(block[:start-1], '\n') + 1
	return ps, trimCR(block[ps : start-1])
}

// isTableRow reports whether line looks like a table row (starts with "|").
func isTableRow(line string) bool {
	return strings.HasPrefix(line[leadingBlanks(line):], "|")
}

// isDelimRow reports whether line holds only table separator characters.
func isDelimRow(line string) bool {
	return strings.Trim(line, "|-: \t") == ""
}

// completeDelim reports whether every cell of a separator row has a dash.
func completeDelim(line string) bool {
	for _, c := range tableCells(line) {
		if !strings.Contains(c, "-") {
			return false
		}
	}
	return true
}

// tableCells splits a table row into cells.
func tableCells(line string) []string {
	line = strings.TrimSpace(line)
	line = strings.TrimPrefix(line, "|")
	line = strings.TrimSuffix(line, "|")
	return strings.Split(line, "|")
}

// inlineDelim is an open inline delimiter.
type inlineDelim struct {
	pos, run int  // byte offset and length of the opening run
	ch       byte // '`', '*', '_' or '~'
	n        int  // length of the closing run to append
}

const trailingSpace = " \t\r\n"

// healInline closes or removes unclosed code spans, **, __ and ~~ in the
// last paragraph b. The healed paragraph is b[:e] + closers + b[e:cut];
// closers is appended to buf.
func healInline(b string, buf []byte) (e, cut int, closers []byte) {
	var stack [8]inlineDelim
	st := stack[:0]
	for i := 0; i < len(b); {
		c := b[i]
		switch c {
		case '\\':
			i += 2
			continue
		case '`':
			n := backtickRun(b[i:])
			if j := findCodeClose(b, i+n, n); j >= 0 {
				i = j + n
				continue
			}
			st = append(st, inlineDelim{pos: i, run: n, ch: '`', n: n})
			i = len(b) // the rest is code
			continue
		case '*', '_', '~':
			n := 1
			for i+n < len(b) && b[i+n] == c {
				n++
			}
			if n == 2 || n == 3 && c != '~' {
				st = emphasis(b, i, n, c, st)
			}
			i += n
			continue
		}
		i++
	}
	cut = len(b)
	e = len(strings.TrimRight(b, trailingSpace))
	closers = buf
	for k := len(st) - 1; k >= 0; k-- {
		d := st[k]
		if len(closers) == 0 && d.pos+d.run >= e && !opensFence(b[:d.pos]) {
			cut = d.pos // nothing after it yet: remove it
			e = len(strings.TrimRight(b[:cut], trailingSpace))
			continue
		}
		if d.ch == '`' && len(closers) == 0 && e > 0 && b[e-1] == '`' {
			closers = append(closers, ' ')
		}
		for range d.n {
			closers = append(closers, d.ch)
		}
	}
	return e, cut, closers
}

// opensFence reports whether the last line of s opens a code fence (then a
// backtick that followed it must stay).
func opensFence(s string) bool {
	_, ok := parseOpener(s[strings.LastIndexByte(s, '\n')+1:])
	return ok
}

// emphasis handles a run of n (2 or 3) delimiter characters c at byte i.
func emphasis(b string, i, n int, c byte, st []inlineDelim) []inlineDelim {
	prev, next := ' ', ' '
	if i > 0 {
		prev, _ = utf8.DecodeLastRuneInString(b[:i])
	}
	atEnd := i+n >= len(b)
	if !atEnd {
		next, _ = utf8.DecodeRuneInString(b[i+n:])
	}
	left := !atEnd && !unicode.IsSpace(next)
	right := i > 0 && !unicode.IsSpace(prev)
	if c == '_' {
		left = left && !isAlnum(prev)
		right = right && !isAlnum(next)
	}
	if right {
		for k := len(st) - 1; k >= 0; k-- {
			if st[k].ch == c {
				return st[:k]
			}
		}
	}
	if left || atEnd {
		st = append(st, inlineDelim{pos: i, run: n, ch: c, n: 2})
	}
	return st
}

func isAlnum(r rune) bool { return unicode.IsLetter(r) || unicode.IsDigit(r) }

// findCodeClose finds a run of exactly n backticks at or after from.
func findCodeClose(b string, from, n int) int {
	for from < len(b) {
		j := strings.IndexByte(b[from:], '`')
		if j < 0 {
			return -1
		}
		j += from
		m := backtickRun(b[j:])
		if m == n {
			return j
		}
		from = j + m
	}
	return -1
}
