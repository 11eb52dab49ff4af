package slack

import (
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"
)

// zwsp is the zero-width space that breaks a mention without changing how
// the text looks.
const zwsp = "\u200b"

var markupRE = regexp.MustCompile(`<([^<>\n]*)>`)

// plainText turns Slack message markup into the plain text the bridge works
// with: the bot's own mention is removed, other mentions, channels and links
// become readable text, and Slack's &amp; &lt; &gt; escapes are undone.
func plainText(text, botUserID string) string {
	out := markupRE.ReplaceAllStringFunc(text, func(m string) string {
		inner := m[1 : len(m)-1]
		target, label, _ := strings.Cut(inner, "|")
		switch {
		case strings.HasPrefix(target, "@"):
			if botUserID != "" && target[1:] == botUserID {
				return " "
			}
			if label != "" {
				return "@" + strings.TrimPrefix(label, "@")
			}
			return target
		case strings.HasPrefix(target, "#"):
			if label != "" {
				return "#" + label
			}
			return target
		case strings.HasPrefix(target, "!subteam^"):
			if label != "" {
				return "@" + strings.TrimPrefix(label, "@")
			}
			return "@" + strings.TrimPrefix(target, "!subteam^")
		case strings.HasPrefix(target, "!"):
			if label != "" {
				return label
			}
			name, _, _ := strings.Cut(target[1:], "^")
			return "@" + name
		case strings.HasPrefix(target, "mailto:"):
			if label != "" {
				return label
			}
			return strings.TrimPrefix(target, "mailto:")
		default: // a link
			if label == "" || label == target {
				return target
			}
			return label + " (" + target + ")"
		}
	})
	out = strings.NewReplacer("&lt;", "<", "&gt;", ">", "&amp;", "&").Replace(out)
	return collapseSpaces(strings.TrimSpace(out))
}

// collapseSpaces folds the runs of spaces left where a mention was removed,
// keeping newlines and indentation at line starts.
func collapseSpaces(s string) string {
	if !strings.Contains(s, "  ") {
		return s
	}
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		indent := len(l) - len(strings.TrimLeft(l, " "))
		body := l[indent:]
		for strings.Contains(body, "  ") {
			body = strings.ReplaceAll(body, "  ", " ")
		}
		lines[i] = l[:indent] + body
	}
	return strings.Join(lines, "\n")
}

// mentionsUser reports whether Slack markup text mentions userID.
func mentionsUser(text, userID string) bool {
	return userID != "" && (strings.Contains(text, "<@"+userID+">") || strings.Contains(text, "<@"+userID+"|"))
}

// angleTriggers follow "<" in the markup that notifies people. <!group> is
// the legacy form of <!channel> (from when private channels were "groups").
var angleTriggers = []string{"!channel", "!here", "!everyone", "!group", "!subteam^", "@u", "@w"}

// atTriggers follow a word-initial "@" ("@here" is only plain text through
// the API, but neutralizing it costs nothing).
var atTriggers = []string{"channel", "here", "everyone"}

// neutralize makes text unable to ping anyone: a zero-width space goes after
// the "<" of <!channel>, <!here>, <!everyone>, <!group>, <!subteam^…>, <@U…>,
// <@W…> and after the "@" of a plain @channel, @here or @everyone.
func neutralize(text string) string { return neutralizeText(text, false) }

// neutralizeDelta is neutralize for one piece of a stream: a trailing "<" or
// "@" that could start a ping together with the next piece is broken too.
func neutralizeDelta(text string) string { return neutralizeText(text, true) }

func neutralizeText(text string, partialTail bool) string {
	if !strings.ContainsAny(text, "<@") {
		return text
	}
	var b strings.Builder
	b.Grow(len(text) + 8)
	for i := 0; i < len(text); i++ {
		c := text[i]
		b.WriteByte(c)
		if c != '<' && c != '@' {
			continue
		}
		rest := text[i+1:]
		switch {
		case c == '<' && hasTrigger(rest, angleTriggers, false, partialTail):
			b.WriteString(zwsp)
		case c == '@' && wordStart(text, i) && hasTrigger(rest, atTriggers, true, partialTail):
			b.WriteString(zwsp)
		}
	}
	return b.String()
}

// hasTrigger reports whether rest starts with a trigger, ignoring ASCII
// case (followed by a word boundary when bounded), or, with partialTail, is
// a strict prefix of one. It looks at no more than the longest trigger and
// the rune after it, so scanning a text stays linear. (Comparing ASCII case
// only is exact: the triggers are ASCII and the only non-ASCII runes that
// lowercase to ASCII, U+0130 and U+212A, become "i" and "k", which no
// trigger contains.)
func hasTrigger(rest string, triggers []string, bounded, partialTail bool) bool {
	for _, t := range triggers {
		if len(rest) >= len(t) && equalFoldASCII(rest[:len(t)], t) {
			if !bounded || len(rest) == len(t) || !isWordRune(rest[len(t):]) {
				return true
			}
		}
		if partialTail && len(rest) < len(t) && equalFoldASCII(rest, t[:len(rest)]) {
			return true
		}
	}
	return false
}

// equalFoldASCII reports whether s equals lower, a lowercase string, when
// ASCII letters in s are lowercased.
func equalFoldASCII(s, lower string) bool {
	if len(s) != len(lower) {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != lower[i] {
			return false
		}
	}
	return true
}

func wordStart(text string, i int) bool {
	if i == 0 {
		return true
	}
	r, _ := utf8.DecodeLastRuneInString(text[:i])
	return !unicode.IsLetter(r) && !unicode.IsDigit(r) && r != '.' && r != '_' && r != '-'
}

func isWordRune(s string) bool {
	r, _ := utf8.DecodeRuneInString(s)
	return unicode.IsLetter(r) || unicode.IsDigit(r) || r == '_'
}

// splitRunes cuts s into pieces of at most n code points, preferring to cut
// after a newline in the last quarter of a piece.
func splitRunes(s string, n int) []string {
	var out []string
	for utf8.RuneCountInString(s) > n {
		cut, count, lastNL := 0, 0, -1
		for i := range s {
			if count == n {
				break
			}
			if s[i] == '\n' && count >= n*3/4 {
				lastNL = i + 1
			}
			count++
			_, size := utf8.DecodeRuneInString(s[i:])
			cut = i + size
		}
		if lastNL > 0 {
			cut = lastNL
		}
		out = append(out, s[:cut])
		s = s[cut:]
	}
	if s != "" {
		out = append(out, s)
	}
	return out
}

func runeCount(s string) int { return utf8.RuneCountInString(s) }
