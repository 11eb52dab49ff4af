package main

import (
	"bufio"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/secondme-bridge/secondme-bridge/platforms/discord/discordtest"
	"github.com/secondme-bridge/secondme-bridge/secondme/secondmetest"
)

// dcQuietFor is how long the fake Discord must see no REST call before a
// reply counts as final: well above the longest pause inside a reply here
// (the 200 ms retry_after of an injected 429, the 100 ms edit interval).
const dcQuietFor = 750 * time.Millisecond

// Texts of the bridge's catalog (bridge/i18n.go) the Discord end-to-end
// tests expect verbatim, in English.
const (
	dcTextNotLinked   = "You haven't linked your SecondMe account yet: run /link to connect it."
	dcTextInterrupted = "⚠️ reply interrupted — ask again to continue"
	dcTextUpstream    = "Your avatar couldn't answer just now: please ask again in a minute."
	dcTextNewSession  = "Started a new conversation: your avatar won't remember what was said here before."
	dcTextHelpStart   = "Talk to your own SecondMe avatar: mention me, send me a direct message, or reply in a thread where we're talking."
)

// visible is what a Discord user reads: the text without the zero-width
// spaces that neutralize mentions.
func dcVisible(s string) string { return strings.ReplaceAll(s, "\u200b", "") }

// dcDump describes the bot's messages for failure output.
func dcDump(e *e2e) string {
	var b strings.Builder
	for _, m := range e.dc.Messages() {
		c := m.Content
		if len(c) > 160 {
			c = c[:80] + "…" + c[len(c)-80:]
		}
		fmt.Fprintf(&b, "\n  %s chan=%s reply_to=%s interaction=%s original=%v ephemeral=%v deleted=%v edits=%d %q",
			m.ID, m.ChannelID, m.ReplyTo, m.InteractionID, m.Original, m.Ephemeral, m.Deleted, m.Edits, c)
	}
	return b.String()
}

// dcWaitMessage waits for a bot message satisfying pred, failing the test
// (with the bot's messages and the bridge's logs) when none comes.
func dcWaitMessage(t *testing.T, e *e2e, what string, pred func(discordtest.Message) bool) discordtest.Message {
	t.Helper()
	m, err := e.dc.WaitMessage(waitCtx(t), pred)
	if err != nil {
		t.Fatalf("%s: %v\nbot messages:%s\nlogs:\n%s", what, err, dcDump(e), e.logs)
	}
	return m
}

// dcQuiet waits until the fake Discord has had no REST call for dcQuietFor.
func dcQuiet(t *testing.T, e *e2e) {
	t.Helper()
	if err := e.dc.WaitQuiet(waitCtx(t), dcQuietFor); err != nil {
		t.Fatalf("Discord never went quiet: %v", err)
	}
}

// dcRepliesTo returns the bot's live channel messages that reply to the
// message triggerID (every part of a split reply does), in order.
func dcRepliesTo(e *e2e, triggerID string) []discordtest.Message {
	var out []discordtest.Message
	for _, m := range e.dc.Messages() {
		if m.ReplyTo == triggerID && !m.Deleted && m.InteractionID == "" {
			out = append(out, m)
		}
	}
	return out
}

// dcSlash runs a slash command as u in the default channel and returns
// the interaction and its acknowledgement.
func dcSlash(t *testing.T, e *e2e, u discordtest.User, name string, opts map[string]string) (discordtest.Interaction, discordtest.Callback) {
	t.Helper()
	in, err := e.dc.SlashCommand(discordtest.DefaultGuildID, discordtest.DefaultChannelID, u, name, opts)
	if err != nil {
		t.Fatalf("/%s: %v", name, err)
	}
	cb, err := e.dc.WaitCallback(waitCtx(t), in.ID)
	if err != nil {
		t.Fatalf("/%s: no interaction callback: %v\nlogs:\n%s", name, err, e.logs)
	}
	return in, cb
}

// chatCalls returns the chat/stream requests SecondMe received.
func dcChatCalls(e *e2e) []secondmetest.Request {
	return e.sm.RequestsTo(secondmetest.PathChatStream)
}

// sessionOf returns the sessionId a chat request carried ("" for none).
func dcSessionOf(r secondmetest.Request) string {
	s, _ := r.JSON["sessionId"].(string)
	return s
}

// metricValue reads one sample of the bridge's /metrics, e.g.
// `secondme_bridge_platform_rate_limited_total{platform="discord"}`; an
// absent sample is 0.
func dcMetric(t *testing.T, e *e2e, sample string) float64 {
	t.Helper()
	client := &http.Client{Timeout: 5 * time.Second}
	resp, err := client.Get(e.base + "/metrics")
	if err != nil {
		t.Fatalf("get metrics: %v", err)
	}
	defer func() { _ = resp.Body.Close() }()
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for sc.Scan() {
		name, value, ok := strings.Cut(sc.Text(), " ")
		if ok && name == sample {
			v, err := strconv.ParseFloat(strings.TrimSpace(value), 64)
			if err != nil {
				t.Fatalf("metric %s: %v", sample, err)
			}
			return v
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatalf("read metrics: %v", err)
	}
	return 0
}

// fenceLines counts the lines of s that are Markdown code fences.
func dcFenceLines(s string) int {
	n := 0
	for _, line := range strings.Split(s, "\n") {
		if strings.HasPrefix(strings.TrimLeft(line, " \t"), "```") {
			n++
		}
	}
	return n
}
