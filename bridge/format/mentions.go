package format

import "strings"

// NeutralizeMentions makes mass mentions and pings inert in text the bot is
// about to post: "@everyone" and "@here" get a zero-width space (U+200B)
// after the "@"; Discord "<@123>", "<@!123>", "<@&123>" and Slack
// "<!channel>", "<!here>", "<!everyone>", "<!subteam^S123>", "<@U123>",
// "<@W123>" (each also with a "|label") get one after the "<", so they render
// as text and ping nobody. It is idempotent and changes nothing else; text
// without mentions is returned as is, without allocating.
func NeutralizeMentions(text string) string {
	var b strings.Builder
	last := 0
	for i := 0; i < len(text); i++ {
		switch text[i] {
		case '@':
			rest := text[i+1:]
			if !strings.HasPrefix(rest, "everyone") && !strings.HasPrefix(rest, "here") {
				continue
			}
		case '<':
			if !isMentionTag(text[i:]) {
				continue
			}
		default:
			continue
		}
		if b.Len() == 0 {
			b.Grow(len(text) + 3*4)
		}
		b.WriteString(text[last : i+1])
		b.WriteRune(zws)
		last = i + 1
	}
	if last == 0 {
		return text
	}
	b.WriteString(text[last:])
	return b.String()
}

// isMentionTag reports whether s starts with a Discord or Slack mention tag
// that pings: "<@id>", "<@!id>", "<@&id>", "<!channel>", "<!here>",
// "<!everyone>", "<!subteam^id>", optionally with "|label" before ">".
func isMentionTag(s string) bool {
	if len(s) < 3 || s[0] != '<' {
		return false
	}
	var rest string
	switch s[1] {
	case '@':
		rest = s[2:]
		if rest != "" && (rest[0] == '!' || rest[0] == '&') {
			rest = rest[1:]
		}
		n := alnumPrefix(rest)
		if n == 0 {
			return false
		}
		rest = rest[n:]
	case '!':
		rest = s[2:]
		switch {
		case strings.HasPrefix(rest, "channel"):
			rest = rest[len("channel"):]
		case strings.HasPrefix(rest, "here"):
			rest = rest[len("here"):]
		case strings.HasPrefix(rest, "everyone"):
			rest = rest[len("everyone"):]
		case strings.HasPrefix(rest, "subteam^"):
			rest = rest[len("subteam^"):]
			n := alnumPrefix(rest)
			if n == 0 {
				return false
			}
			rest = rest[n:]
		default:
			return false
		}
	default:
		return false
	}
	if strings.HasPrefix(rest, "|") {
		end := strings.IndexAny(rest, ">\n")
		return end > 0 && rest[end] == '>'
	}
	return strings.HasPrefix(rest, ">")
}

// alnumPrefix returns the length of the ASCII letters and digits at the
// start of s.
func alnumPrefix(s string) int {
	i := 0
	for i < len(s) {
		c := s[i]
		if c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' {
			i++
			continue
		}
		break
	}
	return i
}

// NeutralizeTrailingMention makes a mention tag that is still being written
// at the end of a streaming text ("<@U12", "<!chan") inert with a zero-width
// space after its "<", like NeutralizeMentions does for complete tags, so
// that no interim render ever holds anything a platform could read as a
// ping. Use it on interim renders only (the final text is neutralized by
// NeutralizeMentions). Text that does not end that way is returned as is.
func NeutralizeTrailingMention(text string) string {
	i := strings.LastIndexByte(text, '<')
	if i < 0 || !isPartialMentionTag(text[i:]) {
		return text
	}
	return text[:i+1] + string(zws) + text[i+1:]
}

// isPartialMentionTag reports whether s (which starts with '<') could still
// grow into a mention tag: it has no '>' and is a prefix of "<@", "<@!",
// "<@&" plus an id, or of "<!channel", "<!here", "<!everyone",
// "<!subteam^" plus an id.
func isPartialMentionTag(s string) bool {
	if len(s) < 2 || strings.ContainsAny(s, ">\n ") {
		return false
	}
	rest := s[2:]
	switch s[1] {
	case '@':
		if rest != "" && (rest[0] == '!' || rest[0] == '&') {
			rest = rest[1:]
		}
		return alnumPrefix(rest) == len(rest)
	case '!':
		for _, w := range []string{"channel", "here", "everyone", "subteam^"} {
			if strings.HasPrefix(w, rest) {
				return true
			}
		}
		if id, ok := strings.CutPrefix(rest, "subteam^"); ok {
			return alnumPrefix(id) == len(id)
		}
	}
	return false
}
