package format

import (
	"strings"
	"unicode/utf8"
)

// Boundary classes, best first.
const (
	classParagraph = iota
	classLine
	classSentence
	classWord
	numClasses
)

// minContent is the least room for text that fence lines added around a
// part must leave; a fence that would leave less is not reopened.
func minContent(limit int) int { return max(4, limit/4) }

type lineInfo struct {
	start, end int  // byte offsets of the line and of its "\n" (or len)
	fence      int  // index in splitter.fences of the fence open at the line start, or -1
	fenceish   bool // the line looks like a fence line
	blank      bool // the line holds only whitespace
	opens      bool // the line opens a fence
	closes     bool // the line closes a fence
}

// fenceInfo describes how a fence is closed and reopened at a cut. Its
// lines are built only when a cut needs them.
type fenceInfo struct {
	f          fence
	reopenable bool // false: the fence lines would leave too little room
	withInfo   bool // the reopening line repeats the info string
	reopenLen  int  // runes of the reopening line and its "\n"
	lenA, lenB int  // runes of the closing line after a "\n", and after a mid-line cut
}

// reopen returns the line, with its "\n", that reopens the fence.
func (fi *fenceInfo) reopen() string { return fi.f.openerLine(fi.withInfo) + "\n" }

// closer returns the line that closes the fence at a cut; afterNewline says
// whether the part ends with "\n". A closing line after a mid-line cut comes
// with its own "\n" and ends with a space, for Join.
func (fi *fenceInfo) closer(afterNewline bool) string {
	if afterNewline {
		return fi.f.closerLine()
	}
	return "\n" + fi.f.closerLine() + " "
}

type candidate struct{ p, runes, line, class int }

type splitter struct {
	text   string
	limit  int
	lines  []lineInfo
	fences []fenceInfo
	cands  []candidate
}

func newSplitter(text string, limit int) *splitter {
	sp := &splitter{text: text, limit: limit}
	sp.lines = make([]lineInfo, 0, strings.Count(text, "\n")+1)
	var sc fenceScanner
	cur := -1
	for start := 0; start < len(text); {
		end, next := nextLine(text, start)
		l := text[start:end]
		sp.lines = append(sp.lines, lineInfo{
			start: start, end: end, fence: cur,
			fenceish: fenceish(l), blank: strings.TrimSpace(l) == "",
		})
		was := sc.open
		sc.line(text, start, end, next)
		switch {
		case sc.open && !was:
			sp.fences = append(sp.fences, sp.newFenceInfo(sc.f))
			cur = len(sp.fences) - 1
			sp.lines[len(sp.lines)-1].opens = true
		case !sc.open && was:
			cur = -1
			sp.lines[len(sp.lines)-1].closes = true
		}
		start = next
	}
	return sp
}

func (sp *splitter) newFenceInfo(f fence) fenceInfo {
	fi := fenceInfo{f: f, lenA: RuneLen(f.indent) + f.run}
	fi.lenB = fi.lenA + 2
	room := sp.limit - fi.lenB - minContent(sp.limit)
	if n := fi.lenA + RuneLen(f.info) + 1; n <= room {
		fi.reopenable, fi.withInfo, fi.reopenLen = true, true, n
	} else if n := fi.lenA + 1; n <= room {
		fi.reopenable, fi.reopenLen = true, n
	}
	return fi
}

func (sp *splitter) split(total int) []string {
	var parts []string
	s, li, entering, done := 0, 0, -1, 0
	for s < len(sp.text) {
		reopen, budget := "", sp.limit
		if entering >= 0 {
			reopen = sp.fences[entering].reopen()
			budget -= sp.fences[entering].reopenLen
		}
		if total-done <= budget {
			parts = append(parts, reopen+sp.text[s:])
			break
		}
		p, pl, c := sp.cut(s, li, reopen != "", budget)
		closer := ""
		entering = -1
		if fi := sp.lines[pl].fence; fi >= 0 && sp.fences[fi].reopenable {
			closer = sp.fences[fi].closer(sp.text[p-1] == '\n')
			entering = fi
		}
		parts = append(parts, reopen+sp.text[s:p]+closer)
		s, li, done = p, pl, done+c
	}
	return parts
}

// cut chooses where the part starting at byte s (in line li) ends. It
// returns the byte offset, the line it falls in and the runes taken.
func (sp *splitter) cut(s, li int, reopened bool, budget int) (p, pl, c int) {
	text, lines := sp.text, sp.lines
	sp.cands = sp.cands[:0]
	p, pl = s, li
	for p < len(text) && c < budget {
		_, size := utf8.DecodeRuneInString(text[p:])
		p += size
		c++
		for pl+1 < len(lines) && lines[pl+1].start <= p {
			pl++
		}
		if p < len(text) {
			if class, ok := sp.classify(p, pl); ok {
				sp.cands = append(sp.cands, candidate{p: p, runes: c, line: pl, class: class})
			}
		}
	}
	// p, pl, c now describe the furthest position within budget.
	half := budget / 2
	for pass := range 2 {
		far := pass == 0
		for class := range numClasses {
			minRunes := 1
			if far && class == classParagraph {
				minRunes = budget / 3
			} else if far {
				minRunes = half
			}
			for k := len(sp.cands) - 1; k >= 0; k-- {
				cd := sp.cands[k]
				if cd.runes < minRunes {
					break
				}
				if far && class > classLine && sp.lines[cd.line].fence >= 0 {
					continue // mid-line in code: only when no line break will do
				}
				if cd.class == class && sp.valid(s, cd.p, cd.line, cd.runes, reopened, budget, levelStrict) {
					return cd.p, cd.line, cd.runes
				}
			}
		}
	}
	// Hard cut: the furthest position that keeps graphemes and fence lines
	// whole, else fence lines, else the furthest that fits at all, else one
	// rune.
	for level := range numLevels {
		for q, ql, qc := p, pl, c; qc >= 1; {
			if q < len(text) && sp.valid(s, q, ql, qc, reopened, budget, level) {
				return q, ql, qc
			}
			_, size := utf8.DecodeLastRuneInString(text[:q])
			q -= size
			qc--
			for ql > 0 && lines[ql].start > q {
				ql--
			}
		}
	}
	_, size := utf8.DecodeRuneInString(text[s:])
	p, pl = s+size, li
	for pl+1 < len(lines) && lines[pl+1].start <= p {
		pl++
	}
	return p, pl, 1
}

// classify tells whether a cut at byte p (in line l) is a boundary, and of
// which class.
func (sp *splitter) classify(p, l int) (int, bool) {
	text := sp.text
	prev, next := text[p-1], text[p]
	switch {
	case prev == '\n':
		if sp.blockBoundary(l) {
			return classParagraph, true
		}
		return classLine, true
	case isSpace(prev) && !isSpace(next) && next != '\n' && next != '\r':
		q := p - 1
		start := sp.lines[l].start
		for q > start && isSpace(text[q-1]) {
			q--
		}
		if q == start {
			return 0, false // indentation, not a word boundary
		}
		if endsSentence(text[start:q], false) {
			return classSentence, true
		}
		return classWord, true
	case prev >= utf8.RuneSelf && next != ' ' && next != '\t' && next != '\n' && next != '\r':
		if endsSentence(text[:p], true) {
			return classSentence, true
		}
	}
	return 0, false
}

// blockBoundary reports whether the start of line l (l > 0) separates
// blocks: it follows a blank line, opens a fence or follows a closing one.
func (sp *splitter) blockBoundary(l int) bool {
	lines := sp.lines
	if lines[l-1].blank {
		return true
	}
	return lines[l].opens || lines[l-1].closes
}

// endsSentence reports whether s ends with a sentence terminator, allowing
// closing quotes and brackets after it. cjkOnly limits it to 。！？, which
// need no space after them.
func endsSentence(s string, cjkOnly bool) bool {
	s = strings.TrimRight(s, "\"')]}”’」』")
	r, _ := utf8.DecodeLastRuneInString(s)
	switch r {
	case '。', '！', '？':
		return true
	case '.', '!', '?':
		return !cjkOnly
	}
	return false
}

// Validity levels of a cut, strictest first.
const (
	levelStrict = iota // whole graphemes, whole fence lines, no empty code block
	levelFences        // whole fence lines
	levelFits          // only fits and can be told apart by Join
	numLevels
)

// valid reports whether a part from s to p (c runes, p in line l) fits the
// budget with the closing fence line it needs and can be told apart by
// Join, and whether it meets the rules of level.
func (sp *splitter) valid(s, p, l, c int, reopened bool, budget, level int) bool {
	text := sp.text
	added := false
	if fi := sp.lines[l].fence; fi >= 0 && sp.fences[fi].reopenable {
		added = true
		if text[p-1] == '\n' {
			c += sp.fences[fi].lenA
		} else {
			c += sp.fences[fi].lenB
		}
	}
	if c > budget {
		return false
	}
	if !added {
		// The part's last line must not pass for a closing line Split added.
		last := ""
		if ls := sp.lines[l].start; ls > s {
			last = text[ls:p]
		} else if reopened {
			last = text[s:p] // preceded by the reopening line's "\n"
		}
		if looksLikeAddedCloser(last) {
			return false
		}
	}
	switch {
	case level == levelFits:
		return true
	case text[p-1] == '\n':
		// A part or a reopened fence holding no code is of no use.
		emptyBlock := l > 0 && sp.lines[l-1].opens || sp.lines[l].closes
		return level != levelStrict || !added || !emptyBlock
	case sp.lines[l].fenceish || fenceish(text[p:sp.lines[l].end]):
		return false
	}
	return level != levelStrict || graphemeSafe(text, p)
}
