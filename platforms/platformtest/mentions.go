package platformtest

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

// LiveMention returns the first mention in text that would ping someone if
// posted ("@everyone", "@here", Discord "<@id>", "<@!id>", "<@&id>", Slack
// "<!channel>", "<!here>", "<!everyone>", "<!subteam^…>", "<@U…>"), or ""
// when there is none. Mentions made inert with a zero-width space after "@"
// or "<" do not count.
func LiveMention(text string) string {
	for i := 0; i < len(text); i++ {
		rest := text[i:]
		switch text[i] {
		case '@':
			for _, w := range []string{"@everyone", "@here"} {
				if strings.HasPrefix(rest, w) {
					return w
				}
			}
		case '<':
			for _, w := range []string{"<!channel", "<!here", "<!everyone", "<!subteam^"} {
				if strings.HasPrefix(rest, w) {
					return w
				}
			}
			if m := userMention(rest); m != "" {
				return m
			}
		}
	}
	return ""
}

// userMention matches "<@", an optional "!" or "&", and an id character.
func userMention(s string) string {
	if !strings.HasPrefix(s, "<@") {
		return ""
	}
	n := 2
	if n < len(s) && (s[n] == '!' || s[n] == '&') {
		n++
	}
	if n < len(s) && isIDChar(s[n]) {
		return s[:n+1]
	}
	return ""
}

func isIDChar(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z'
}

// CheckMentions returns an error describing every live mention (see
// LiveMention) in what the bridge asked the platform to post: the text and
// button labels of every Send, Edit, StartStream, AppendStream and
// SendEphemeral call, failed ones included, and the full current text of
// every message (a stream's deltas may split a mention).
func (p *Platform) CheckMentions() error {
	var errs []error
	check := func(where, text string) {
		if m := LiveMention(text); m != "" {
			errs = append(errs, fmt.Errorf("%s contains live mention %q: %q", where, m, text))
		}
	}
	for _, c := range p.Calls() {
		where := fmt.Sprintf("call #%d (%s)", c.Seq, c.Kind)
		check(where, c.Text)
		for _, b := range c.Buttons {
			check(where+" button", b.Label)
		}
	}
	for _, m := range p.Messages() {
		check("message "+string(m.Ref.ID), m.Text)
	}
	return errors.Join(errs...)
}

// AssertNoMentions fails tb when CheckMentions reports anything.
func (p *Platform) AssertNoMentions(tb testing.TB) {
	tb.Helper()
	if err := p.CheckMentions(); err != nil {
		tb.Errorf("platformtest: unneutralized mentions posted:\n%v", err)
	}
}
