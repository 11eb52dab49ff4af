package discord

import (
	"strings"
	"testing"

	"github.com/bwmarrin/discordgo"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/secondme-bridge/secondme-bridge/platforms"
	"github.com/secondme-bridge/secondme-bridge/platforms/discord/discordtest"
)

const (
	guildID        = discordtest.DefaultGuildID
	channelID      = discordtest.DefaultChannelID
	threadID       = "200000000000000010"
	parentID       = "200000000000000011"
	otherChan      = "200000000000000012"
	otherGuild     = "210000000000000001"
	otherGuildChan = "210000000000000002"
)

var alice = discordtest.DefaultUser

// threadedServer has a guild with a channel, a thread in it and another
// channel, and a second guild.
func threadedServer(t *testing.T, opts ...discordtest.Option) *discordtest.Server {
	t.Helper()
	opts = append(opts,
		discordtest.WithGuild(discordtest.Guild{ID: guildID, Name: "g", PreferredLocale: "zh-CN", Channels: []discordtest.Channel{
			{ID: channelID, Name: "general", Type: discordgo.ChannelTypeGuildText},
			{ID: parentID, Name: "parent", Type: discordgo.ChannelTypeGuildText},
			{ID: threadID, Name: "a thread", ParentID: parentID, Type: discordgo.ChannelTypeGuildPublicThread},
			{ID: otherChan, Name: "other", Type: discordgo.ChannelTypeGuildText},
		}}),
		discordtest.WithGuild(discordtest.Guild{ID: otherGuild, Name: "g2", Channels: []discordtest.Channel{
			{ID: otherGuildChan, Name: "general", Type: discordgo.ChannelTypeGuildText},
		}}),
	)
	return discordtest.New(t, opts...)
}

func TestMentionEvent(t *testing.T) {
	t.Parallel()
	srv := threadedServer(t)
	_, rec := startAdapter(t, srv, nil)

	bob := discordtest.User{ID: "300000000000000002", Username: "bob"}
	m, err := srv.SendMessageCreate(&discordgo.Message{
		GuildID: guildID, ChannelID: channelID, Type: discordgo.MessageTypeDefault,
		Author:   alice.DiscordUser(),
		Member:   &discordgo.Member{Nick: "Ali"},
		Content:  "<@!" + srv.BotID() + "> what does <@" + bob.ID + "> think?",
		Mentions: []*discordgo.User{{ID: srv.BotID(), Bot: true}, {ID: bob.ID, Username: bob.Username}},
	})
	mustNoErr(t, err, "dispatch")
	got := rec.event(t, "msg:"+m.ID)
	want := platforms.Event{
		Kind: platforms.EventMessage, Platform: "discord", DedupeIDs: []string{"msg:" + m.ID},
		User:      platforms.User{ID: platforms.UserID(alice.ID), DisplayName: "Ali", Locale: "zh-CN"},
		Workspace: guildID, Channel: channelID, Text: "what does @bob think?", MessageID: platforms.MessageID(m.ID),
		Addressed: true, HumanTrigger: true,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("event (-want +got):\n%s", diff)
	}
}

func TestDirectMessage(t *testing.T) {
	t.Parallel()
	srv := threadedServer(t)
	_, rec := startAdapter(t, srv, func(c *Config) { c.AllowedGuilds = []string{otherGuild} })

	m, err := srv.DM(alice, "hello in private")
	mustNoErr(t, err, "dm")
	got := rec.event(t, "msg:"+m.ID)
	want := platforms.Event{
		Kind: platforms.EventMessage, Platform: "discord", DedupeIDs: []string{"msg:" + m.ID},
		User:    platforms.User{ID: platforms.UserID(alice.ID), DisplayName: alice.GlobalName},
		Channel: platforms.ChannelID(srv.DMChannel(alice.ID)), DM: true, Text: "hello in private", MessageID: platforms.MessageID(m.ID),
		Addressed: true, HumanTrigger: true,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("event (-want +got):\n%s", diff)
	}
}

func TestReplyToBotIsAddressed(t *testing.T) {
	t.Parallel()
	srv := threadedServer(t)
	a, rec := startAdapter(t, srv, nil)
	ctx := waitCtx(t)

	ref, err := a.Send(ctx, platforms.Target{Channel: channelID}, platforms.Message{Text: "I am the avatar"})
	mustNoErr(t, err, "send")
	m, err := srv.Reply(guildID, channelID, alice, string(ref.ID), "tell me more")
	mustNoErr(t, err, "reply")
	got := rec.event(t, "msg:"+m.ID)
	if !got.Addressed || got.ReplyToID != ref.ID || got.Text != "tell me more" || got.Thread != "" {
		t.Errorf("event = %+v, want addressed reply to %s", got, ref.ID)
	}

	// A reply to someone else's message, without a mention, is not for us.
	other, err := srv.Say(guildID, channelID, alice, "plain")
	mustNoErr(t, err, "say")
	rec.ignoredID(t, other.ID)
	r2, err := srv.Reply(guildID, channelID, alice, other.ID, "not for the bot")
	mustNoErr(t, err, "reply")
	rec.ignoredID(t, r2.ID)
}

func TestThreadFollowUpNotAddressed(t *testing.T) {
	t.Parallel()
	srv := threadedServer(t)
	restThread := "200000000000000020"
	srv.AddChannel(discordtest.Channel{ID: restThread, GuildID: guildID, ParentID: channelID, Type: discordgo.ChannelTypeGuildPrivateThread})
	_, rec := startAdapter(t, srv, nil)

	m, err := srv.Say(guildID, threadID, alice, "and another thing")
	mustNoErr(t, err, "say")
	got := rec.event(t, "msg:"+m.ID)
	if got.Addressed || got.Channel != parentID || got.Thread != threadID || got.Text != "and another thing" {
		t.Errorf("thread follow-up = %+v, want not addressed, channel %s thread %s", got, parentID, threadID)
	}

	m2, err := srv.Mention(guildID, threadID, alice, "explicitly")
	mustNoErr(t, err, "mention")
	if got := rec.event(t, "msg:"+m2.ID); !got.Addressed || got.Thread != threadID {
		t.Errorf("thread mention = %+v, want addressed", got)
	}

	// A thread the gateway never announced is looked up with GET /channels/{id}.
	m3, err := srv.Say(guildID, restThread, alice, "from a private thread")
	mustNoErr(t, err, "say")
	if got := rec.event(t, "msg:"+m3.ID); got.Channel != channelID || string(got.Thread) != restThread {
		t.Errorf("REST thread = %+v, want channel %s thread %s", got, channelID, restThread)
	}
	if n := srv.CountCalls("GET", "/channels/{id}"); n != 1 {
		t.Errorf("GET /channels/{id} calls = %d, want 1", n)
	}
	m4, err := srv.Say(guildID, restThread, alice, "cached now")
	mustNoErr(t, err, "say")
	rec.event(t, "msg:"+m4.ID)
	if n := srv.CountCalls("GET", "/channels/{id}"); n != 1 {
		t.Errorf("GET /channels/{id} calls = %d after a second message, want 1 (cached)", n)
	}
}

func TestIgnoredMessages(t *testing.T) {
	t.Parallel()
	srv := threadedServer(t)
	a, rec := startAdapter(t, srv, nil)
	ctx := waitCtx(t)
	botUser := &discordgo.User{ID: srv.BotID(), Username: "SecondMe", Bot: true}
	mention := "<@" + srv.BotID() + "> hi"
	mentions := []*discordgo.User{botUser}

	cases := map[string]*discordgo.Message{
		"other bot": {
			GuildID: guildID, ChannelID: channelID, Content: mention, Mentions: mentions,
			Author: &discordgo.User{ID: "400", Username: "otherbot", Bot: true},
		},
		"self": {GuildID: guildID, ChannelID: channelID, Content: mention, Mentions: mentions, Author: botUser},
		"system join": {
			GuildID: guildID, ChannelID: channelID, Content: mention, Mentions: mentions,
			Author: alice.DiscordUser(), Type: discordgo.MessageTypeGuildMemberJoin,
		},
		"thread starter": {GuildID: guildID, ChannelID: threadID, Author: alice.DiscordUser(), Type: discordgo.MessageTypeThreadStarterMessage},
		"webhook": {
			GuildID: guildID, ChannelID: channelID, Content: mention, Mentions: mentions,
			Author: alice.DiscordUser(), WebhookID: "500",
		},
		"no mention in channel":  {GuildID: guildID, ChannelID: channelID, Content: "just chatting", Author: alice.DiscordUser()},
		"empty thread follow-up": {GuildID: guildID, ChannelID: threadID, Content: "", Author: alice.DiscordUser()},
		"no author":              {GuildID: guildID, ChannelID: channelID, Content: mention, Mentions: mentions},
	}
	for name, m := range cases {
		if name == "no author" {
			_, err := srv.Dispatch("MESSAGE_CREATE", map[string]any{"id": "600", "channel_id": channelID, "guild_id": guildID, "content": mention})
			mustNoErr(t, err, name)
			rec.ignoredID(t, "600")
			continue
		}
		sent, err := srv.SendMessageCreate(m)
		mustNoErr(t, err, name)
		rec.ignoredID(t, sent.ID)
	}
	// The bot's own messages come back from Discord as MESSAGE_CREATE.
	ref, err := a.Send(ctx, platforms.Target{Channel: channelID}, platforms.Message{Text: "<@" + srv.BotID() + "> echo"})
	mustNoErr(t, err, "send")
	rec.ignoredID(t, string(ref.ID))
	if evs, _ := rec.snapshot(); len(evs) != 0 {
		t.Errorf("events = %+v, want none", evs)
	}
}

func TestAllowedGuildsAndChannels(t *testing.T) {
	t.Parallel()
	srv := threadedServer(t)
	_, rec := startAdapter(t, srv, func(c *Config) {
		c.AllowedGuilds = []string{guildID}
		c.AllowedChannels = []string{parentID}
	})

	for _, where := range []struct{ guild, channel string }{{otherGuild, otherGuildChan}, {guildID, otherChan}, {guildID, channelID}} {
		m, err := srv.Mention(where.guild, where.channel, alice, "hi")
		mustNoErr(t, err, "mention")
		rec.ignoredID(t, m.ID)
	}
	in, err := srv.Mention(guildID, parentID, alice, "allowed channel")
	mustNoErr(t, err, "mention")
	rec.event(t, "msg:"+in.ID)
	th, err := srv.Mention(guildID, threadID, alice, "thread of an allowed channel")
	mustNoErr(t, err, "mention")
	rec.event(t, "msg:"+th.ID)
	dm, err := srv.DM(alice, "DMs are not restricted")
	mustNoErr(t, err, "dm")
	rec.event(t, "msg:"+dm.ID)
	cmd, err := srv.SlashCommand(otherGuild, otherGuildChan, alice, "help", nil)
	mustNoErr(t, err, "slash")
	rec.ignoredID(t, cmd.ID)
	if n := len(srv.Callbacks()); n != 0 {
		t.Errorf("callbacks = %d, want none for an ignored guild", n)
	}
}

func TestAutoThread(t *testing.T) {
	t.Parallel()
	srv := threadedServer(t)
	a, rec := startAdapter(t, srv, func(c *Config) { c.AutoThread = true })
	ctx := waitCtx(t)

	m, err := srv.Mention(guildID, channelID, alice, "  what should I cook tonight with rice, eggs and a few vegetables from the garden?")
	mustNoErr(t, err, "mention")
	ev := rec.event(t, "msg:"+m.ID)
	if ev.Channel != channelID || string(ev.Thread) != m.ID || !ev.WantsThread || !ev.Addressed {
		t.Fatalf("event = %+v, want channel %s, thread %s wanted", ev, channelID, m.ID)
	}
	// The adapter only announces the thread: the bridge opens it after
	// admission.
	if _, ok := srv.LookupChannel(m.ID); ok {
		t.Fatal("the adapter opened the thread itself")
	}
	to := platforms.Target{Workspace: guildID, Channel: ev.Channel, ReplyTo: ev.MessageID, WantsThread: true}
	id, err := a.OpenThread(ctx, to, ev.Text)
	mustNoErr(t, err, "open thread")
	if id != platforms.ThreadID(ev.Thread) {
		t.Errorf("opened thread %s, announced %s", id, ev.Thread)
	}
	th, ok := srv.LookupChannel(m.ID)
	if !ok || th.ParentID != channelID {
		t.Fatalf("thread = %+v, %v", th, ok)
	}
	if th.Name != "what should I cook tonight with rice, eggs and a few" {
		t.Errorf("thread name = %q", th.Name)
	}
	// Opening it again (another replica, a redelivery) returns the same
	// thread.
	again, err := a.OpenThread(ctx, to, ev.Text)
	if err != nil || again != id {
		t.Errorf("second OpenThread = %s, %v; want %s", again, err, id)
	}
	if _, err := a.OpenThread(ctx, platforms.Target{Channel: channelID}, "x"); err == nil {
		t.Error("OpenThread without a starter message succeeded")
	}
	// The bridge answers in the thread, "replying" to the starter message.
	ref, err := a.Send(ctx, platforms.Target{Workspace: guildID, Channel: ev.Channel, Thread: ev.Thread, ReplyTo: ev.MessageID},
		platforms.Message{Text: "Fried rice!"})
	mustNoErr(t, err, "send in thread")
	if string(ref.Channel) != m.ID {
		t.Errorf("ref channel = %s, want the thread %s", ref.Channel, m.ID)
	}
	// A follow-up in the thread belongs to the same conversation.
	f, err := srv.Say(guildID, m.ID, alice, "with soy sauce?")
	mustNoErr(t, err, "follow-up")
	if got := rec.event(t, "msg:"+f.ID); got.Channel != channelID || string(got.Thread) != m.ID || got.Addressed {
		t.Errorf("follow-up = %+v", got)
	}
	// A mention inside a thread does not open another thread.
	m2, err := srv.Mention(guildID, m.ID, alice, "again")
	mustNoErr(t, err, "mention in thread")
	if got := rec.event(t, "msg:"+m2.ID); got.WantsThread {
		t.Errorf("a mention in a thread asks for another thread: %+v", got)
	}
	if n := srv.CountCalls("POST", "/channels/{id}/messages/{mid}/threads"); n != 2 {
		t.Errorf("thread creations = %d, want 2 (the first and the already-created retry)", n)
	}
	srv.AssertNoPings(t)
}

func TestMessagesOfAChannelArriveInOrder(t *testing.T) {
	t.Parallel()
	srv := threadedServer(t)
	_, rec := startAdapter(t, srv, nil)
	var ids []string
	for i := range 20 {
		m, err := srv.Mention(guildID, channelID, alice, strings.Repeat("x", i+1))
		mustNoErr(t, err, "mention")
		ids = append(ids, m.ID)
	}
	rec.waitUntil(t, "20 events", func(evs []platforms.Event, _ []string) bool { return len(evs) == 20 })
	evs, _ := rec.snapshot()
	var got []string
	for _, ev := range evs {
		got = append(got, string(ev.MessageID))
	}
	if diff := cmp.Diff(ids, got, cmpopts.EquateEmpty()); diff != "" {
		t.Errorf("order (-want +got):\n%s", diff)
	}
}

// TestCommandOutsideAllowListAnsweredPrivately: a command in a guild or
// channel the bot may not use gets a private "can't be used here" in the
// user's locale at once (a type 4 ephemeral callback) instead of no answer,
// and is not handed to the bridge; in an allowed channel it is deferred and
// handed over as before.
func TestCommandOutsideAllowListAnsweredPrivately(t *testing.T) {
	t.Parallel()
	srv := threadedServer(t)
	_, rec := startAdapter(t, srv, func(c *Config) {
		c.AllowedGuilds = []string{guildID}
		c.AllowedChannels = []string{parentID}
		c.NotHereText = func(locale string) string { return "not here <@&1> @everyone, locale " + locale }
	})
	ctx := waitCtx(t)
	for _, tc := range []struct{ name, guild, channel, locale string }{
		{"other guild", otherGuild, otherGuildChan, "en-US"},
		{"other channel", guildID, otherChan, "zh-CN"},
	} {
		in, err := srv.SendInteraction(discordtest.Interaction{
			GuildID: tc.guild, ChannelID: tc.channel, User: alice, Locale: tc.locale,
			Data: map[string]any{"id": "1", "name": "link", "type": 1, "options": []any{}},
		})
		mustNoErr(t, err, tc.name)
		cb, err := srv.WaitCallback(ctx, in.ID)
		mustNoErr(t, err, tc.name+": callback")
		if cb.Type != 4 || cb.Flags&64 == 0 || cb.Content != "not here <@&1> @everyone, locale "+tc.locale {
			t.Errorf("%s: callback = type %d flags %d %q, want an ephemeral message in %s", tc.name, cb.Type, cb.Flags, cb.Content, tc.locale)
		}
		rec.ignoredID(t, in.ID)
	}
	// An allowed channel: deferred and handed to the bridge.
	in, err := srv.SlashCommand(guildID, parentID, alice, "link", nil)
	mustNoErr(t, err, "allowed")
	if ev := rec.event(t, "int:"+in.ID); ev.Command == nil || ev.Command.Name != "link" {
		t.Errorf("allowed channel event = %+v", ev)
	}
	cb, err := srv.WaitCallback(ctx, in.ID)
	mustNoErr(t, err, "allowed callback")
	if cb.Type != 5 {
		t.Errorf("allowed channel callback type = %d, want a deferral (5)", cb.Type)
	}
	// The text never pings (startAdapter's cleanup checks allowed_mentions
	// too; the callback must carry it).
	if evs, _ := rec.snapshot(); len(evs) != 1 {
		t.Errorf("events = %+v, want only the allowed command", evs)
	}
}
