package secondme

import (
	"encoding/json"
	"unicode/utf16"
	"unicode/utf8"
)

// The hot path of the stream parser: most data: lines are
// {"choices":[{"delta":{"content":"…"}}]}. fastDelta recognises that shape
// (any whitespace, extra keys with any value, one choice) without
// encoding/json. Whenever the line is anything else, or could be read
// differently by encoding/json (case-folded or duplicate keys, escaped or
// non-ASCII keys, invalid UTF-8, lone surrogates, deep nesting), it
// reports !ok and the caller falls back to slowDelta, which is the
// reference. FuzzFastDelta checks that the two agree whenever fastDelta
// answers.
//
// The key loops in fastDelta, choices and delta are near-copies on
// purpose: with constant keys foldEq stays inlined and jscan stays on the
// stack. Merged (table- or callback-driven) versions measured 7–40% slower
// on BenchmarkParser, or allocated; keep them separate.

// fastDelta returns the raw (still escaped) content string of
// choices[0].delta.content and whether it contains escapes.
func fastDelta(b []byte) (raw []byte, esc bool, ok bool) {
	s := jscan{b: b}
	if !s.eat('{') {
		return nil, false, false
	}
	found := false
	for {
		k, kok := s.key()
		if !kok {
			return nil, false, false
		}
		switch {
		case string(k) == "choices":
			if found {
				return nil, false, false
			}
			if raw, esc, ok = s.choices(); !ok {
				return nil, false, false
			}
			found = true
		case foldEq(k, "choices") || foldEq(k, "content"):
			return nil, false, false
		default:
			if !s.skip(0) {
				return nil, false, false
			}
		}
		if s.eat(',') {
			continue
		}
		if s.eat('}') {
			break
		}
		return nil, false, false
	}
	s.ws()
	if s.i != len(b) || !found {
		return nil, false, false
	}
	return raw, esc, true
}

// choices parses [{ …, "delta": {…}, … }] with exactly one element.
func (s *jscan) choices() (raw []byte, esc bool, ok bool) {
	if !s.eat('[') || !s.eat('{') {
		return nil, false, false
	}
	found := false
	for {
		k, kok := s.key()
		if !kok {
			return nil, false, false
		}
		switch {
		case string(k) == "delta":
			if found {
				return nil, false, false
			}
			if raw, esc, ok = s.delta(); !ok {
				return nil, false, false
			}
			found = true
		case foldEq(k, "delta") || foldEq(k, "message"):
			return nil, false, false
		default:
			if !s.skip(0) {
				return nil, false, false
			}
		}
		if s.eat(',') {
			continue
		}
		if s.eat('}') {
			break
		}
		return nil, false, false
	}
	if !found || !s.eat(']') {
		return nil, false, false
	}
	return raw, esc, true
}

// delta parses { …, "content": "…", … }.
func (s *jscan) delta() (raw []byte, esc bool, ok bool) {
	if !s.eat('{') {
		return nil, false, false
	}
	found := false
	for {
		k, kok := s.key()
		if !kok {
			return nil, false, false
		}
		switch {
		case string(k) == "content":
			if found {
				return nil, false, false
			}
			s.ws()
			if raw, esc, ok = s.str(true); !ok {
				return nil, false, false
			}
			found = true
		case foldEq(k, "content"):
			return nil, false, false
		default:
			if !s.skip(0) {
				return nil, false, false
			}
		}
		if s.eat(',') {
			continue
		}
		if s.eat('}') {
			break
		}
		return nil, false, false
	}
	return raw, esc, found
}

// jscan is a minimal validating JSON scanner over b.
type jscan struct {
	b []byte
	i int
}

func (s *jscan) ws() {
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case ' ', '\t', '\n', '\r':
			s.i++
		default:
			return
		}
	}
}

func (s *jscan) eat(c byte) bool {
	s.ws()
	if s.i < len(s.b) && s.b[s.i] == c {
		s.i++
		return true
	}
	return false
}

// key reads `"name" :` where name is printable ASCII without escapes.
func (s *jscan) key() ([]byte, bool) {
	s.ws()
	if s.i >= len(s.b) || s.b[s.i] != '"' {
		return nil, false
	}
	start := s.i + 1
	for j := start; j < len(s.b); j++ {
		c := s.b[j]
		if c == '"' {
			s.i = j + 1
			if !s.eat(':') {
				return nil, false
			}
			return s.b[start:j], true
		}
		if c == '\\' || c < 0x20 || c >= 0x80 {
			return nil, false
		}
	}
	return nil, false
}

// str reads a string at s.i, returning its raw contents. With strictUTF8
// it fails on invalid UTF-8 (which encoding/json would repair).
func (s *jscan) str(strictUTF8 bool) (raw []byte, esc bool, ok bool) {
	if s.i >= len(s.b) || s.b[s.i] != '"' {
		return nil, false, false
	}
	start := s.i + 1
	high := false
	for j := start; j < len(s.b); {
		c := s.b[j]
		switch {
		case c == '"':
			raw = s.b[start:j]
			s.i = j + 1
			if strictUTF8 && high && !utf8.Valid(raw) {
				return nil, false, false
			}
			return raw, esc, true
		case c == '\\':
			esc = true
			if j+1 >= len(s.b) {
				return nil, false, false
			}
			switch s.b[j+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				j += 2
			case 'u':
				if j+6 > len(s.b) {
					return nil, false, false
				}
				if _, ok := hex4(s.b[j+2 : j+6]); !ok {
					return nil, false, false
				}
				j += 6
			default:
				return nil, false, false
			}
		case c < 0x20:
			return nil, false, false
		default:
			if c >= 0x80 {
				high = true
			}
			j++
		}
	}
	return nil, false, false
}

// skip skips one JSON value, validating it. It gives up (false) beyond a
// small nesting depth.
func (s *jscan) skip(depth int) bool {
	if depth > 32 {
		return false
	}
	s.ws()
	if s.i >= len(s.b) {
		return false
	}
	switch c := s.b[s.i]; {
	case c == '"':
		_, _, ok := s.str(false)
		return ok
	case c == '{':
		s.i++
		if s.eat('}') {
			return true
		}
		for {
			s.ws()
			if _, _, ok := s.str(false); !ok || !s.eat(':') || !s.skip(depth+1) {
				return false
			}
			if s.eat(',') {
				continue
			}
			return s.eat('}')
		}
	case c == '[':
		s.i++
		if s.eat(']') {
			return true
		}
		for {
			if !s.skip(depth + 1) {
				return false
			}
			if s.eat(',') {
				continue
			}
			return s.eat(']')
		}
	case c == 't':
		return s.lit("true")
	case c == 'f':
		return s.lit("false")
	case c == 'n':
		return s.lit("null")
	default:
		return s.number()
	}
}

func (s *jscan) lit(l string) bool {
	if len(s.b)-s.i >= len(l) && string(s.b[s.i:s.i+len(l)]) == l {
		s.i += len(l)
		return true
	}
	return false
}

func (s *jscan) number() bool {
	b, j := s.b, s.i
	if j < len(b) && b[j] == '-' {
		j++
	}
	switch {
	case j < len(b) && b[j] == '0':
		j++
	case j < len(b) && b[j] >= '1' && b[j] <= '9':
		for j < len(b) && isDigit(b[j]) {
			j++
		}
	default:
		return false
	}
	if j < len(b) && b[j] == '.' {
		j++
		if j >= len(b) || !isDigit(b[j]) {
			return false
		}
		for j < len(b) && isDigit(b[j]) {
			j++
		}
	}
	if j < len(b) && (b[j] == 'e' || b[j] == 'E') {
		j++
		if j < len(b) && (b[j] == '+' || b[j] == '-') {
			j++
		}
		if j >= len(b) || !isDigit(b[j]) {
			return false
		}
		for j < len(b) && isDigit(b[j]) {
			j++
		}
	}
	s.i = j
	return true
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// foldEq reports ASCII case-insensitive equality (keys are ASCII here).
func foldEq(k []byte, name string) bool {
	if len(k) != len(name) {
		return false
	}
	for i := range k {
		c := k[i]
		if c >= 'A' && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != name[i] {
			return false
		}
	}
	return true
}

func hex4(b []byte) (rune, bool) {
	var r rune
	for _, c := range b {
		switch {
		case c >= '0' && c <= '9':
			c -= '0'
		case c >= 'a' && c <= 'f':
			c = c - 'a' + 10
		case c >= 'A' && c <= 'F':
			c = c - 'A' + 10
		default:
			return 0, false
		}
		r = r<<4 | rune(c)
	}
	return r, true
}

// appendUnescaped appends the decoded JSON string contents raw (validated
// by str) to dst. It fails on surrogates that are not a valid pair, where
// encoding/json substitutes U+FFFD.
func appendUnescaped(dst, raw []byte) ([]byte, bool) {
	for i := 0; i < len(raw); {
		if raw[i] != '\\' {
			j := i + 1
			for j < len(raw) && raw[j] != '\\' {
				j++
			}
			dst = append(dst, raw[i:j]...)
			i = j
			continue
		}
		c := raw[i+1]
		i += 2
		switch c {
		case 'b':
			dst = append(dst, '\b')
		case 'f':
			dst = append(dst, '\f')
		case 'n':
			dst = append(dst, '\n')
		case 'r':
			dst = append(dst, '\r')
		case 't':
			dst = append(dst, '\t')
		case 'u':
			r, _ := hex4(raw[i : i+4])
			i += 4
			if utf16.IsSurrogate(r) {
				if i+6 > len(raw) || raw[i] != '\\' || raw[i+1] != 'u' {
					return dst, false
				}
				r2, _ := hex4(raw[i+2 : i+6])
				r = utf16.DecodeRune(r, r2)
				if r == utf8.RuneError {
					return dst, false
				}
				i += 6
			}
			dst = utf8.AppendRune(dst, r)
		default: // '"', '\\', '/'
			dst = append(dst, c)
		}
	}
	return dst, true
}

// deltaWire is the reference decoding of a delta line.
type deltaWire struct {
	Choices []struct {
		Delta *struct {
			Content *string `json:"content"`
		} `json:"delta"`
		Message *struct {
			Content *string `json:"content"`
		} `json:"message"`
	} `json:"choices"`
	Content *string `json:"content"`
}

// slowDelta extracts the text of a data line with encoding/json:
// choices[0].delta.content, else choices[0].message.content, else a
// top-level content. found is false when none is present.
func slowDelta(b []byte) (text string, found bool, err error) {
	var w deltaWire
	if err := json.Unmarshal(b, &w); err != nil {
		return "", false, err
	}
	if len(w.Choices) > 0 {
		c := w.Choices[0]
		if c.Delta != nil && c.Delta.Content != nil {
			return *c.Delta.Content, true, nil
		}
		if c.Message != nil && c.Message.Content != nil {
			return *c.Message.Content, true, nil
		}
	}
	if w.Content != nil {
		return *w.Content, true, nil
	}
	return "", false, nil
}
