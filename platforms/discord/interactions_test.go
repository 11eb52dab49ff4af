package discord

import (
	"strings"
	"testing"
	"time"

	"github.com/bwmarrin/discordgo"
	"github.com/google/go-cmp/cmp"

	"github.com/secondme-bridge/secondme-bridge/platforms"
	"github.com/secondme-bridge/secondme-bridge/platforms/discord/discordtest"
)

func TestSlashCommandsDeferredThenMapped(t *testing.T) {
	t.Parallel()
	srv := threadedServer(t)
	_, rec := startAdapter(t, srv, nil)
	// The bridge must only see an interaction that is already acknowledged.
	rec.setCheck(func(ev platforms.Event) {
		id := strings.TrimPrefix(ev.DedupeIDs[0], "int:")
		for _, cb := range srv.Callbacks() {
			if cb.InteractionID == id {
				return
			}
		}
		t.Errorf("handler called before the interaction %s was deferred", id)
	})
	ctx := waitCtx(t)

	for _, tc := range []struct {
		name    string
		options map[string]string
		want    platforms.Command
		flags   int
	}{
		{"ask", map[string]string{"message": "what is love?"}, platforms.Command{Name: "ask", Args: "what is love?"}, 0},
		{"link", nil, platforms.Command{Name: "link"}, 64},
		{"unlink", nil, platforms.Command{Name: "unlink"}, 64},
		{"new", nil, platforms.Command{Name: "new"}, 64},
		{"whoami", nil, platforms.Command{Name: "whoami"}, 64},
		{"memory", map[string]string{"keyword": "tea"}, platforms.Command{Name: "memory", Args: "tea"}, 64},
		{"memory", nil, platforms.Command{Name: "memory"}, 64},
		{"note", map[string]string{"text": "buy milk"}, platforms.Command{Name: "note", Args: "buy milk"}, 64},
		{"sessions", nil, platforms.Command{Name: "sessions"}, 64},
		{"help", nil, platforms.Command{Name: "help"}, 64},
	} {
		in, err := srv.SlashCommand(guildID, threadID, alice, tc.name, tc.options)
		mustNoErr(t, err, tc.name)
		cb, err := srv.WaitCallback(ctx, in.ID)
		mustNoErr(t, err, "callback "+tc.name)
		if cb.Type != 5 || cb.Flags != tc.flags {
			t.Errorf("%s: callback type %d flags %d, want 5 and %d", tc.name, cb.Type, cb.Flags, tc.flags)
		}
		if lat := cb.At.Sub(cb.Dispatched); lat > 3*time.Second {
			t.Errorf("%s: deferred after %s", tc.name, lat)
		}
		ev := rec.event(t, "int:"+in.ID)
		if diff := cmp.Diff(&tc.want, ev.Command); diff != "" {
			t.Errorf("%s: command (-want +got):\n%s", tc.name, diff)
		}
		if ev.Kind != platforms.EventCommand || ev.Interaction == "" || ev.Workspace != guildID ||
			ev.Channel != parentID || ev.Thread != threadID || ev.User.Locale != "en-US" || !ev.Addressed || ev.DM {
			t.Errorf("%s: event = %+v", tc.name, ev)
		}
		if h, err := decodeHandle(ev.Interaction); err != nil || h.token != in.Token || h.channelID != threadID ||
			h.appID != srv.AppID() || h.ephemeral != (tc.flags == 64) {
			t.Errorf("%s: handle = %+v, %v", tc.name, h, err)
		}
	}
}

func TestInteractionLocaleAndDM(t *testing.T) {
	t.Parallel()
	srv := threadedServer(t)
	_, rec := startAdapter(t, srv, nil)

	in, err := srv.SendInteraction(discordtest.Interaction{
		GuildID: guildID, ChannelID: channelID, User: alice, GuildLocale: "de",
		Data: map[string]any{"name": "whoami", "type": 1},
	})
	mustNoErr(t, err, "guild locale")
	if ev := rec.event(t, "int:"+in.ID); ev.User.Locale != "de" {
		t.Errorf("locale = %q, want the guild_locale de", ev.User.Locale)
	}
	in, err = srv.SendInteraction(discordtest.Interaction{
		GuildID: guildID, ChannelID: channelID, User: alice,
		Data: map[string]any{"name": "whoami", "type": 1},
	})
	mustNoErr(t, err, "state locale")
	if ev := rec.event(t, "int:"+in.ID); ev.User.Locale != "zh-CN" {
		t.Errorf("locale = %q, want the guild's preferred zh-CN", ev.User.Locale)
	}
	dm := srv.DMChannel(alice.ID)
	in, err = srv.SendInteraction(discordtest.Interaction{
		ChannelID: dm, User: alice, Locale: "zh-CN",
		Data: map[string]any{"name": "link", "type": 1},
	})
	mustNoErr(t, err, "dm")
	ev := rec.event(t, "int:"+in.ID)
	if !ev.DM || string(ev.Channel) != dm || ev.Workspace != "" || string(ev.User.ID) != alice.ID || ev.User.Locale != "zh-CN" {
		t.Errorf("dm command = %+v", ev)
	}
}

func TestContextMenuCommands(t *testing.T) {
	t.Parallel()
	srv := threadedServer(t)
	_, rec := startAdapter(t, srv, nil)
	ctx := waitCtx(t)
	target, err := srv.Say(guildID, channelID, discordtest.User{ID: "300000000000000009", Username: "carol"}, "the meeting moved to Friday")
	mustNoErr(t, err, "say")

	save, err := srv.MessageCommand(guildID, channelID, alice, "Save to SecondMe", target)
	mustNoErr(t, err, "save")
	ev := rec.event(t, "int:"+save.ID)
	if diff := cmp.Diff(&platforms.Command{Name: "save", Args: "the meeting moved to Friday"}, ev.Command); diff != "" {
		t.Errorf("save (-want +got):\n%s", diff)
	}
	if string(ev.ReplyToID) != target.ID {
		t.Errorf("ReplyToID = %q, want the target %s", ev.ReplyToID, target.ID)
	}
	cb, err := srv.WaitCallback(ctx, save.ID)
	mustNoErr(t, err, "save callback")
	if cb.Type != 5 || cb.Flags != 64 {
		t.Errorf("save deferred with type %d flags %d, want 5 and 64", cb.Type, cb.Flags)
	}

	ask, err := srv.MessageCommand(guildID, channelID, alice, "Ask my avatar", target)
	mustNoErr(t, err, "askabout")
	ev = rec.event(t, "int:"+ask.ID)
	if diff := cmp.Diff(&platforms.Command{Name: "askabout", Args: "the meeting moved to Friday"}, ev.Command); diff != "" {
		t.Errorf("askabout (-want +got):\n%s", diff)
	}
	cb, err = srv.WaitCallback(ctx, ask.ID)
	mustNoErr(t, err, "askabout callback")
	if cb.Type != 5 || cb.Flags != 0 {
		t.Errorf("askabout deferred with type %d flags %d, want 5 and public", cb.Type, cb.Flags)
	}
}

func TestUnknownAndMalformedInteractionsIgnored(t *testing.T) {
	t.Parallel()
	srv := threadedServer(t)
	_, rec := startAdapter(t, srv, nil)

	for _, in := range []discordtest.Interaction{
		{GuildID: guildID, ChannelID: channelID, User: alice},                                                  // no data
		{GuildID: guildID, ChannelID: channelID, User: alice, Data: map[string]any{"name": "nope", "type": 1}}, // unknown command
		{GuildID: guildID, ChannelID: channelID, User: alice, Data: map[string]any{"name": "Nope", "type": 3}}, // unknown menu
		{GuildID: guildID, ChannelID: channelID, User: alice, Data: map[string]any{"name": "ask", "type": 2}},  // user command
		{GuildID: guildID, ChannelID: channelID, User: alice, Type: 3, Data: map[string]any{"custom_id": "x"}}, // component
		{GuildID: guildID, ChannelID: channelID, User: alice, Type: 1},                                         // ping
		{GuildID: guildID, ChannelID: channelID, Data: map[string]any{"name": "help", "type": 1}},              // no user
		{GuildID: guildID, ChannelID: channelID, User: discordtest.User{ID: "7", Bot: true}, Data: map[string]any{"name": "help", "type": 1}},
		{GuildID: guildID, ChannelID: channelID, User: alice, Data: map[string]any{
			"name": "ask", "type": 1,
			"options": []any{map[string]any{"name": "message", "type": 4, "value": 42}},
		}}, // wrong option type
	} {
		sent, err := srv.SendInteraction(in)
		mustNoErr(t, err, "dispatch")
		if in.Data != nil && in.User.ID == alice.ID && in.Type == 0 && strings.Contains(string(rawData(in.Data)), `"value":42`) {
			// A wrongly typed option is not a crash: the command arrives without argument.
			if ev := rec.event(t, "int:"+sent.ID); ev.Command.Args != "" {
				t.Errorf("args = %q", ev.Command.Args)
			}
			continue
		}
		rec.ignoredID(t, sent.ID)
	}
}

func rawData(v any) []byte {
	b, _ := discordgo.Marshal(v)
	return b
}
