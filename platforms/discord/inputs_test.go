package discord

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/bwmarrin/discordgo"

	"github.com/secondme-bridge/secondme-bridge/platforms"
	"github.com/secondme-bridge/secondme-bridge/platforms/discord/discordtest"
)

// startWithCDN runs an adapter whose attachment reader accepts the fake's
// CDN (127.0.0.1, plain http), with a 64-byte bound.
func startWithCDN(t *testing.T, srv *discordtest.Server) *recorder {
	t.Helper()
	_, rec := startTuned(t, srv, func(c *Config) { c.MaxAttachmentBytes = 64 }, func(a *Adapter) {
		a.files.Hosts, a.files.AllowHTTP = []string{srv.CDNHost()}, true
	})
	return rec
}

func TestAttachmentsOfEachKind(t *testing.T) {
	t.Parallel()
	srv := threadedServer(t)
	rec := startWithCDN(t, srv)
	foreign := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {
		t.Error("a host that is not Discord's was contacted")
	}))
	t.Cleanup(foreign.Close)

	att := func(name, ct string, size int, url string) *discordgo.MessageAttachment {
		return &discordgo.MessageAttachment{ID: name, Filename: name, ContentType: ct, Size: size, URL: url}
	}
	big := strings.Repeat("0123456789", 10)
	m, err := srv.SendMessageCreate(&discordgo.Message{
		GuildID: guildID, ChannelID: channelID, Type: discordgo.MessageTypeDefault, Author: alice.DiscordUser(),
		Member: &discordgo.Member{}, Content: "<@" + srv.BotID() + "> what do you think?",
		Mentions: []*discordgo.User{{ID: srv.BotID()}},
		Attachments: []*discordgo.MessageAttachment{
			att("notes.md", "text/markdown; charset=utf-8", 12, srv.AddFile("notes.md", []byte("# Plan\nship it"))),
			att("main.go", "", 20, srv.AddFile("main.go", []byte("package main"))),
			att("big.txt", "text/plain", len(big), srv.AddFile("big.txt", []byte(big))),
			att("photo.png", "image/png", 3000, srv.AddFile("photo.png", []byte("\x89PNG"))),
			att("evil.txt", "text/plain", 10, foreign.URL+"/evil.txt"),
		},
	})
	mustNoErr(t, err, "message with attachments")
	ev := rec.event(t, "msg:"+m.ID)
	got := ev.Inputs.Attachments
	if len(got) != 5 {
		t.Fatalf("attachments = %+v", got)
	}
	if got[0].Text != "# Plan\nship it" || got[0].NotRead != "" || got[1].Text != "package main" {
		t.Errorf("text files = %+v / %+v", got[0], got[1])
	}
	if got[2].Text != big[:64] || !got[2].Truncated || got[2].Size != int64(len(big)) {
		t.Errorf("oversize file = %+v", got[2])
	}
	if got[3].NotRead != platforms.NotReadType || got[3].Text != "" {
		t.Errorf("image = %+v", got[3])
	}
	if got[4].NotRead != platforms.NotReadHost {
		t.Errorf("foreign host = %+v", got[4])
	}
	if n := srv.CDNHits(); n != 3 {
		t.Errorf("CDN downloads = %d, want 3 (the image is never fetched)", n)
	}
	if ev.Text != "what do you think?" {
		t.Errorf("text = %q", ev.Text)
	}
}

func TestForwardAndQuotedReply(t *testing.T) {
	t.Parallel()
	srv := threadedServer(t)
	rec := startWithCDN(t, srv)
	bob := discordtest.User{ID: "300000000000000002", Username: "bob", GlobalName: "Bob"}

	// A forward in a DM: the snapshot's text (and files) come as context.
	fwd, err := srv.SendMessageCreateWith(&discordgo.Message{
		ChannelID: srv.DMChannel(alice.ID), Type: discordgo.MessageTypeDefault, Author: alice.DiscordUser(),
		MessageReference: &discordgo.MessageReference{MessageID: "555", ChannelID: otherChan},
	}, discordtest.Extras{ReferenceType: discordtest.ReferenceForward, Snapshots: []discordtest.Snapshot{{Message: discordtest.SnapshotMessage{
		Content:     "The launch moves to Friday.",
		Attachments: []*discordgo.MessageAttachment{{ID: "a", Filename: "plan.txt", ContentType: "text/plain", Size: 4, URL: srv.AddFile("plan.txt", []byte("plan"))}},
	}}}})
	mustNoErr(t, err, "forward")
	ev := rec.event(t, "msg:"+fwd.ID)
	if q := ev.Inputs.Quotes; len(q) != 1 || q[0].Kind != platforms.QuoteForward || q[0].Text != "The launch moves to Friday." {
		t.Errorf("forward quotes = %+v", q)
	}
	if a := ev.Inputs.Attachments; len(a) != 1 || a[0].Text != "plan" {
		t.Errorf("forwarded attachments = %+v", a)
	}
	if ev.ReplyToID != "" {
		t.Errorf("a forward is not a reply: ReplyToID = %q", ev.ReplyToID)
	}

	// A reply to Bob's message that mentions the bot: Bob's text is quoted.
	said, err := srv.Say(guildID, channelID, bob, "We should rewrite it in Rust.")
	mustNoErr(t, err, "bob says")
	rec.ignoredID(t, said.ID)
	r, err := srv.SendMessageCreate(&discordgo.Message{
		GuildID: guildID, ChannelID: channelID, Type: discordgo.MessageTypeReply, Author: alice.DiscordUser(),
		Member: &discordgo.Member{}, Content: "<@" + srv.BotID() + "> what do you think of this?",
		Mentions:          []*discordgo.User{{ID: srv.BotID()}},
		MessageReference:  &discordgo.MessageReference{MessageID: said.ID, ChannelID: channelID},
		ReferencedMessage: said,
	})
	mustNoErr(t, err, "reply to bob")
	ev = rec.event(t, "msg:"+r.ID)
	if q := ev.Inputs.Quotes; len(q) != 1 || q[0].Kind != platforms.QuoteReply || q[0].Author != "Bob" || q[0].Text != said.Content {
		t.Errorf("reply quotes = %+v", q)
	}
	if ev.ReplyToID != platforms.MessageID(said.ID) {
		t.Errorf("a reply (message_reference type 0) is no forward: ReplyToID = %q, want %s", ev.ReplyToID, said.ID)
	}

	// A reply to the bot's own message is the conversation: no quote.
	botMsg, err := srv.Mention(guildID, channelID, alice, "hi")
	mustNoErr(t, err, "mention")
	rec.event(t, "msg:"+botMsg.ID)
	a, _ := startAdapter(t, srv, nil)
	ref, err := a.Send(waitCtx(t), platforms.Target{Channel: channelID}, platforms.Message{Text: "I'm the bot"})
	mustNoErr(t, err, "bot message")
	rb, err := srv.Reply(guildID, channelID, alice, string(ref.ID), "and then?")
	mustNoErr(t, err, "reply to the bot")
	if ev := rec.event(t, "msg:"+rb.ID); len(ev.Inputs.Quotes) != 0 || !ev.Addressed {
		t.Errorf("reply to the bot: quotes %+v addressed %v", ev.Inputs.Quotes, ev.Addressed)
	}
}
