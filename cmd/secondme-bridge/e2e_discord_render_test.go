package main

import (
	"fmt"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/secondme-bridge/secondme-bridge/bridge/format"
	"github.com/secondme-bridge/secondme-bridge/platforms/discord/discordtest"
	"github.com/secondme-bridge/secondme-bridge/secondme/secondmetest"
)

// dcLongReply is a reply of about 5,500 characters whose ```go block runs
// from about character 400 to 3,100, across the 2,000-character limit.
func dcLongReply() string {
	var b strings.Builder
	b.WriteString("Here is the whole program, explained step by step.\n\n")
	for i := range 3 {
		fmt.Fprintf(&b, "Step %d: this sentence explains one more part of the program below in some detail. ", i+1)
	}
	b.WriteString("\n\n```go\npackage main\n\nimport \"fmt\"\n\nfunc main() {\n")
	for i := range 60 {
		fmt.Fprintf(&b, "\tfmt.Println(\"line %03d: the quick brown fox\")\n", i)
	}
	b.WriteString("}\n```\n\n")
	for p := range 5 {
		for s := range 6 {
			fmt.Fprintf(&b, "Paragraph %d, sentence %d: the program prints its lines in order and exits. ", p+1, s+1)
		}
		if p == 2 {
			b.WriteString("Tell @everyone, nobody gets pinged. ")
		}
		b.WriteString("\n\n")
	}
	b.WriteString("That is all.")
	return b.String()
}

// dcChunk cuts s into pieces of n bytes (s is ASCII apart from whole runes
// kept together by the cut on rune boundaries).
func dcChunk(s string, n int) []string {
	var out []string
	for len(s) > 0 {
		k := min(n, len(s))
		for k < len(s) && !utf8.RuneStart(s[k]) {
			k++
		}
		out = append(out, s[:k])
		s = s[k:]
	}
	return out
}

// TestE2EDiscordLongReplySplit: a reply over 2,000 characters streams as a
// cut preview, then ends as several messages of at most 2,000 characters,
// each with balanced code fences, the fence reopened with its language,
// and together exactly the upstream text: as replies to a mention, and as
// @original plus public follow-ups for /ask.
func TestE2EDiscordLongReplySplit(t *testing.T) {
	t.Parallel()
	e := startE2E(t, e2eOptions{discord: true})
	u := discordtest.DefaultUser
	linkDiscordUser(t, e, u, "42", "Ada Lovelace")
	text := dcLongReply()
	if n := utf8.RuneCountInString(text); n < 5000 {
		t.Fatalf("test reply has %d characters, want 5000+", n)
	}
	const tail = "That is all."

	e.sm.QueueStream(secondmetest.Script{Deltas: dcChunk(text, 150), Delay: 10 * time.Millisecond})
	trigger, err := e.dc.Mention(discordtest.DefaultGuildID, discordtest.DefaultChannelID, u, "show me the program")
	if err != nil {
		t.Fatal(err)
	}
	dcWaitMessage(t, e, "no last part", func(m discordtest.Message) bool {
		return m.ReplyTo == trigger.ID && strings.HasSuffix(m.Content, tail)
	})
	dcQuiet(t, e)
	checkDiscordParts(t, e, "mention", dcRepliesTo(e, trigger.ID), text)

	e.sm.QueueStream(secondmetest.Script{Deltas: dcChunk(text, 150), Delay: 10 * time.Millisecond})
	in, _ := dcSlash(t, e, u, "ask", map[string]string{"message": "show me again"})
	dcWaitMessage(t, e, "/ask: no last part", func(m discordtest.Message) bool {
		return m.InteractionID == in.ID && strings.HasSuffix(m.Content, tail)
	})
	dcQuiet(t, e)
	orig, _ := e.dc.OriginalResponse(in.ID)
	parts := append([]discordtest.Message{orig}, e.dc.Followups(in.ID)...)
	for i, p := range parts {
		if p.Ephemeral || p.Deleted {
			t.Errorf("/ask part %d: ephemeral=%v deleted=%v, want a public message", i+1, p.Ephemeral, p.Deleted)
		}
	}
	checkDiscordParts(t, e, "/ask", parts, text)

	if n := len(dcChatCalls(e)); n != 2 {
		t.Errorf("%d chat requests, want 2", n)
	}
	e.dc.AssertNoPings(t)
	e.assertNoSecrets(t)
}

// checkDiscordParts checks a split reply: three or more parts, the first
// streamed, every version at most 2,000 characters, fences balanced in
// every part and reopened as "```go", and the parts joined back exactly the
// upstream text (apart from the zero-width spaces neutralizing mentions).
func checkDiscordParts(t *testing.T, e *e2e, what string, parts []discordtest.Message, text string) {
	t.Helper()
	if len(parts) < 3 {
		t.Fatalf("%s: got %d parts, want 3 or more:%s", what, len(parts), dcDump(e))
	}
	if len(parts[0].History) < 2 {
		t.Errorf("%s: first part was not streamed: %d versions", what, len(parts[0].History))
	}
	contents := make([]string, len(parts))
	reopened := false
	for i, p := range parts {
		contents[i] = p.Content
		t.Logf("%s part %d: %d characters, %d versions, %d fence lines, starts %q", what, i+1,
			utf8.RuneCountInString(p.Content), len(p.History), dcFenceLines(p.Content), p.Content[:min(12, len(p.Content))])
		for j, v := range p.History {
			if n := utf8.RuneCountInString(v); n > 2000 {
				t.Errorf("%s: part %d, version %d has %d characters", what, i+1, j+1, n)
			}
		}
		if n := dcFenceLines(p.Content); n%2 != 0 {
			t.Errorf("%s: part %d has %d fence lines (unbalanced):\n%s", what, i+1, n, p.Content)
		}
		if i > 0 && strings.HasPrefix(p.Content, "```") {
			reopened = true
			if first, _, _ := strings.Cut(p.Content, "\n"); first != "```go" {
				t.Errorf("%s: part %d reopens the fence as %q, want \"```go\"", what, i+1, first)
			}
		}
	}
	if !reopened {
		t.Errorf("%s: no part reopens the code block: the cut did not cross it?%s", what, dcDump(e))
	}
	if got := dcVisible(format.Join(contents)); got != text {
		t.Errorf("%s: joined parts differ from the upstream text:\n got %q\nwant %q", what, got, text)
	}
}

// TestE2EDiscordUpstreamErrors: an upstream error after text keeps the
// text and appends the interruption notice (no retry); an error before any
// text is retried once, then the user gets a friendly error; an error
// followed by a good retry shows just the answer.
func TestE2EDiscordUpstreamErrors(t *testing.T) {
	t.Parallel()
	e := startE2E(t, e2eOptions{discord: true})
	u := discordtest.DefaultUser
	linkDiscordUser(t, e, u, "42", "Ada Lovelace")
	streamErr := &secondmetest.StreamError{Code: 500, Message: "boom", SubCode: "secondme.stream.error"}

	// mention sends text and waits until its only reply reads want.
	mention := func(text, want string) {
		t.Helper()
		trigger, err := e.dc.Mention(discordtest.DefaultGuildID, discordtest.DefaultChannelID, u, text)
		if err != nil {
			t.Fatal(err)
		}
		dcWaitMessage(t, e, text+": no final reply", func(m discordtest.Message) bool {
			return m.ReplyTo == trigger.ID && m.Content == want
		})
		dcQuiet(t, e)
		if replies := dcRepliesTo(e, trigger.ID); len(replies) != 1 {
			t.Errorf("%s: %d replies, want 1:%s", text, len(replies), dcDump(e))
		}
	}

	// Mid-stream: the partial text stays, with the notice.
	e.sm.QueueStream(secondmetest.Script{Deltas: []string{"Partial ", "answer ", "so far."}, Delay: 50 * time.Millisecond, Error: streamErr})
	mention("mid-stream", "Partial answer so far.\n\n"+dcTextInterrupted)
	if n := len(dcChatCalls(e)); n != 1 {
		t.Errorf("mid-stream error: %d chat requests, want 1 (no retry once text is shown)", n)
	}

	// A stream that started and broke before any text: SecondMe took the
	// message, so it is not sent again; the friendly error.
	e.sm.QueueStream(secondmetest.Script{Error: streamErr})
	mention("stream fails before text", dcTextUpstream)
	if n := len(dcChatCalls(e)); n != 2 {
		t.Errorf("stream error before text: %d chat requests in all, want 2 (no retry)", n)
	}

	// A 503 before the stream, twice: one retry, then the friendly error.
	busy := secondmetest.ErrorResponse(503, "connection.error", "try later")
	e.sm.QueueStream(secondmetest.Script{Response: &busy}, secondmetest.Script{Response: &busy})
	mention("busy twice", dcTextUpstream)
	if n := len(dcChatCalls(e)); n != 4 {
		t.Errorf("503 twice: %d chat requests in all, want 4 (one automatic retry)", n)
	}

	// A 503 before the stream, once: the retry answers.
	e.sm.QueueStream(secondmetest.Script{Response: &busy}, secondmetest.Script{Deltas: []string{"Second ", "time ", "lucky."}})
	mention("fails once", "Second time lucky.")
	if n := len(dcChatCalls(e)); n != 6 {
		t.Errorf("503 then success: %d chat requests in all, want 6", n)
	}

	for _, m := range e.dc.Messages() {
		if m.InteractionID == "" && !m.Deleted && strings.HasSuffix(m.Content, "…") {
			t.Errorf("unfinished message left: %+v", m)
		}
	}
	e.dc.AssertNoPings(t)
	e.assertNoSecrets(t)
}
