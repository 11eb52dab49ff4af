package discord

import (
	"fmt"
	"testing"

	"github.com/bwmarrin/discordgo"

	"github.com/secondme-bridge/secondme-bridge/platforms"
	"github.com/secondme-bridge/secondme-bridge/platforms/discord/discordtest"
)

// guildServer is a fake with one guild of n text channels (ids returned).
func guildServer(t *testing.T, n int) (*discordtest.Server, []string) {
	t.Helper()
	var chans []discordtest.Channel
	var ids []string
	for i := range n {
		id := fmt.Sprintf("2000000000000009%02d", i)
		ids = append(ids, id)
		chans = append(chans, discordtest.Channel{ID: id, Name: fmt.Sprintf("c%d", i), Type: discordgo.ChannelTypeGuildText})
	}
	return discordtest.New(t, discordtest.WithGuild(discordtest.Guild{ID: guildID, Name: "g", Channels: chans})), ids
}

// sendAsAdaInEach starts an adapter and sends a message as Ada in each of
// chans, checking that each went through a webhook.
func sendAsAdaInEach(t *testing.T, srv *discordtest.Server, chans []string) {
	t.Helper()
	a, _ := startAdapter(t, srv, nil)
	ctx := waitCtx(t)
	for _, ch := range chans {
		ref, err := a.Send(ctx, platforms.Target{Workspace: guildID, Channel: platforms.ChannelID(ch)}, platforms.Message{Text: "hi", As: ada})
		mustNoErr(t, err, "send as ada")
		if m, _ := srv.Message(string(ref.ID)); m.WebhookID == "" {
			t.Errorf("message = %+v, want it through a webhook", m)
		}
	}
}

// TestGuildWebhookListingServesItsChannels: the avatar's first replies in
// many channels of one guild list the guild's webhooks once (one bot call
// under the global limit, instead of one per channel): a webhook of the
// bridge found there is used, another application's is not, and the other
// channels get theirs created without a listing of their own.
func TestGuildWebhookListingServesItsChannels(t *testing.T) {
	t.Parallel()
	srv, chans := guildServer(t, 6)
	a, _ := startAdapter(t, srv, nil)
	ours := srv.AddWebhook(chans[0], "SecondMe Bridge", srv.AppID())
	srv.AddWebhook(chans[1], "someone else's", "999999999999999999")
	ctx := waitCtx(t)
	for i, ch := range chans {
		ref, err := a.Send(ctx, platforms.Target{Workspace: guildID, Channel: platforms.ChannelID(ch)}, platforms.Message{Text: fmt.Sprintf("hello %d", i), As: ada})
		mustNoErr(t, err, "send as ada")
		m, _ := srv.Message(string(ref.ID))
		if m.WebhookID == "" || m.Username != "Ada · SecondMe" {
			t.Errorf("message in channel %d = %+v, want it through a webhook as Ada", i, m)
		}
		if i == 0 && m.WebhookID != ours.ID {
			t.Errorf("channel 0 posted through %q, want the bridge's webhook found in the guild listing %q", m.WebhookID, ours.ID)
		}
	}
	if g, c, made := srv.CountCalls("GET", "/guilds/{id}/webhooks"), srv.CountCalls("GET", "/channels/{id}/webhooks"), srv.CountCalls("POST", "/channels/{id}/webhooks"); g != 1 || c != 0 || made != 5 {
		t.Errorf("%d guild listings, %d channel listings, %d webhooks created; want 1, 0 and 5", g, c, made)
	}
	if n := len(srv.Webhooks(chans[1])); n != 2 {
		t.Errorf("channel 1 holds %d webhooks, want the other application's and the bridge's", n)
	}
}

// TestGuildWebhookListingRefused: a bot without Manage Webhooks guild-wide
// (it may hold it in some channels) lists each channel instead, and does
// not ask for the guild's listing again for a while.
func TestGuildWebhookListingRefused(t *testing.T) {
	t.Parallel()
	srv, chans := guildServer(t, 3)
	srv.DenyGuildWebhooks(guildID, true)
	sendAsAdaInEach(t, srv, chans)
	if g, c := srv.CountCalls("GET", "/guilds/{id}/webhooks"), srv.CountCalls("GET", "/channels/{id}/webhooks"); g != 1 || c != 3 {
		t.Errorf("%d guild listings and %d channel listings, want 1 (refused) and 3", g, c)
	}
}

// TestGuildListedWebhookDeleted: a webhook found in the guild's listing and
// deleted under us is not handed out again by that listing (still fresh):
// a new one is created and the message goes through it, not as the bot.
func TestGuildListedWebhookDeleted(t *testing.T) {
	t.Parallel()
	srv, chans := guildServer(t, 1)
	a, _ := startAdapter(t, srv, nil)
	old := srv.AddWebhook(chans[0], "SecondMe Bridge", srv.AppID())
	ctx := waitCtx(t)
	to := platforms.Target{Workspace: guildID, Channel: platforms.ChannelID(chans[0])}
	ref, err := a.Send(ctx, to, platforms.Message{Text: "one", As: ada})
	mustNoErr(t, err, "send")
	if m, _ := srv.Message(string(ref.ID)); m.WebhookID != old.ID {
		t.Fatalf("first message through %q, want the listed webhook %q", m.WebhookID, old.ID)
	}
	srv.DeleteWebhook(old.ID)
	ref, err = a.Send(ctx, to, platforms.Message{Text: "two", As: ada})
	mustNoErr(t, err, "send after the webhook was deleted")
	m, _ := srv.Message(string(ref.ID))
	if m.WebhookID == "" || m.WebhookID == old.ID {
		t.Errorf("second message through %q, want a new webhook", m.WebhookID)
	}
	if g := srv.CountCalls("GET", "/guilds/{id}/webhooks"); g != 1 {
		t.Errorf("%d guild listings, want 1 (still fresh)", g)
	}
}

// TestGuildWebhookListingFailureBacksOff: a guild listing that fails (a
// 5xx) is not tried again before every channel's lookup: the channels are
// listed on their own until it may be tried again.
func TestGuildWebhookListingFailureBacksOff(t *testing.T) {
	t.Parallel()
	srv, chans := guildServer(t, 3)
	srv.FailNext("GET", "/guilds/{id}/webhooks", 500, 1)
	sendAsAdaInEach(t, srv, chans)
	if g, c := srv.CountCalls("GET", "/guilds/{id}/webhooks"), srv.CountCalls("GET", "/channels/{id}/webhooks"); g != 1 || c != 3 {
		t.Errorf("%d guild listings and %d channel listings, want 1 (failed) and 3", g, c)
	}
}

// TestGuildListingNeverDecidesAWebhookIsGone: a guild listing made before
// another replica created a channel's webhook does not make an edit of
// that replica's message conclude the webhook is gone (which would move
// the message): the channel is listed before deciding.
func TestGuildListingNeverDecidesAWebhookIsGone(t *testing.T) {
	t.Parallel()
	srv, chans := guildServer(t, 2)
	a, _ := startAdapter(t, srv, nil)
	ctx := waitCtx(t)
	_, err := a.Send(ctx, platforms.Target{Workspace: guildID, Channel: platforms.ChannelID(chans[0])}, platforms.Message{Text: "from a", As: ada})
	mustNoErr(t, err, "send through a")
	// Another replica, after a's guild listing: its own listing, its
	// webhook in channel 1, its message there.
	b, _ := startAdapter(t, srv, nil)
	ref, err := b.Send(ctx, platforms.Target{Workspace: guildID, Channel: platforms.ChannelID(chans[1])}, platforms.Message{Text: "from b", As: ada})
	mustNoErr(t, err, "send through b")
	got, err := a.Edit(ctx, ref, platforms.Message{Text: "edited by a", As: ada})
	mustNoErr(t, err, "edit through a")
	if got.ID != ref.ID {
		t.Errorf("the edit moved the message from %s to %s", ref.ID, got.ID)
	}
	if m, _ := srv.Message(string(ref.ID)); m.Content != "edited by a" || m.Deleted {
		t.Errorf("message after the edit = %+v", m)
	}
	if n := len(srv.Webhooks(chans[1])); n != 1 {
		t.Errorf("channel 1 holds %d webhooks, want b's only", n)
	}
}
