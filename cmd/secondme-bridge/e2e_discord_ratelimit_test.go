package main

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/bwmarrin/discordgo"

	"github.com/secondme-bridge/secondme-bridge/platforms/discord/discordtest"
	"github.com/secondme-bridge/secondme-bridge/secondme/secondmetest"
)

// Routes of message edits: channel messages, and interaction responses.
const (
	dcEditRoute    = "/channels/{id}/messages/{mid}"
	dcWebhookRoute = "/webhooks/{app}/{token}/messages/{mid}"
)

// TestE2EDiscordRateLimitedEdits: the first three updates of a streaming
// reply get 429s, for a mention (channel message edits) and for /ask
// (interaction webhook edits). Each 429 reaches the bridge (discordgo does
// not retry it), the bridge waits out retry_after and carries on with
// newer text, and the final text lands.
func TestE2EDiscordRateLimitedEdits(t *testing.T) {
	t.Parallel()
	e := startE2E(t, e2eOptions{discord: true})
	u := discordtest.DefaultUser
	linkDiscordUser(t, e, u, "42", "Ada Lovelace")
	const injected = 3
	deltas := make([]string, 30)
	for i := range deltas {
		deltas[i] = fmt.Sprintf("word%02d ", i)
	}
	want := strings.Join(deltas, "")
	rateLimited := `secondme_bridge_platform_rate_limited_total{platform="discord"}`

	// A mention: the reply is a channel message, created then edited.
	e.sm.QueueStream(secondmetest.Script{Deltas: deltas, Delay: 50 * time.Millisecond})
	e.dc.FailNext("PATCH", dcEditRoute, 429, injected)
	trigger, err := e.dc.Mention(discordtest.DefaultGuildID, discordtest.DefaultChannelID, u, "count for me")
	if err != nil {
		t.Fatal(err)
	}
	dcWaitMessage(t, e, "mention: no final text", func(m discordtest.Message) bool {
		return m.ReplyTo == trigger.ID && m.Content == want
	})
	dcQuiet(t, e)
	replies := dcRepliesTo(e, trigger.ID)
	if len(replies) != 1 || replies[0].Content != want {
		t.Fatalf("mention: replies:%s", dcDump(e))
	}
	r := replies[0]
	checkRateLimitedPatches(t, "mention", e.dc.CallsTo("PATCH", "/channels/"+r.ChannelID+"/messages/"+r.ID), r, want, injected)
	// Every 429 reached the bridge: none was retried inside discordgo.
	if got := dcMetric(t, e, rateLimited); got != injected {
		t.Errorf("mention: bridge saw %v platform 429s, want %d", got, injected)
	}
	if got := dcMetric(t, e, `secondme_bridge_updates_skipped_total{reason="rate_limited"}`); got < injected {
		t.Errorf("mention: bridge skipped %v updates for 429s, want at least %d", got, injected)
	}

	// /ask: the first text and the edits all PATCH the interaction's
	// @original. It runs in another channel: the first text of a reply
	// draws from its channel's budget (about one update a second once the
	// burst is spent), which the mention above has used up.
	other := discordtest.Channel{ID: "200000000000000003", GuildID: discordtest.DefaultGuildID, Name: "other", Type: discordgo.ChannelTypeGuildText}
	e.dc.AddChannel(other)
	e.sm.QueueStream(secondmetest.Script{Deltas: deltas, Delay: 50 * time.Millisecond})
	e.dc.FailNext("PATCH", dcWebhookRoute, 429, injected)
	in, err := e.dc.SlashCommand(discordtest.DefaultGuildID, other.ID, u, "ask", map[string]string{"message": "count again"})
	if err != nil {
		t.Fatal(err)
	}
	dcWaitMessage(t, e, "/ask: no final text", func(m discordtest.Message) bool {
		return m.InteractionID == in.ID && m.Original && m.Content == want
	})
	dcQuiet(t, e)
	orig, _ := e.dc.OriginalResponse(in.ID)
	var hooks []discordtest.Call
	for _, c := range e.dc.CallsTo("PATCH", dcWebhookRoute) {
		if strings.Contains(c.Path, "/"+in.Token+"/") {
			hooks = append(hooks, c)
		}
	}
	checkRateLimitedPatches(t, "/ask", hooks, orig, want, injected)
	if f := e.dc.Followups(in.ID); len(f) != 0 {
		t.Errorf("/ask: follow-ups %+v, want the answer in @original only", f)
	}
	if got := dcMetric(t, e, rateLimited); got != 2*injected {
		t.Errorf("bridge saw %v platform 429s in all, want %d", got, 2*injected)
	}

	// The final edit meets 429s: it is retried until it lands. The stream
	// holds after its first delta until that is shown; then the edits are
	// refused and the rest of the reply arrives.
	third := discordtest.Channel{ID: "200000000000000004", GuildID: discordtest.DefaultGuildID, Name: "third", Type: discordgo.ChannelTypeGuildText}
	e.dc.AddChannel(third)
	hold := make(chan struct{})
	e.sm.QueueStream(secondmetest.Script{Deltas: []string{"First ", "and ", "last."}, HoldAfter: 1, Hold: hold})
	trigger, err = e.dc.Mention(discordtest.DefaultGuildID, third.ID, u, "hold on")
	if err != nil {
		t.Fatal(err)
	}
	first := dcWaitMessage(t, e, "final: no first text", func(m discordtest.Message) bool {
		return m.ReplyTo == trigger.ID && m.Content == "First "
	})
	e.dc.FailNext("PATCH", dcEditRoute, 429, injected)
	close(hold)
	dcWaitMessage(t, e, "final: no final text", func(m discordtest.Message) bool {
		return m.ID == first.ID && m.Content == "First and last."
	})
	dcQuiet(t, e)
	finalPatches := e.dc.CallsTo("PATCH", "/channels/"+third.ID+"/messages/"+first.ID)
	limited, finalLimited := 0, 0
	for _, c := range finalPatches {
		if c.Status == 429 {
			limited++
			if dcCallContent(c) == "First and last." {
				finalLimited++
			}
		}
	}
	if last := finalPatches[len(finalPatches)-1]; limited != injected || last.Status != 200 || len(finalPatches) != injected+1 {
		t.Errorf("final: PATCH statuses %v, want %d 429s then the final edit", callStatuses(finalPatches), injected)
	}
	if finalLimited == 0 {
		t.Errorf("final: no 429 met the final text (statuses %v): the test did not exercise the final's retry", callStatuses(finalPatches))
	}
	if got := dcMetric(t, e, rateLimited); got != 3*injected {
		t.Errorf("bridge saw %v platform 429s in all, want %d", got, 3*injected)
	}
	e.dc.AssertNoPings(t)
	e.assertNoSecrets(t)
}

// checkRateLimitedPatches checks the PATCHes of message m: exactly
// injected of them got 429, all on intermediate text; the request after
// each 429 came after retry_after and carried newer text (the bridge
// re-rendered, nothing replayed the refused request); every other PATCH
// succeeded, and the last one carried the final text.
func checkRateLimitedPatches(t *testing.T, what string, patches []discordtest.Call, m discordtest.Message, want string, injected int) {
	t.Helper()
	if len(patches) == 0 {
		t.Fatalf("%s: no PATCH", what)
	}
	content := dcCallContent
	limited, ok := 0, 0
	for i, c := range patches {
		switch c.Status {
		case 429:
			limited++
			if content(c) == want {
				t.Errorf("%s: PATCH %d got a 429 on the final text: want only intermediate updates limited", what, i+1)
			}
			if i+1 == len(patches) {
				break
			}
			next := patches[i+1]
			if gap := next.At.Sub(c.At); gap < discordtest.FailRetryAfter*3/4 {
				t.Errorf("%s: PATCH %d came %v after a 429 with retry_after %v", what, i+2, gap, discordtest.FailRetryAfter)
			}
			if content(next) == content(c) {
				t.Errorf("%s: PATCH %d repeats the rate-limited body %q: a blind retry, not a newer update", what, i+2, content(c))
			}
		case 200:
			ok++
		default:
			t.Errorf("%s: PATCH %d: status %d", what, i+1, c.Status)
		}
	}
	if limited != injected {
		t.Errorf("%s: %d PATCHes got 429, want the %d injected", what, limited, injected)
	}
	if ok != m.Edits {
		t.Errorf("%s: %d successful PATCHes, but the message was edited %d times", what, ok, m.Edits)
	}
	if last := patches[len(patches)-1]; last.Status != 200 || content(last) != want {
		t.Errorf("%s: last PATCH = %d %q, want 200 with the final text", what, last.Status, content(last))
	}
	t.Logf("%s: %d PATCHes, %d got 429, %d versions shown", what, len(patches), limited, len(m.History))
}

// callStatuses lists the HTTP statuses of calls.
func callStatuses(calls []discordtest.Call) []int {
	out := make([]int, len(calls))
	for i, c := range calls {
		out[i] = c.Status
	}
	return out
}

// dcCallContent is the content a message create or edit call carried.
func dcCallContent(c discordtest.Call) string {
	var body struct {
		Content string `json:"content"`
	}
	_ = json.Unmarshal(c.RawBody, &body)
	return body.Content
}
