package main

import (
	"testing"

	"github.com/bwmarrin/discordgo"

	"github.com/secondme-bridge/secondme-bridge/platforms/discord/discordtest"
	"github.com/secondme-bridge/secondme-bridge/secondme/secondmetest"
)

// TestE2EDiscordWithoutMessageContent: when the Developer Portal does not
// allow the privileged Message Content intent, the bridge connects without
// it, and /link, mentions (in a channel and in a thread) and DMs keep
// working; a thread follow-up, which then arrives without its text, is
// left alone rather than answered with an "empty message" notice.
func TestE2EDiscordWithoutMessageContent(t *testing.T) {
	t.Parallel()
	e := startE2E(t, e2eOptions{discord: true, discordOptions: []discordtest.Option{discordtest.WithoutMessageContentIntent()}})
	ids := e.dc.Identifies()
	if len(ids) == 0 || ids[len(ids)-1].Intents&discordgo.IntentMessageContent != 0 {
		t.Fatalf("identifies = %+v, want the last one without the Message Content intent", ids)
	}
	u := discordtest.DefaultUser
	linkDiscordUser(t, e, u, "42", "Ada Lovelace")
	guild := discordtest.DefaultGuildID

	// answered sends a message through send and waits for the echo of text.
	answered := func(text string, send func() (*discordgo.Message, error)) {
		t.Helper()
		m, err := send()
		if err != nil {
			t.Fatal(err)
		}
		dcWaitMessage(t, e, text+": no reply", func(r discordtest.Message) bool {
			return r.ReplyTo == m.ID && r.Content == secondmetest.EchoReply(text)
		})
		dcQuiet(t, e)
	}
	answered("in the channel", func() (*discordgo.Message, error) {
		return e.dc.Mention(guild, discordtest.DefaultChannelID, u, "in the channel")
	})
	answered("in private", func() (*discordgo.Message, error) { return e.dc.DM(u, "in private") })

	e.dc.AddChannel(discordtest.Channel{
		ID: dcThreadID, GuildID: guild, ParentID: discordtest.DefaultChannelID,
		Name: "a thread", Type: discordgo.ChannelTypeGuildPublicThread,
	})
	answered("in the thread", func() (*discordgo.Message, error) {
		return e.dc.Mention(guild, dcThreadID, u, "in the thread")
	})
	blank, err := e.dc.Say(guild, dcThreadID, u, "a follow-up the bot cannot read")
	if err != nil {
		t.Fatal(err)
	}
	// The adapter handles a thread's messages in order: once this mention
	// is answered, the blank follow-up has been handled.
	answered("and again", func() (*discordgo.Message, error) {
		return e.dc.Mention(guild, dcThreadID, u, "and again")
	})
	if r := dcRepliesTo(e, blank.ID); len(r) != 0 {
		t.Errorf("the unreadable follow-up was answered: %+v", r)
	}
	if n := len(dcChatCalls(e)); n != 4 {
		t.Errorf("%d chat requests, want 4 (the readable messages)", n)
	}
	e.dc.AssertNoPings(t)
	e.assertNoSecrets(t)
}
