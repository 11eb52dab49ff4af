package main

import (
	"strings"
	"testing"

	"github.com/bwmarrin/discordgo"

	"github.com/secondme-bridge/secondme-bridge/platforms/discord/discordtest"
	"github.com/secondme-bridge/secondme-bridge/secondme/secondmetest"
)

// dcThreadID is the thread the continuation test talks in.
const dcThreadID = "200000000000000099"

// TestE2EDiscordThreadContinuation: in a thread where the bot answered a
// user, the user's follow-ups without a mention continue the same SecondMe
// session, while another user without a conversation there is ignored;
// in a channel, a reply to one of the bot's messages continues the
// conversation, and a plain message is ignored.
func TestE2EDiscordThreadContinuation(t *testing.T) {
	t.Parallel()
	e := startE2E(t, e2eOptions{discord: true})
	alice := discordtest.DefaultUser
	bob := discordtest.User{ID: "300000000000000002", Username: "bob", GlobalName: "Bob"}
	linkDiscordUser(t, e, alice, "42", "Ada Lovelace")
	linkDiscordUser(t, e, bob, "43", "Bob Babbage")
	e.dc.AddChannel(discordtest.Channel{
		ID: dcThreadID, GuildID: discordtest.DefaultGuildID, ParentID: discordtest.DefaultChannelID,
		Name: "a thread", Type: discordgo.ChannelTypeGuildPublicThread,
	})
	guild := discordtest.DefaultGuildID

	// ask sends a message through send and waits for its final reply.
	ask := func(what string, script secondmetest.Script, send func() (*discordgo.Message, error)) *discordgo.Message {
		t.Helper()
		e.sm.QueueStream(script)
		want := strings.Join(script.Deltas, "")
		m, err := send()
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		dcWaitMessage(t, e, what+": no reply", func(r discordtest.Message) bool {
			return r.ReplyTo == m.ID && r.Content == want
		})
		dcQuiet(t, e)
		if replies := dcRepliesTo(e, m.ID); len(replies) != 1 || replies[0].ChannelID != m.ChannelID {
			t.Errorf("%s: replies %+v, want one in channel %s", what, replies, m.ChannelID)
		}
		return m
	}

	// In the thread: a mention starts a conversation.
	ask("mention in the thread", secondmetest.Script{Deltas: []string{"In ", "the ", "thread."}, SessionID: "labs_sess_thread"},
		func() (*discordgo.Message, error) { return e.dc.Mention(guild, dcThreadID, alice, "start here") })
	// Bob, who has no conversation in the thread, writes without a mention.
	bobMsg, err := e.dc.Say(guild, dcThreadID, bob, "me too?")
	if err != nil {
		t.Fatal(err)
	}
	// Alice's follow-up without a mention continues her conversation. The
	// adapter handles a channel's messages in order: once this is answered,
	// Bob's message has been handled.
	ask("follow-up in the thread", secondmetest.Script{Deltas: []string{"Still ", "here."}},
		func() (*discordgo.Message, error) { return e.dc.Say(guild, dcThreadID, alice, "and then?") })

	// In the channel: a mention, a plain message (ignored), then a reply to
	// the bot's answer (continues).
	first := ask("mention in the channel", secondmetest.Script{Deltas: []string{"Channel ", "answer."}, SessionID: "labs_sess_chan"},
		func() (*discordgo.Message, error) {
			return e.dc.Mention(guild, discordtest.DefaultChannelID, alice, "in the open")
		})
	botAnswer := dcRepliesTo(e, first.ID)[0]
	plain, err := e.dc.Say(guild, discordtest.DefaultChannelID, alice, "just chatting")
	if err != nil {
		t.Fatal(err)
	}
	ask("reply to the bot", secondmetest.Script{Deltas: []string{"Continuing ", "here."}},
		func() (*discordgo.Message, error) {
			return e.dc.Reply(guild, discordtest.DefaultChannelID, alice, botAnswer.ID, "tell me more")
		})

	for _, ignored := range []*discordgo.Message{bobMsg, plain} {
		if r := dcRepliesTo(e, ignored.ID); len(r) != 0 {
			t.Errorf("message %q was answered: %+v", ignored.Content, r)
		}
	}
	chats := dcChatCalls(e)
	type call struct{ message, session string }
	want := []call{
		{"start here", ""},
		{"and then?", "labs_sess_thread"},
		{"in the open", ""},
		{"tell me more", "labs_sess_chan"},
	}
	var got []call
	for _, c := range chats {
		msg, _ := c.JSON["message"].(string)
		got = append(got, call{msg, dcSessionOf(c)})
		if c.UserID != "42" {
			t.Errorf("chat %q made as SecondMe user %q, want 42", msg, c.UserID)
		}
	}
	if len(got) != len(want) {
		t.Fatalf("chat requests (message, sessionId) = %q, want %q", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("chat request %d (message, sessionId) = %q, want %q", i, got[i], want[i])
		}
	}
	e.dc.AssertNoPings(t)
	e.assertNoSecrets(t)
}

// TestE2EDiscordAutoThread: with discord.auto_thread, a channel mention
// opens a thread on the message, the reply goes there, and a follow-up in
// that thread without a mention continues the same session.
func TestE2EDiscordAutoThread(t *testing.T) {
	t.Parallel()
	e := startE2E(t, e2eOptions{discord: true, discordExtra: "  auto_thread: true\n"})
	u := discordtest.DefaultUser
	linkDiscordUser(t, e, u, "42", "Ada Lovelace")
	guild := discordtest.DefaultGuildID

	e.sm.QueueStream(secondmetest.Script{Deltas: []string{"Let's ", "talk ", "here."}, SessionID: "labs_sess_auto"})
	trigger, err := e.dc.Mention(guild, discordtest.DefaultChannelID, u, "open a thread please")
	if err != nil {
		t.Fatal(err)
	}
	// A message thread has the id of its starter message.
	dcWaitMessage(t, e, "no reply in the thread", func(m discordtest.Message) bool {
		return m.ChannelID == trigger.ID && m.Content == "Let's talk here."
	})
	dcQuiet(t, e)
	th, ok := e.dc.LookupChannel(trigger.ID)
	if !ok || th.ParentID != discordtest.DefaultChannelID || th.Type != discordgo.ChannelTypeGuildPublicThread || th.Name != "open a thread please" {
		t.Errorf("thread = %+v (found %v), want a public thread on the mention named after it", th, ok)
	}
	for _, m := range e.dc.MessagesIn(discordtest.DefaultChannelID) {
		if m.InteractionID == "" {
			t.Errorf("bot wrote in the channel instead of the thread: %q", m.Content)
		}
	}

	e.sm.QueueStream(secondmetest.Script{Deltas: []string{"Same ", "session."}})
	follow, err := e.dc.Say(guild, trigger.ID, u, "go on")
	if err != nil {
		t.Fatal(err)
	}
	dcWaitMessage(t, e, "no reply to the follow-up", func(m discordtest.Message) bool {
		return m.ChannelID == trigger.ID && m.ReplyTo == follow.ID && m.Content == "Same session."
	})
	dcQuiet(t, e)
	chats := dcChatCalls(e)
	if len(chats) != 2 || dcSessionOf(chats[0]) != "" || dcSessionOf(chats[1]) != "labs_sess_auto" {
		t.Errorf("chat requests = %+v, want the follow-up in session labs_sess_auto", chats)
	}
	e.dc.AssertNoPings(t)
	e.assertNoSecrets(t)
}

// TestE2EDiscordAutoThreadAfterAdmission: with discord.auto_thread, the
// thread is opened only for an admitted message of a linked user. An
// unlinked user's mention and a mention over the user's rate limit open no
// thread (they are answered privately or in the channel); a linked user's
// mention within the limit opens one and is answered there.
func TestE2EDiscordAutoThreadAfterAdmission(t *testing.T) {
	t.Parallel()
	e := startE2E(t, e2eOptions{discord: true, extra: "  user_rate_limit: 1\n", discordExtra: "  auto_thread: true\n"})
	guild, channel := discordtest.DefaultGuildID, discordtest.DefaultChannelID
	threads := func() int { return e.dc.CountCalls("POST", "/channels/{id}/messages/{mid}/threads") }

	carol := discordtest.User{ID: "300000000000000077", Username: "carol", GlobalName: "Carol"}
	unlinked, err := e.dc.Mention(guild, channel, carol, "who are you?")
	if err != nil {
		t.Fatal(err)
	}
	dcWaitMessage(t, e, "unlinked: no /link invitation", func(m discordtest.Message) bool {
		return m.Content == dcTextNotLinked
	})
	dcQuiet(t, e)
	if n := threads(); n != 0 {
		t.Fatalf("an unlinked user's mention opened %d thread(s)", n)
	}
	if _, ok := e.dc.LookupChannel(unlinked.ID); ok {
		t.Error("a thread exists on the unlinked user's mention")
	}

	u := discordtest.DefaultUser
	linkDiscordUser(t, e, u, "42", "Ada Lovelace")
	e.sm.QueueStream(secondmetest.Script{Deltas: []string{"In ", "the thread."}})
	first, err := e.dc.Mention(guild, channel, u, "open a thread please")
	if err != nil {
		t.Fatal(err)
	}
	dcWaitMessage(t, e, "no reply in the thread", func(m discordtest.Message) bool {
		return m.ChannelID == first.ID && m.Content == "In the thread."
	})
	dcQuiet(t, e)
	if n := threads(); n != 1 {
		t.Fatalf("a linked user's mention: %d thread creations, want 1", n)
	}

	second, err := e.dc.Mention(guild, channel, u, "and another one")
	if err != nil {
		t.Fatal(err)
	}
	slow := dcWaitMessage(t, e, "over the rate limit: no slow-down notice", func(m discordtest.Message) bool {
		return strings.Contains(m.Content, "slow down")
	})
	dcQuiet(t, e)
	if n := threads(); n != 1 {
		t.Errorf("a rate-limited mention opened a thread: %d thread creations, want 1", n)
	}
	if _, ok := e.dc.LookupChannel(second.ID); ok {
		t.Error("a thread exists on the rate-limited mention")
	}
	if slow.ChannelID == second.ID {
		t.Errorf("slow-down notice %+v went to a thread", slow)
	}
	if n := len(dcChatCalls(e)); n != 1 {
		t.Errorf("SecondMe heard %d chats, want 1", n)
	}
	e.dc.AssertNoPings(t)
	e.assertNoSecrets(t)
}
