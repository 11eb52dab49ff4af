package main

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/secondme-bridge/secondme-bridge/platforms/discord/discordtest"
	"github.com/secondme-bridge/secondme-bridge/secondme/secondmetest"
)

// e2eWait bounds every wait of the end-to-end tests.
const e2eWait = 20 * time.Second

func waitCtx(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), e2eWait)
	t.Cleanup(cancel)
	return ctx
}

// linkDiscordUser runs /link as u, follows the button's URL through the fake
// authorize page, and checks both the browser page and the private "Linked
// as" message on Discord.
func linkDiscordUser(t *testing.T, e *e2e, u discordtest.User, smUserID, smName string) {
	t.Helper()
	e.sm.AddUser(secondmetest.User{ID: smUserID, Name: smName})
	e.sm.SetAuthorizeDecision(secondmetest.AuthorizeDecision{UserID: smUserID})
	in, err := e.dc.SlashCommand(discordtest.DefaultGuildID, discordtest.DefaultChannelID, u, "link", nil)
	if err != nil {
		t.Fatalf("/link: %v", err)
	}
	ctx := waitCtx(t)
	cb, err := e.dc.WaitCallback(ctx, in.ID)
	if err != nil {
		t.Fatalf("no interaction callback: %v", err)
	}
	if cb.Type != 5 || cb.Flags&64 == 0 {
		t.Errorf("/link callback = type %d flags %d, want a private deferral (5, 64)", cb.Type, cb.Flags)
	}
	orig, err := e.dc.WaitMessage(ctx, func(m discordtest.Message) bool {
		return m.InteractionID == in.ID && m.Original && len(m.Buttons) > 0
	})
	if err != nil {
		t.Fatalf("no /link button: %v\nlogs:\n%s", err, e.logs)
	}
	code, page := e.followLink(t, orig.Buttons[0].URL)
	if code != 200 || !strings.Contains(page, "Linked as") || !strings.Contains(page, smName) {
		t.Fatalf("link page = %d:\n%s", code, page)
	}
	if _, err := e.dc.WaitMessage(ctx, func(m discordtest.Message) bool {
		return m.InteractionID == in.ID && strings.Contains(m.Content, "Linked as") && strings.Contains(m.Content, smName)
	}); err != nil {
		t.Fatalf("no \"Linked as\" message on Discord: %v\nlogs:\n%s", err, e.logs)
	}
}

// TestE2EDiscordLinkThenMention is the whole path: /link → the
// button → the fake authorize page → "Linked as …" → a mention → streamed
// edits → the last edit's text equals the upstream text exactly.
func TestE2EDiscordLinkThenMention(t *testing.T) {
	t.Parallel()
	e := startE2E(t, e2eOptions{discord: true})
	u := discordtest.DefaultUser
	linkDiscordUser(t, e, u, "42", "Ada Lovelace")

	deltas := []string{"Hello ", "from ", "your ", "avatar. ", "@everyone ", "this ", "pings ", "nobody."}
	e.sm.QueueStream(secondmetest.Script{Deltas: deltas, Delay: 60 * time.Millisecond})
	want := strings.Join(deltas, "")
	trigger, replies, err := e.dc.MentionAndWait(waitCtx(t), discordtest.DefaultGuildID, discordtest.DefaultChannelID, u, "hi there", time.Second)
	if err != nil {
		t.Fatalf("mention: %v\nlogs:\n%s", err, e.logs)
	}
	if len(replies) != 1 {
		t.Fatalf("got %d replies, want 1: %+v", len(replies), replies)
	}
	r := replies[0]
	// The bridge neutralizes @everyone with a zero-width space; apart from
	// that the text is exactly the upstream text.
	if got := strings.ReplaceAll(r.Content, "\u200b", ""); got != want {
		t.Errorf("final text = %q, want %q", got, want)
	}
	if r.ReplyTo != trigger.ID {
		t.Errorf("reply references %q, want the trigger %q", r.ReplyTo, trigger.ID)
	}
	if len(r.History) < 2 {
		t.Errorf("reply was not streamed: history %q", r.History)
	}
	chats := e.sm.RequestsTo(secondmetest.PathChatStream)
	if len(chats) != 1 || chats[0].JSON["message"] != "hi there" || chats[0].JSON["appId"] != "secondme-bridge" {
		t.Errorf("chat requests = %+v", chats)
	}
	e.dc.AssertNoPings(t)
	e.assertNoSecrets(t)
}
