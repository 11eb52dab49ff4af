package discord

import (
	"strings"
	"testing"

	"github.com/bwmarrin/discordgo"

	"github.com/secondme-bridge/secondme-bridge/platforms"
	"github.com/secondme-bridge/secondme-bridge/platforms/discord/discordtest"
)

var bob = discordtest.User{ID: "2002", Username: "bob", GlobalName: "Bob"}

// A channel reply carries the Stop button while it streams; a click by
// anyone is acknowledged at once (deferred update) and reaches the bridge
// as EventStop with a private answer handle; the final edit removes it.
func TestStopButtonOnChannelMessage(t *testing.T) {
	t.Parallel()
	srv := threadedServer(t)
	a, rec := startAdapter(t, srv, nil)
	ctx := waitCtx(t)
	trigger, err := srv.Mention(guildID, channelID, alice, "tell me a long story")
	mustNoErr(t, err, "mention")
	ev := rec.event(t, "msg:"+trigger.ID)
	to := platforms.Target{Workspace: ev.Workspace, Channel: ev.Channel, User: ev.User.ID, ReplyTo: ev.MessageID}
	stop := &platforms.StopControl{ReplyID: "0123456789abcdef01234567", Label: "Stop"}
	ref, err := a.Send(ctx, to, platforms.Message{Text: "Once upon", Stop: stop})
	mustNoErr(t, err, "send")
	custom := "secondme:stop:" + stop.ReplyID
	m, err := srv.WaitButtons(ctx, string(ref.ID), custom)
	mustNoErr(t, err, "stop button on the first message")
	if b := m.Buttons[0]; b.Label != "Stop" || b.Style != int(discordgo.SecondaryButton) {
		t.Errorf("button = %+v", b)
	}
	_, err = a.Edit(ctx, ref, platforms.Message{Text: "Once upon a time", Stop: stop})
	mustNoErr(t, err, "edit while streaming")
	_, err = srv.WaitButtons(ctx, string(ref.ID), custom)
	mustNoErr(t, err, "stop button kept by a streaming edit")

	for _, who := range []discordtest.User{bob, alice} {
		in, err := srv.Click(string(ref.ID), custom, who)
		mustNoErr(t, err, "click by "+who.Username)
		cb, err := srv.WaitCallback(ctx, in.ID)
		mustNoErr(t, err, "ack of the click")
		if cb.Type != int(discordgo.InteractionResponseDeferredMessageUpdate) {
			t.Errorf("click acknowledged with type %d, want 6 (deferred update)", cb.Type)
		}
		got := rec.event(t, "int:"+in.ID)
		if got.Kind != platforms.EventStop || got.Stop == nil || got.Stop.ReplyID != stop.ReplyID || got.Stop.Native ||
			string(got.User.ID) != who.ID || got.Channel != channelID || got.MessageID != ref.ID || got.Interaction == "" {
			t.Fatalf("stop event = %+v (stop %+v)", got, got.Stop)
		}
		if who == bob {
			// The bridge refuses a stranger privately: a follow-up only
			// Bob sees; the reply itself is untouched.
			mustNoErr(t, a.SendEphemeral(ctx, platforms.Target{Channel: got.Channel, User: platforms.UserID(bob.ID), Interaction: got.Interaction},
				platforms.Message{Text: "Only the person who asked can stop this."}), "private refusal")
			fs := srv.Followups(in.ID)
			if len(fs) != 1 || !fs[0].Ephemeral || !strings.HasPrefix(fs[0].Content, "Only") {
				t.Fatalf("follow-ups = %+v, want one ephemeral refusal", fs)
			}
			if m, _ := srv.Message(string(ref.ID)); m.Content != "Once upon a time" || len(m.Buttons) != 1 {
				t.Fatalf("the reply changed after a refused stop: %+v", m)
			}
		}
	}
	_, err = a.Edit(ctx, ref, platforms.Message{Text: "Once upon a time\n\n_stopped_"})
	mustNoErr(t, err, "final edit")
	if _, err := srv.WaitButtons(ctx, string(ref.ID)); err != nil {
		t.Fatal("the final edit left the Stop button")
	}
	if _, err := srv.Click(string(ref.ID), custom, alice); err == nil {
		t.Error("a removed button could still be clicked")
	}
}

// A reply answering a slash command (/ask) carries the button on the
// interaction response, next to its link buttons; the final edit through
// the interaction webhook removes it and keeps the links.
func TestStopButtonOnInteractionResponse(t *testing.T) {
	t.Parallel()
	srv := threadedServer(t)
	a, rec := startAdapter(t, srv, nil)
	ctx := waitCtx(t)
	in, ev := command(t, srv, rec, "ask", map[string]string{"message": "story?"})
	to := platforms.Target{Channel: ev.Channel, User: ev.User.ID, Interaction: ev.Interaction}
	stop := &platforms.StopControl{ReplyID: "r-1", Label: "停止"}
	link := []platforms.LinkButton{{Label: "Open", URL: "https://example.com/a"}}
	ref, err := a.Send(ctx, to, platforms.Message{Text: "Once", Buttons: link, Stop: stop})
	mustNoErr(t, err, "answer")
	orig, ok := srv.OriginalResponse(in.ID)
	if !ok || orig.ID != string(ref.ID) {
		t.Fatalf("original = %+v", orig)
	}
	_, err = srv.WaitButtons(ctx, string(ref.ID), "https://example.com/a", "secondme:stop:r-1")
	mustNoErr(t, err, "link and stop buttons")
	click, err := srv.Click(string(ref.ID), "secondme:stop:r-1", alice)
	mustNoErr(t, err, "click")
	if got := rec.event(t, "int:"+click.ID); got.Stop == nil || got.Stop.ReplyID != "r-1" {
		t.Fatalf("stop event = %+v", got)
	}
	_, err = a.Edit(ctx, ref, platforms.Message{Text: "Once upon", Buttons: link})
	mustNoErr(t, err, "final edit")
	_, err = srv.WaitButtons(ctx, string(ref.ID), "https://example.com/a")
	mustNoErr(t, err, "stop removed, link kept")
}

// Forged or foreign component payloads are acknowledged (Discord would
// show the user an error otherwise) and never reach the bridge.
func TestStopHostileComponents(t *testing.T) {
	t.Parallel()
	srv := threadedServer(t)
	_, rec := startAdapter(t, srv, nil)
	ctx := waitCtx(t)
	for _, custom := range []string{
		"secondme:stop:", "secondme:stop:bad id", "secondme:stop:" + strings.Repeat("x", 65),
		"secondme:stop:a:b", "other:button", "", "secondme:stop:\u00e9",
	} {
		in, err := srv.SendInteraction(discordtest.Interaction{
			Type: discordgo.InteractionMessageComponent, GuildID: guildID, ChannelID: channelID, User: alice,
			Data: map[string]any{"custom_id": custom, "component_type": 2},
		})
		mustNoErr(t, err, "dispatch "+custom)
		if _, err := srv.WaitCallback(ctx, in.ID); err != nil {
			t.Errorf("custom_id %q not acknowledged: %v", custom, err)
		}
		rec.ignoredID(t, in.ID)
	}
	events, _ := rec.snapshot()
	for _, ev := range events {
		if ev.Kind == platforms.EventStop {
			t.Errorf("a forged payload reached the bridge: %+v", ev.Stop)
		}
	}
}

// Bad Stop controls are refused before any request.
func TestStopControlChecked(t *testing.T) {
	t.Parallel()
	links := make([]platforms.LinkButton, 21)
	for i := range links {
		links[i] = platforms.LinkButton{Label: "l", URL: "https://example.com"}
	}
	for name, m := range map[string]platforms.Message{
		"empty id":    {Text: "x", Stop: &platforms.StopControl{Label: "Stop"}},
		"colon in id": {Text: "x", Stop: &platforms.StopControl{ReplyID: "a:b", Label: "Stop"}},
		"long id":     {Text: "x", Stop: &platforms.StopControl{ReplyID: strings.Repeat("a", 65), Label: "Stop"}},
		"no label":    {Text: "x", Stop: &platforms.StopControl{ReplyID: "r", Label: " "}},
		"no row left": {Text: "x", Buttons: links, Stop: &platforms.StopControl{ReplyID: "r", Label: "Stop"}},
	} {
		if err := checkMessage("send", m); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	if err := checkMessage("send", platforms.Message{Text: "x", Buttons: links[:20], Stop: &platforms.StopControl{ReplyID: "r", Label: "Stop"}}); err != nil {
		t.Errorf("20 links and a stop: %v", err)
	}
}

// In a DM the button works the same; the event says so.
func TestStopButtonInDM(t *testing.T) {
	t.Parallel()
	srv := threadedServer(t)
	a, rec := startAdapter(t, srv, nil)
	ctx := waitCtx(t)
	m, err := srv.DM(alice, "hi")
	mustNoErr(t, err, "dm")
	ev := rec.event(t, "msg:"+m.ID)
	ref, err := a.Send(ctx, platforms.Target{Channel: ev.Channel, User: ev.User.ID, DM: true},
		platforms.Message{Text: "Hel", Stop: &platforms.StopControl{ReplyID: "dm-1", Label: "Stop"}})
	mustNoErr(t, err, "send")
	in, err := srv.Click(string(ref.ID), "secondme:stop:dm-1", alice)
	mustNoErr(t, err, "click")
	got := rec.event(t, "int:"+in.ID)
	if !got.DM || got.Workspace != "" || got.Channel != ev.Channel || got.Stop == nil || got.Stop.ReplyID != "dm-1" {
		t.Fatalf("dm stop event = %+v", got)
	}
}

// A reply posted as the avatar (a webhook message) carries the Stop button
// too, in a channel and in a thread: a click reaches the bridge as
// EventStop, and the final webhook edit removes the button.
func TestStopButtonOnAvatarMessage(t *testing.T) {
	t.Parallel()
	srv := threadedServer(t)
	a, rec := startAdapter(t, srv, nil)
	ctx := waitCtx(t)
	stop := &platforms.StopControl{ReplyID: "89abcdef0123456789abcdef", Label: "Stop"}
	custom := "secondme:stop:" + stop.ReplyID
	for _, to := range []platforms.Target{
		{Workspace: guildID, Channel: parentID, User: platforms.UserID(alice.ID)},
		{Workspace: guildID, Channel: parentID, Thread: threadID, User: platforms.UserID(alice.ID)},
	} {
		ref, err := a.Send(ctx, to, platforms.Message{Text: "Once upon", As: ada, Stop: stop})
		mustNoErr(t, err, "send as the avatar")
		if m, _ := srv.Message(string(ref.ID)); m.WebhookID == "" {
			t.Fatalf("message = %+v, want a webhook message", m)
		}
		_, err = a.Edit(ctx, ref, platforms.Message{Text: "Once upon a time", As: ada, Stop: stop})
		mustNoErr(t, err, "streaming edit")
		_, err = srv.WaitButtons(ctx, string(ref.ID), custom)
		mustNoErr(t, err, "stop button on the avatar's message")
		in, err := srv.Click(string(ref.ID), custom, alice)
		mustNoErr(t, err, "click")
		got := rec.event(t, "int:"+in.ID)
		if got.Kind != platforms.EventStop || got.Stop == nil || got.Stop.ReplyID != stop.ReplyID || string(got.User.ID) != alice.ID {
			t.Fatalf("stop event = %+v (stop %+v)", got, got.Stop)
		}
		_, err = a.Edit(ctx, ref, platforms.Message{Text: "Once upon a time\n\n_stopped_", As: ada})
		mustNoErr(t, err, "final edit")
		if _, err := srv.WaitButtons(ctx, string(ref.ID)); err != nil {
			t.Fatal("the final webhook edit left the Stop button")
		}
	}
	srv.AssertNoPings(t)
}
