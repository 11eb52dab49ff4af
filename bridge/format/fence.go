package format

import "strings"

// fence is an open Markdown code fence.
type fence struct {
	indent string // spaces and tabs before the backticks of the opening line
	run    int    // number of backticks
	info   string // info string (language), trimmed
}

// closerLine is the line that closes f.
func (f fence) closerLine() string {
	return f.indent + strings.Repeat("`", f.run)
}

// openerLine is the line that reopens f, with or without its info string.
func (f fence) openerLine(withInfo bool) string {
	if withInfo && f.info != "" {
		return f.indent + strings.Repeat("`", f.run) + f.info
	}
	return f.closerLine()
}

// trimCR drops one trailing carriage return (Windows line ends).
func trimCR(line string) string {
	return strings.TrimSuffix(line, "\r")
}

// leadingBlanks returns the length of the run of spaces and tabs at the
// start of s.
func leadingBlanks(s string) int {
	i := 0
	for i < len(s) && (s[i] == ' ' || s[i] == '\t') {
		i++
	}
	return i
}

// backtickRun returns the length of the run of backticks at the start of s.
func backtickRun(s string) int {
	i := 0
	for i < len(s) && s[i] == '`' {
		i++
	}
	return i
}

// isBlankRun reports whether s holds only spaces and tabs.
func isBlankRun(s string) bool {
	return leadingBlanks(s) == len(s)
}

// fenceish reports whether a line starts, after blanks, with three
// backticks: an opening or closing fence line, or something that looks like
// one when cut.
func fenceish(line string) bool {
	return strings.HasPrefix(line[leadingBlanks(line):], "```")
}

// parseOpener reports whether line (without its "\n") opens a fence.
func parseOpener(line string) (fence, bool) {
	line = trimCR(line)
	ind := leadingBlanks(line)
	n := backtickRun(line[ind:])
	if n < 3 {
		return fence{}, false
	}
	rest := line[ind+n:]
	if strings.IndexByte(rest, '`') >= 0 {
		return fence{}, false
	}
	return fence{indent: line[:ind], run: n, info: strings.TrimSpace(rest)}, true
}

// closes reports whether line (without its "\n") closes f.
func (f fence) closes(line string) bool {
	line = trimCR(line)
	ind := leadingBlanks(line)
	n := backtickRun(line[ind:])
	return n >= f.run && isBlankRun(line[ind+n:])
}

// fenceScanner walks text line by line and tracks the open fence.
type fenceScanner struct {
	open    bool
	f       fence
	openAt  int // byte offset of the opening line of the open fence
	openEnd int // byte offset just after that line's "\n" (or len(text))
}

// line feeds one line starting at byte offset start and ending at end
// (exclusive of "\n"; next is the offset after the "\n").
func (s *fenceScanner) line(text string, start, end, next int) {
	l := text[start:end]
	if s.open {
		if s.f.closes(l) {
			s.open = false
		}
		return
	}
	if f, ok := parseOpener(l); ok {
		s.open, s.f, s.openAt, s.openEnd = true, f, start, next
	}
}

// nextLine returns the end of the line starting at byte start (the offset
// of its "\n", or len(text)) and the start of the next line.
func nextLine(text string, start int) (end, next int) {
	end = strings.IndexByte(text[start:], '\n')
	if end < 0 {
		return len(text), len(text)
	}
	return start + end, start + end + 1
}

// scanFences runs a fenceScanner over all of text.
func scanFences(text string) fenceScanner {
	var s fenceScanner
	for start := 0; start < len(text); {
		end, next := nextLine(text, start)
		s.line(text, start, end, next)
		start = next
	}
	return s
}

// endsInFence reports whether text, read on its own, ends inside an open
// code fence.
func endsInFence(text string) bool {
	s := scanFences(text)
	return s.open
}
