package main

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/bwmarrin/discordgo"

	"github.com/secondme-bridge/secondme-bridge/bridge/format"
	"github.com/secondme-bridge/secondme-bridge/platforms/discord/discordtest"
	"github.com/secondme-bridge/secondme-bridge/platforms/slack/slacktest"
	"github.com/secondme-bridge/secondme-bridge/secondme/secondmetest"
)

// adaAccount is the SecondMe account of the persona tests: the name and
// the picture the avatar answers under.
var adaAccount = secondmetest.User{ID: "42", Name: "Ada Lovelace", Avatar: "https://cdn.second.me/avatars/ada.png"}

// dcWebhookMessages returns the live webhook messages in channel, in
// order.
func dcWebhookMessages(e *e2e, channel string) []discordtest.Message {
	var out []discordtest.Message
	for _, m := range e.dc.MessagesIn(channel) {
		if m.WebhookID != "" && !m.Deleted {
			out = append(out, m)
		}
	}
	return out
}

// TestE2EDiscordReplyAsAvatar: with reply_as avatar (the default), a linked
// user's answer in a guild channel is posted through the channel's webhook
// under "<SecondMe name> · SecondMe" and the SecondMe picture, streams by
// webhook edits and splits exactly as the bot's did; the webhook is reused
// in a thread of the channel; a reply to the avatar's message is talking
// to the bridge; a DM falls back to the bot.
func TestE2EDiscordReplyAsAvatar(t *testing.T) {
	t.Parallel()
	e := startE2E(t, e2eOptions{discord: true, replyAs: "avatar"})
	u := discordtest.DefaultUser
	linkDiscordUserAs(t, e, u, adaAccount)
	guild, channel := discordtest.DefaultGuildID, discordtest.DefaultChannelID
	const wantUser = "Ada Lovelace · SecondMe"

	// A long streamed reply in the channel.
	want := longReply()
	e.sm.QueueStream(secondmetest.Script{Deltas: deltasOf(want, 300), Delay: 20 * time.Millisecond})
	if _, err := e.dc.Mention(guild, channel, u, "show me the program"); err != nil {
		t.Fatal(err)
	}
	var parts []string
	deadline := time.Now().Add(e2eWait)
	for {
		parts = parts[:0]
		for _, m := range dcWebhookMessages(e, channel) {
			parts = append(parts, dcVisible(m.Content))
		}
		if format.Join(parts) == want {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the webhook messages never joined to the upstream text:%s\nlogs:\n%s", dcDump(e), e.logs)
		}
		time.Sleep(20 * time.Millisecond)
	}
	dcQuiet(t, e)
	msgs := dcWebhookMessages(e, channel)
	if len(msgs) < 3 {
		t.Fatalf("reply in %d webhook messages, want it split over at least 3:%s", len(msgs), dcDump(e))
	}
	hooks := e.dc.Webhooks(channel)
	if len(hooks) != 1 {
		t.Fatalf("%d webhooks in the channel, want the one the bridge made", len(hooks))
	}
	for i, m := range msgs {
		if m.Username != wantUser || m.AvatarURL != adaAccount.Avatar || m.WebhookID != hooks[0].ID {
			t.Errorf("part %d posted as %q %q through %q, want %q %q through %q", i+1, m.Username, m.AvatarURL, m.WebhookID, wantUser, adaAccount.Avatar, hooks[0].ID)
		}
		if n := format.RuneLen(m.Content); n > 2000 {
			t.Errorf("part %d has %d characters", i+1, n)
		}
		if dcFenceLines(m.Content)%2 != 0 {
			t.Errorf("part %d has unbalanced code fences", i+1)
		}
	}
	if len(msgs[0].History) < 2 {
		t.Errorf("the first part was not streamed: history %d", len(msgs[0].History))
	}
	if n := len(e.dc.CallsTo("PATCH", "/webhooks/{id}/{token}/messages/{mid}")); n == 0 {
		t.Error("no webhook message edits")
	}
	for _, m := range e.dc.MessagesIn(channel) {
		if m.WebhookID == "" && m.InteractionID == "" && m.Author.ID == e.dc.BotID() && !m.Deleted {
			t.Errorf("the bot itself posted %q in the channel", m.Content)
		}
	}

	// A reply to the avatar's message is addressed to the bridge.
	e.sm.QueueStream(secondmetest.Script{Deltas: []string{"Glad ", "you ", "asked."}, Delay: 30 * time.Millisecond})
	if _, err := e.dc.Reply(guild, channel, u, msgs[len(msgs)-1].ID, "why fmt?"); err != nil {
		t.Fatal(err)
	}
	dcWaitMessage(t, e, "no answer to a reply to the avatar", func(m discordtest.Message) bool {
		return m.WebhookID != "" && m.ChannelID == channel && m.Content == "Glad you asked." && m.Username == wantUser
	})

	// In a thread of the channel: the same webhook, with thread_id.
	const thread = "200000000000000077"
	e.dc.AddChannel(discordtest.Channel{ID: thread, GuildID: guild, ParentID: channel, Name: "a thread", Type: discordgo.ChannelTypeGuildPublicThread})
	e.sm.QueueStream(secondmetest.Script{Deltas: []string{"In ", "the ", "thread, ", "still ", "me."}, Delay: 60 * time.Millisecond})
	if _, err := e.dc.Mention(guild, thread, u, "and here?"); err != nil {
		t.Fatal(err)
	}
	tm := dcWaitMessage(t, e, "no avatar answer in the thread", func(m discordtest.Message) bool {
		return m.ChannelID == thread && m.Content == "In the thread, still me."
	})
	if tm.WebhookID != hooks[0].ID || tm.Username != wantUser || tm.AvatarURL != adaAccount.Avatar {
		t.Errorf("thread answer through %q as %q %q, want the channel's webhook as %q", tm.WebhookID, tm.Username, tm.AvatarURL, wantUser)
	}
	if n := len(e.dc.Webhooks(channel)); n != 1 {
		t.Errorf("%d webhooks after the thread answer, want the one reused", n)
	}

	// A DM: webhooks do not exist there; the bot answers.
	e.sm.QueueStream(secondmetest.Script{Deltas: []string{"Just ", "us."}, Delay: 30 * time.Millisecond})
	trigger, err := e.dc.DM(u, "privately?")
	if err != nil {
		t.Fatal(err)
	}
	dm := dcWaitMessage(t, e, "no DM answer", func(m discordtest.Message) bool {
		return m.ReplyTo == trigger.ID && m.Content == "Just us."
	})
	if dm.WebhookID != "" || dm.Author.ID != e.dc.BotID() {
		t.Errorf("DM answer by webhook %q author %q, want the bot", dm.WebhookID, dm.Author.ID)
	}
	e.dc.AssertNoPings(t)
	e.assertNoSecrets(t)
}

// TestE2EDiscordReplyAsBot: reply_as bot keeps today's replies: the bot
// posts, referencing the trigger, and no webhook is made.
func TestE2EDiscordReplyAsBot(t *testing.T) {
	t.Parallel()
	e := startE2E(t, e2eOptions{discord: true, replyAs: "bot"})
	u := discordtest.DefaultUser
	linkDiscordUserAs(t, e, u, adaAccount)
	e.sm.QueueStream(secondmetest.Script{Deltas: []string{"As ", "the ", "bot."}, Delay: 30 * time.Millisecond})
	trigger, replies, err := e.dc.MentionAndWait(waitCtx(t), discordtest.DefaultGuildID, discordtest.DefaultChannelID, u, "hi", dcQuietFor)
	if err != nil {
		t.Fatalf("mention: %v\nlogs:\n%s", err, e.logs)
	}
	if len(replies) != 1 || replies[0].Content != "As the bot." || replies[0].WebhookID != "" || replies[0].ReplyTo != trigger.ID {
		t.Fatalf("replies = %+v, want one bot reply to the trigger", replies)
	}
	if n := len(e.dc.Webhooks(discordtest.DefaultChannelID)); n != 0 {
		t.Errorf("%d webhooks made with reply_as bot", n)
	}
}

// TestE2EDiscordInputs: a mention replying to someone else's message sends
// that message to the avatar, labelled with its author; an attachment on a
// host that is not Discord's CDN is refused (never downloaded) and the user
// is told privately, while the text is still answered.
func TestE2EDiscordInputs(t *testing.T) {
	t.Parallel()
	e := startE2E(t, e2eOptions{discord: true, replyAs: "avatar"})
	u := discordtest.DefaultUser
	linkDiscordUserAs(t, e, u, adaAccount)
	guild, channel := discordtest.DefaultGuildID, discordtest.DefaultChannelID
	grace := discordtest.User{ID: "300000000000000005", Username: "grace", GlobalName: "Grace"}
	said, err := e.dc.Say(guild, channel, grace, "We should ship on Friday.")
	if err != nil {
		t.Fatal(err)
	}
	e.sm.QueueStream(secondmetest.Script{Deltas: []string{"Friday ", "works."}})
	fileURL := e.dc.AddFile("notes.txt", []byte("secret notes"))
	if _, err := e.dc.SendMessageCreate(&discordgo.Message{
		GuildID: guild, ChannelID: channel, Author: u.DiscordUser(), Type: discordgo.MessageTypeReply,
		Content:           "<@" + e.dc.BotID() + "> what do you think of this?",
		Mentions:          []*discordgo.User{{ID: e.dc.BotID()}},
		MessageReference:  &discordgo.MessageReference{MessageID: said.ID, ChannelID: channel, GuildID: guild},
		ReferencedMessage: said,
		Attachments:       []*discordgo.MessageAttachment{{ID: "900", Filename: "notes.txt", URL: fileURL, ContentType: "text/plain", Size: 12}},
		Member:            &discordgo.Member{},
	}); err != nil {
		t.Fatal(err)
	}
	dcWaitMessage(t, e, "no answer", func(m discordtest.Message) bool {
		return m.ChannelID == channel && m.Content == "Friday works."
	})
	notice := dcWaitMessage(t, e, "no private notice about the file", func(m discordtest.Message) bool {
		return strings.Contains(m.Content, "notes.txt was not sent to your avatar")
	})
	if notice.ChannelID != e.dc.DMChannel(u.ID) || !strings.Contains(notice.Content, "not stored on this platform's own file host") {
		t.Errorf("notice %q in %s, want it in the user's DM with the reason", notice.Content, notice.ChannelID)
	}
	chats := dcChatCalls(e)
	if len(chats) != 1 {
		t.Fatalf("%d chat requests, want 1", len(chats))
	}
	want := "[Message being replied to, from Grace]\nWe should ship on Friday.\n\n[The user's message]\nwhat do you think of this?"
	if got, _ := chats[0].JSON["message"].(string); got != want {
		t.Errorf("SecondMe got %q, want %q", got, want)
	}
	if n := e.dc.CDNHits(); n != 0 {
		t.Errorf("the file on a foreign host was downloaded %d times", n)
	}
	if v := dcMetric(t, e, `secondme_bridge_attachments_total{outcome="not_read_host"}`); v != 1 {
		t.Errorf("attachments_total not_read_host = %v, want 1", v)
	}
}

// TestE2ESlackReplyAsAvatar: Slack posts, updates and native streams carry
// the SecondMe name and picture (username, icon_url).
func TestE2ESlackReplyAsAvatar(t *testing.T) {
	t.Parallel()
	for _, native := range []bool{true, false} {
		name := "native"
		if !native {
			name = "post and update"
		}
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			e := startE2E(t, e2eOptions{slack: true, replyAs: "avatar"})
			if !native {
				e.sl.SetNativeStreaming(e.sl.TeamID(), false)
			}
			linkSlackUserAs(t, e, "U1", adaAccount)
			deltas := []string{"Speaking ", "as ", "myself, ", "piece ", "by ", "piece."}
			e.sm.QueueStream(secondmetest.Script{Deltas: deltas, Delay: 60 * time.Millisecond})
			p, err := e.sl.Mention(slackCtx(t), "U1", slackChannel, "", "who are you?")
			if err != nil {
				t.Fatal(err)
			}
			msgs := waitSlackReply(t, e, slackChannel, p.TS, strings.Join(deltas, ""))
			for _, m := range msgs {
				if m.Username != adaAccount.Name || m.IconURL != adaAccount.Avatar || m.Stream != native {
					t.Errorf("message %s posted as %q %q (stream %v), want %q %q (stream %v)", m.TS, m.Username, m.IconURL, m.Stream, adaAccount.Name, adaAccount.Avatar, native)
				}
				for i := range m.UpdateUsernames {
					if m.UpdateUsernames[i] != adaAccount.Name || m.UpdateIconURLs[i] != adaAccount.Avatar {
						t.Errorf("update %d of %s as %q %q", i+1, m.TS, m.UpdateUsernames[i], m.UpdateIconURLs[i])
					}
				}
			}
			if !native {
				if n := len(e.sl.Calls("chat.update")); n == 0 {
					t.Error("the reply was never updated: it did not stream")
				}
			}
			e.sl.AssertNoPings(t)
		})
	}
}

// TestE2ESlackForeignFile: a file whose url_private is not on Slack's file
// host is refused (never downloaded); the user is told with an ephemeral
// message and the text is still answered.
func TestE2ESlackForeignFile(t *testing.T) {
	t.Parallel()
	e := startE2E(t, e2eOptions{slack: true, replyAs: "avatar"})
	linkSlackUserAs(t, e, "U1", adaAccount)
	f := e.sl.AddFile("plan.md", "text/markdown", []byte("# plan"))
	e.sm.QueueStream(secondmetest.Script{Deltas: []string{"Answered ", "anyway."}})
	ts := e.sl.NewTS()
	text := "<@" + e.sl.BotUserID() + "> read this"
	if _, err := e.sl.SendEvent(slackCtx(t), slacktest.InnerEvent{
		Type: "app_mention", User: "U1", Text: text, Channel: slackChannel, TS: ts, EventTS: ts,
		Team: e.sl.TeamID(), Files: []slacktest.File{f},
	}); err != nil {
		t.Fatal(err)
	}
	waitSlackReply(t, e, slackChannel, ts, "Answered anyway.")
	var notice string
	slackWaitFor(t, e, func() bool {
		for _, m := range e.sl.Messages() {
			if m.Ephemeral && strings.Contains(m.Display(), "plan.md was not sent to your avatar") {
				notice = m.Display()
				return true
			}
		}
		return false
	}, func() string { return "no ephemeral notice about plan.md" })
	if !strings.Contains(notice, "not stored on this platform's own file host") {
		t.Errorf("notice %q lacks the reason", notice)
	}
	if n := e.sl.FileDownloads(); n != 0 {
		t.Errorf("the file was downloaded %d times", n)
	}
}

// TestCrashKill9AvatarReply: a bridge killed with SIGKILL while an
// avatar's reply streams through the channel webhook is restarted on the
// same bolt file; the new process finds the webhook again (no second one)
// and finalizes the same webhook message, still under the avatar's name
// and picture, with every word it showed and the restart notice.
func TestCrashKill9AvatarReply(t *testing.T) {
	t.Parallel()
	e := newCrashEnvAs(t, "", false, "avatar")
	hold := make(chan struct{})
	t.Cleanup(func() { close(hold) })
	e.sm.SetStreamHandler(streamWithHold(hold))
	first := startProc(t, e.path, freeAddr(t))
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()
	channel := discordtest.DefaultChannelID
	e.mention(t, "one")
	shownMsg, err := e.dc.WaitMessage(ctx, func(m discordtest.Message) bool {
		return m.WebhookID != "" && m.ChannelID == channel && strings.Contains(m.Content, "word11")
	})
	if err != nil {
		t.Fatalf("no avatar message with the first words: %v\nlogs:\n%s", err, first.logs())
	}
	first.kill(t)
	hooks := e.dc.Webhooks(channel)
	if len(hooks) != 1 {
		t.Fatalf("%d webhooks before the restart, want 1", len(hooks))
	}
	var shown string
	for _, m := range e.dc.MessagesIn(channel) {
		if m.ID == shownMsg.ID {
			shown = longestShown(m)
		}
	}

	second := startProc(t, e.path, freeAddr(t))
	final, err := e.dc.WaitMessage(ctx, func(m discordtest.Message) bool {
		return m.ID == shownMsg.ID && strings.Contains(dcVisible(m.Content), restartNotice)
	})
	if err != nil {
		t.Fatalf("the avatar's cut-off reply was not finalized: %v\nbot messages:%s\nlogs:\n%s", err, dcDumpOf(e.dc), second.logs())
	}
	if got := dcVisible(final.Content); !strings.HasPrefix(got, shown) {
		t.Errorf("finalized reply = %q; want every word it showed (%q)", got, shown)
	}
	if final.Deleted || final.WebhookID != hooks[0].ID || final.Username != "Ada · SecondMe" || final.AvatarURL != crashAvatar {
		t.Errorf("finalized message deleted=%v through %q as %q %q; want the same webhook message as Ada · SecondMe", final.Deleted, final.WebhookID, final.Username, final.AvatarURL)
	}
	if n := len(e.dc.Webhooks(channel)); n != 1 {
		t.Errorf("%d webhooks after the restart, want the first one found again", n)
	}
	for _, m := range e.dc.MessagesIn(channel) {
		if m.WebhookID == "" && m.InteractionID == "" && strings.Contains(m.Content, restartNotice) {
			t.Errorf("the restart notice was posted by the bot: %q", m.Content)
		}
	}
}

// dcDumpOf describes the fake's messages for failure output.
func dcDumpOf(dc *discordtest.Server) string {
	var b strings.Builder
	for _, m := range dc.Messages() {
		fmt.Fprintf(&b, "\n  %s chan=%s webhook=%s user=%q edits=%d deleted=%v %q", m.ID, m.ChannelID, m.WebhookID, m.Username, m.Edits, m.Deleted, dcVisible(m.Content))
	}
	return b.String()
}
