package slacktest

import (
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"
)

// BotReplies returns the bot's visible (not ephemeral, not deleted) messages
// in the thread channel/threadTS, oldest first. threadTS "" selects
// top-level messages.
func (s *Server) BotReplies(channel, threadTS string) []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Message
	for _, m := range s.messages {
		if m.Bot && !m.Ephemeral && !m.Deleted && m.Channel == channel && m.ThreadTS == threadTS {
			out = append(out, m.clone())
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].TS < out[j].TS })
	return out
}

// ReplyText is the displayed text of the bot's replies in the thread,
// joined by "\n" when the reply was split over several messages.
func (s *Server) ReplyText(channel, threadTS string) string {
	var parts []string
	for _, m := range s.BotReplies(channel, threadTS) {
		parts = append(parts, m.Display())
	}
	return strings.Join(parts, "\n")
}

// WaitReplyText waits until ReplyText(channel, threadTS) equals want and
// every native stream in the thread is stopped; it fails t after timeout.
func (s *Server) WaitReplyText(t testing.TB, channel, threadTS, want string, timeout time.Duration) {
	t.Helper()
	waitFor(t, timeout, func() bool {
		return s.ReplyText(channel, threadTS) == want && s.streamsStopped(channel, threadTS)
	}, func() string {
		return "reply text in " + channel + "/" + threadTS + " is " + quote(s.ReplyText(channel, threadTS)) + ", want " + quote(want)
	})
}

func (s *Server) streamsStopped(channel, threadTS string) bool {
	for _, m := range s.BotReplies(channel, threadTS) {
		if m.Stream && !m.Stopped {
			return false
		}
	}
	return true
}

// pingRE matches Slack markup that notifies people: special mentions, user
// mentions and user-group mentions.
var pingRE = regexp.MustCompile(`(?i)<(!channel|!here|!everyone|!group|!subteam\^|@[UW])`)

// Pings returns every text the bot posted (messages, edits, stream appends
// and their concatenation, ephemeral messages, response_url posts) that
// contains an unneutralized ping.
func (s *Server) Pings() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	texts := append([]string(nil), s.sent...)
	for _, m := range s.messages {
		if m.Bot && m.Stream {
			texts = append(texts, m.Markdown) // pings split across appends
			texts = append(texts, m.Appends...)
		}
	}
	for _, posts := range s.responses {
		for _, p := range posts {
			texts = append(texts, p.Text, p.Markdown)
		}
	}
	var bad []string
	for _, t := range texts {
		if t != "" && pingRE.MatchString(t) {
			bad = append(bad, t)
		}
	}
	return bad
}

// AssertNoPings fails t if anything the bot posted could ping someone.
func (s *Server) AssertNoPings(t testing.TB) {
	t.Helper()
	for _, p := range s.Pings() {
		t.Errorf("slacktest: bot posted a ping: %q", p)
	}
}

func quote(s string) string {
	if len(s) > 200 {
		s = s[:200] + "…"
	}
	return "\"" + s + "\""
}

// waitFor polls cond every 10ms until it holds or timeout passes.
func waitFor(t testing.TB, timeout time.Duration, cond func() bool, msg func() string) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("slacktest: timed out after %s: %s", timeout, msg())
		}
		time.Sleep(10 * time.Millisecond)
	}
}
