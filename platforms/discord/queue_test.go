package discord

import (
	"strconv"
	"testing"

	"github.com/bwmarrin/discordgo"

	"github.com/secondme-bridge/secondme-bridge/internal/keyq"
	"github.com/secondme-bridge/secondme-bridge/platforms"
)

// At the queue's bound the adapter pauses the gateway reader instead of
// dropping: Discord does not redeliver gateway events, so every message of
// a burst beyond the bound reaches the bridge, each channel's in order.
func TestQueueFullLosesNothing(t *testing.T) {
	t.Parallel()
	srv := threadedServer(t)
	a, rec := startTuned(t, srv, nil, func(a *Adapter) { a.queue = keyq.New(2) })
	release := make(chan struct{})
	rec.setCheck(func(platforms.Event) { <-release })

	var ids []string
	for i := range 8 {
		ch := []string{channelID, otherChan}[i%2]
		m, err := srv.SendMessageCreate(&discordgo.Message{
			GuildID: guildID, ChannelID: ch, Type: discordgo.MessageTypeDefault,
			Author:   alice.DiscordUser(),
			Content:  "<@" + srv.BotID() + "> message " + strconv.Itoa(i),
			Mentions: []*discordgo.User{{ID: srv.BotID(), Bot: true}},
		})
		mustNoErr(t, err, "dispatch")
		ids = append(ids, "msg:"+m.ID)
	}
	waitFor(t, "the queue to fill", func() bool { return a.queue.Len() == 2 })
	close(release)
	rec.waitUntil(t, "every message handled", func(evs []platforms.Event, _ []string) bool { return len(evs) == len(ids) })
	evs, _ := rec.snapshot()
	last := map[string]int{}
	for _, ev := range evs {
		i := -1
		for j, id := range ids {
			if ev.DedupeIDs[0] == id {
				i = j
			}
		}
		if i < 0 {
			t.Fatalf("unexpected event %+v", ev)
		}
		if prev, ok := last[string(ev.Channel)]; ok && i < prev {
			t.Errorf("channel %s: message %d handled after message %d", ev.Channel, i, prev)
		}
		last[string(ev.Channel)] = i
	}
}

// Messages the bridge never answers (other bots here) are dropped before
// the bounded queue: with the queue full and held, they are still read and
// ignored at once instead of pausing the gateway reader behind it.
func TestIgnoredMessagesTakeNoQueueRoom(t *testing.T) {
	t.Parallel()
	srv := threadedServer(t)
	a, rec := startTuned(t, srv, nil, func(a *Adapter) { a.queue = keyq.New(1) })
	release := make(chan struct{})
	defer close(release)
	rec.setCheck(func(platforms.Event) { <-release })
	_, err := srv.SendMessageCreate(&discordgo.Message{ // handled and held: the queue is full
		GuildID: guildID, ChannelID: channelID, Type: discordgo.MessageTypeDefault,
		Author:   alice.DiscordUser(),
		Content:  "<@" + srv.BotID() + "> hold",
		Mentions: []*discordgo.User{{ID: srv.BotID(), Bot: true}},
	})
	mustNoErr(t, err, "dispatch")
	waitFor(t, "the queue to fill", func() bool { return a.queue.Len() == 1 })
	for i := range 5 {
		_, err := srv.SendMessageCreate(&discordgo.Message{
			GuildID: guildID, ChannelID: otherChan, Type: discordgo.MessageTypeDefault,
			Author:  &discordgo.User{ID: "900000000000000" + strconv.Itoa(i), Username: "otherbot", Bot: true},
			Content: "bot chatter " + strconv.Itoa(i),
		})
		mustNoErr(t, err, "dispatch")
	}
	rec.waitUntil(t, "the bots' messages ignored while the queue is full", func(_ []platforms.Event, ignored []string) bool {
		return len(ignored) >= 5
	})
}
