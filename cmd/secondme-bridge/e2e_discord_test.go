package main

import (
	"cmp"
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
	linkDiscordUserAs(t, e, u, secondmetest.User{ID: smUserID, Name: smName})
}

// linkDiscordUserAs is linkDiscordUser to the SecondMe account sm (its
// name and avatar picture).
func linkDiscordUserAs(t *testing.T, e *e2e, u discordtest.User, sm secondmetest.User) {
	t.Helper()
	smName := sm.Name
	e.sm.AddUser(sm)
	e.sm.SetAuthorizeDecision(secondmetest.AuthorizeDecision{UserID: sm.ID})
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
	code, page := e.followLink(t, orig.Buttons[0].URL, "Discord user <strong>"+cmp.Or(u.GlobalName, u.Username)+"</strong> in <strong>Test Guild</strong>")
	if code != 200 || !strings.Contains(page, "is now linked to the SecondMe account <strong>"+smName) ||
		!strings.Contains(page, "Go back to Discord") || strings.Contains(page, "Slack") {
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

// TestE2EDiscordDM: a linked user's direct message is answered in the DM
// channel, streamed (typing first, then edits), ending with the exact
// upstream text; the next DM continues the same SecondMe session.
func TestE2EDiscordDM(t *testing.T) {
	t.Parallel()
	testE2EDiscordDM(t, e2eOptions{discord: true})
}

// TestE2EDiscordDMOnRedis is TestE2EDiscordDM with the Redis store.
func TestE2EDiscordDMOnRedis(t *testing.T) {
	t.Parallel()
	testE2EDiscordDM(t, e2eOptions{discord: true, redisURL: testRedisURL(t)})
}

func testE2EDiscordDM(t *testing.T, o e2eOptions) {
	t.Helper()
	e := startE2E(t, o)
	u := discordtest.DefaultUser
	linkDiscordUser(t, e, u, "42", "Ada Lovelace")

	deltas := []string{"Just ", "between ", "us: ", "**bold** ", "and ", "`code`, ", "@here ", "stays ", "quiet."}
	want := strings.Join(deltas, "")
	e.sm.QueueStream(secondmetest.Script{Deltas: deltas, Delay: 60 * time.Millisecond, SessionID: "labs_sess_dm"})
	trigger, err := e.dc.DM(u, "a private question")
	if err != nil {
		t.Fatal(err)
	}
	dm := e.dc.DMChannel(u.ID)
	dcWaitMessage(t, e, "no final DM reply", func(m discordtest.Message) bool {
		return m.ReplyTo == trigger.ID && dcVisible(m.Content) == want
	})
	dcQuiet(t, e)

	replies := dcRepliesTo(e, trigger.ID)
	if len(replies) != 1 {
		t.Fatalf("got %d replies, want 1:%s", len(replies), dcDump(e))
	}
	r := replies[0]
	if r.ChannelID != dm || r.GuildID != "" {
		t.Errorf("reply in channel %q (guild %q), want the DM channel %q", r.ChannelID, r.GuildID, dm)
	}
	if got := dcVisible(r.Content); got != want {
		t.Errorf("final text = %q, want %q", got, want)
	}
	if len(r.History) < 2 {
		t.Errorf("reply was not streamed: history %q", r.History)
	}
	typing := e.dc.CallsTo("POST", "/channels/"+dm+"/typing")
	if len(typing) == 0 {
		t.Error("no typing indicator in the DM")
	}
	for _, c := range typing {
		if c.At.After(r.Created) {
			t.Errorf("typing indicator at %v, after the first text at %v", c.At, r.Created)
		}
	}
	for _, m := range e.dc.Messages() {
		if m.InteractionID == "" && m.ChannelID != dm {
			t.Errorf("message outside the DM: %+v", m)
		}
	}

	// The next DM continues the same SecondMe session.
	second, err := e.dc.DM(u, "and another")
	if err != nil {
		t.Fatal(err)
	}
	dcWaitMessage(t, e, "no reply to the second DM", func(m discordtest.Message) bool {
		return m.ReplyTo == second.ID && m.ChannelID == dm && m.Content == secondmetest.EchoReply("and another")
	})
	dcQuiet(t, e)
	chats := dcChatCalls(e)
	if len(chats) != 2 || chats[0].JSON["message"] != "a private question" || dcSessionOf(chats[0]) != "" ||
		chats[1].JSON["message"] != "and another" || dcSessionOf(chats[1]) != "labs_sess_dm" {
		t.Errorf("chat requests = %+v, want the second DM in session labs_sess_dm", chats)
	}
	e.dc.AssertNoPings(t)
	e.assertNoSecrets(t)
}

// TestE2EDiscordUnlinkedMention: a user who never linked gets the one-line
// invitation to /link privately, in their DMs, never in the channel, for a
// mention and for a DM, and SecondMe hears nothing at all.
func TestE2EDiscordUnlinkedMention(t *testing.T) {
	t.Parallel()
	e := startE2E(t, e2eOptions{discord: true})
	u := discordtest.User{ID: "300000000000000077", Username: "carol", GlobalName: "Carol"}
	dm := e.dc.DMChannel(u.ID)
	trigger, err := e.dc.Mention(discordtest.DefaultGuildID, discordtest.DefaultChannelID, u, "who are you?")
	if err != nil {
		t.Fatal(err)
	}
	inv := dcWaitMessage(t, e, "mention: no /link invitation", func(m discordtest.Message) bool {
		return m.Content == dcTextNotLinked
	})
	if inv.ChannelID != dm {
		t.Errorf("invitation %+v (to the mention %s) is not in the user's DMs: link problems are told privately", inv, trigger.ID)
	}
	dcQuiet(t, e)

	direct, err := e.dc.DM(u, "hello?")
	if err != nil {
		t.Fatal(err)
	}
	dcWaitMessage(t, e, "DM: no /link invitation", func(m discordtest.Message) bool {
		return m.ID != inv.ID && m.ChannelID == dm && m.Content == dcTextNotLinked
	})
	dcQuiet(t, e)
	if msgs := e.dc.Messages(); len(msgs) != 2 {
		t.Errorf("bot posted %d messages, want only the two invitations:%s", len(msgs), dcDump(e))
	}
	for _, m := range e.dc.Messages() {
		if m.ReplyTo != "" && m.ReplyTo != trigger.ID && m.ReplyTo != direct.ID {
			t.Errorf("message %+v replies to an unknown message", m)
		}
	}
	if reqs := e.sm.Requests(); len(reqs) != 0 {
		t.Errorf("SecondMe got %d requests for an unlinked user, want none: %+v", len(reqs), reqs)
	}
	e.dc.AssertNoPings(t)
	e.assertNoSecrets(t)
}

// TestE2EDiscordDuplicateDelivery: the same MESSAGE_CREATE delivered twice
// at once, and once more after the reply, is answered once, with one
// chat/stream call.
func TestE2EDiscordDuplicateDelivery(t *testing.T) {
	t.Parallel()
	e := startE2E(t, e2eOptions{discord: true})
	u := discordtest.DefaultUser
	linkDiscordUser(t, e, u, "42", "Ada Lovelace")

	deltas := []string{"Said ", "once, ", "and ", "only ", "once."}
	want := strings.Join(deltas, "")
	e.sm.QueueStream(secondmetest.Script{Deltas: deltas, Delay: 30 * time.Millisecond})
	trigger, err := e.dc.Mention(discordtest.DefaultGuildID, discordtest.DefaultChannelID, u, "say it once")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.dc.SendMessageCreate(trigger); err != nil { // a redelivery, same id
		t.Fatal(err)
	}
	dcWaitMessage(t, e, "no reply", func(m discordtest.Message) bool {
		return m.ReplyTo == trigger.ID && dcVisible(m.Content) == want
	})
	dcQuiet(t, e)
	if _, err := e.dc.SendMessageCreate(trigger); err != nil { // a late redelivery
		t.Fatal(err)
	}
	// A new message in the same channel: the adapter handles a channel's
	// messages in order, so once this one is answered the late duplicate
	// has been handled too.
	sentinel, err := e.dc.Mention(discordtest.DefaultGuildID, discordtest.DefaultChannelID, u, "sentinel")
	if err != nil {
		t.Fatal(err)
	}
	dcWaitMessage(t, e, "no reply to the sentinel", func(m discordtest.Message) bool {
		return m.ReplyTo == sentinel.ID && m.Content == secondmetest.EchoReply("sentinel")
	})
	dcQuiet(t, e)

	if replies := dcRepliesTo(e, trigger.ID); len(replies) != 1 || dcVisible(replies[0].Content) != want {
		t.Errorf("replies to the duplicated message:%s", dcDump(e))
	}
	chats := dcChatCalls(e)
	if len(chats) != 2 || chats[0].JSON["message"] != "say it once" || chats[1].JSON["message"] != "sentinel" {
		t.Errorf("chat requests = %d %+v, want one per distinct message", len(chats), chats)
	}
	e.dc.AssertNoPings(t)
	e.assertNoSecrets(t)
}
