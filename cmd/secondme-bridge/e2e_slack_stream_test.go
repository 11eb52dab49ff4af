package main

import (
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/secondme-bridge/secondme-bridge/bridge/format"
	"github.com/secondme-bridge/secondme-bridge/platforms/slack/slacktest"
	"github.com/secondme-bridge/secondme-bridge/secondme/secondmetest"
)

// slackMaxChars is the adapter's per-message limit (slack.MaxMessageChars).
const slackMaxChars = 3900

// longReply is a reply of more than 5,000 code points whose Go code fence
// spans the 3,900-character limit.
func longReply() string {
	var b strings.Builder
	b.WriteString("Here is the whole program, with some notes first — voilà.\n\n")
	for i := 0; b.Len() < 2600; i++ {
		b.WriteString("Paragraph line about the design, café and naïve résumé included, so runes differ from bytes.\n")
		if i%5 == 4 {
			b.WriteString("\n")
		}
	}
	b.WriteString("\n```go\npackage main\n\nimport \"fmt\"\n\nfunc main() {\n")
	for i := 0; b.Len() < 5600; i++ {
		b.WriteString("\tfmt.Println(\"step\", " + strings.Repeat("1", i%7+1) + ") // keep going\n")
	}
	b.WriteString("}\n```\n\nThat's all: run it with `go run .` and enjoy.")
	return b.String()
}

// deltasOf cuts text into pieces of about n bytes (on rune boundaries).
func deltasOf(text string, n int) []string {
	var out []string
	for len(text) > 0 {
		k := min(n, len(text))
		for k < len(text) && !utf8.RuneStart(text[k]) {
			k++
		}
		out = append(out, text[:k])
		text = text[k:]
	}
	return out
}

// fenceLines counts the lines of part that open or close a code fence.
func fenceLines(part string) int {
	n := 0
	for line := range strings.Lines(part) {
		if strings.HasPrefix(strings.TrimLeft(line, " \t"), "```") {
			n++
		}
	}
	return n
}

// TestE2ESlackLongReplySplit: a reply longer than one Slack message is
// split into messages of at most 3,900 code points, each with balanced code
// fences (the fence reopened with its language), which join back to the
// upstream text; natively streamed and with the post + update fallback.
func TestE2ESlackLongReplySplit(t *testing.T) {
	t.Parallel()
	want := longReply()
	if utf8.RuneCountInString(want) < 5000 {
		t.Fatalf("test reply has only %d code points", utf8.RuneCountInString(want))
	}
	for _, native := range []bool{true, false} {
		name := "native"
		if !native {
			name = "fallback"
		}
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			e := startE2E(t, e2eOptions{slack: true})
			if !native {
				e.sl.SetNativeStreaming(e.sl.TeamID(), false)
			}
			linkSlackUser(t, e, "U1", "42", "Ada")
			e.sm.QueueStream(secondmetest.Script{Deltas: deltasOf(want, 400), Delay: 15 * time.Millisecond})
			p, err := e.sl.Mention(slackCtx(t), "U1", slackChannel, "", "show me the program")
			if err != nil {
				t.Fatalf("mention: %v", err)
			}
			var msgs []slacktest.Message
			var parts []string
			slackWaitFor(t, e, func() bool {
				msgs = e.sl.BotReplies(slackChannel, p.TS)
				parts = parts[:0]
				for _, m := range msgs {
					parts = append(parts, m.Display())
				}
				return slackSettled(msgs) && format.Join(parts) == want
			}, func() string {
				return "the joined reply never equalled the upstream text; parts: " + strings.Join(parts, "\n-----\n")
			})
			if len(parts) < 2 {
				t.Fatalf("reply in %d message(s), want it split", len(parts))
			}
			reopened := false
			for i, part := range parts {
				if n := utf8.RuneCountInString(part); n > slackMaxChars {
					t.Errorf("part %d has %d code points, over %d", i+1, n, slackMaxChars)
				}
				if fenceLines(part)%2 != 0 {
					t.Errorf("part %d has unbalanced code fences:\n%s", i+1, part)
				}
				if i > 0 && strings.HasPrefix(part, "```go\n") {
					reopened = true
				}
				if m := msgs[i]; m.Stream != native {
					t.Errorf("part %d: native stream %v, want %v", i+1, m.Stream, native)
				}
			}
			if !reopened {
				t.Errorf("no part reopens the ```go fence")
			}
			e.sl.AssertNoPings(t)
			e.assertNoSecrets(t)
		})
	}
}

// TestE2ESlackNativeStreaming: a mention in a channel is answered with
// chat.startStream, appendStream and stopStream, and nothing else.
func TestE2ESlackNativeStreaming(t *testing.T) {
	t.Parallel()
	e := startE2E(t, e2eOptions{slack: true})
	linkSlackUser(t, e, "U1", "42", "Ada")
	deltas := []string{"Streaming ", "natively, ", "piece ", "by ", "piece, ", "*as* ", "Slack ", "likes."}
	e.sm.QueueStream(secondmetest.Script{Deltas: deltas, Delay: 60 * time.Millisecond})
	p, err := e.sl.Mention(slackCtx(t), "U1", slackChannel, "", "stream please")
	if err != nil {
		t.Fatalf("mention: %v", err)
	}
	waitSlackReply(t, e, slackChannel, p.TS, strings.Join(deltas, ""))
	starts, appends, stops := e.sl.Calls("chat.startStream"), e.sl.Calls("chat.appendStream"), e.sl.Calls("chat.stopStream")
	if len(starts) != 1 || len(appends) == 0 || len(stops) != 1 {
		t.Errorf("native calls: %d startStream, %d appendStream, %d stopStream; want 1, ≥1, 1", len(starts), len(appends), len(stops))
	}
	if n, u := len(e.sl.Calls("chat.postMessage")), len(e.sl.Calls("chat.update")); n != 0 || u != 0 {
		t.Errorf("native reply also made %d chat.postMessage and %d chat.update calls", n, u)
	}
	if start := starts[0].Form; start.Get("thread_ts") != p.TS || start.Get("recipient_user_id") != "U1" {
		t.Errorf("chat.startStream thread_ts %q recipient %q, want %q U1", start.Get("thread_ts"), start.Get("recipient_user_id"), p.TS)
	}
	e.sl.AssertNoPings(t)
	e.assertNoSecrets(t)
}

// TestE2ESlackStreamingFallback: when Slack refuses native streaming for
// good, the reply arrives through chat.postMessage and chat.update, and the
// workspace is not offered native streaming again.
func TestE2ESlackStreamingFallback(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name    string
		disable func(*slacktest.Server)
	}{
		{"unknown_method", func(s *slacktest.Server) { s.FailMethod("chat.startStream", "unknown_method") }},
		{"feature_not_enabled", func(s *slacktest.Server) { s.SetNativeStreaming(s.TeamID(), false) }},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			e := startE2E(t, e2eOptions{slack: true})
			c.disable(e.sl)
			linkSlackUser(t, e, "U1", "42", "Ada")

			first := []string{"Falling ", "back ", "to ", "posts ", "and ", "updates, ", "<!channel> ", "stays quiet."}
			e.sm.QueueStream(secondmetest.Script{Deltas: first, Delay: 60 * time.Millisecond})
			p1, err := e.sl.Mention(slackCtx(t), "U1", slackChannel, "", "first")
			if err != nil {
				t.Fatalf("mention: %v", err)
			}
			msgs := waitSlackReply(t, e, slackChannel, p1.TS, strings.Join(first, ""))
			if len(msgs) != 1 || msgs[0].Stream || len(msgs[0].Edits) == 0 {
				t.Errorf("fallback reply = %+v, want one posted message streamed by chat.update", msgs)
			}
			if n := len(e.sl.Calls("chat.startStream")); n != 1 {
				t.Errorf("%d chat.startStream calls for the first reply, want 1 (refused)", n)
			}

			second := []string{"Second ", "reply, ", "no ", "new ", "attempt."}
			e.sm.QueueStream(secondmetest.Script{Deltas: second, Delay: 60 * time.Millisecond})
			p2, err := e.sl.Mention(slackCtx(t), "U1", slackChannel, "", "second")
			if err != nil {
				t.Fatalf("mention: %v", err)
			}
			waitSlackReply(t, e, slackChannel, p2.TS, strings.Join(second, ""))
			if n := len(e.sl.Calls("chat.startStream")); n != 1 {
				t.Errorf("%d chat.startStream calls after the second reply, want 1: the refusal must be latched", n)
			}
			if n := len(e.sl.Calls("chat.postMessage")); n != 2 {
				t.Errorf("%d chat.postMessage calls, want 2", n)
			}
			e.sl.AssertNoPings(t)
			e.assertNoSecrets(t)
		})
	}
}

// TestE2ESlackInterrupted: an upstream error mid-stream leaves the text
// shown so far with the interruption notice.
func TestE2ESlackInterrupted(t *testing.T) {
	t.Parallel()
	e := startE2E(t, e2eOptions{slack: true})
	linkSlackUser(t, e, "U1", "42", "Ada")
	deltas := []string{"This ", "answer ", "gets ", "cut"}
	e.sm.QueueStream(secondmetest.Script{
		Deltas: deltas, Delay: 50 * time.Millisecond,
		Error: &secondmetest.StreamError{Code: 500, Message: "boom", SubCode: "secondme.stream.error"},
	})
	p, err := e.sl.Mention(slackCtx(t), "U1", slackChannel, "", "tell me everything")
	if err != nil {
		t.Fatalf("mention: %v", err)
	}
	// The notice of bridge/i18n.go (msgInterrupted), after a blank line.
	want := strings.Join(deltas, "") + "\n\n⚠️ reply interrupted — ask again to continue"
	msgs := waitSlackReply(t, e, slackChannel, p.TS, want)
	if len(msgs) != 1 {
		t.Errorf("got %d reply messages, want 1", len(msgs))
	}
	if n := e.sm.StreamCount(); n != 1 {
		t.Errorf("%d chat/stream calls, want 1 (no retry after text was shown)", n)
	}
	e.sl.AssertNoPings(t)
	e.assertNoSecrets(t)
}
