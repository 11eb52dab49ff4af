package loadtest

import (
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/bwmarrin/discordgo"

	"github.com/secondme-bridge/secondme-bridge/platforms/discord/discordtest"
	"github.com/secondme-bridge/secondme-bridge/secondme/secondmetest"
)

// Deltas and DeltaGap are the workload of one reply: 50 deltas 20 ms apart.
const (
	Deltas   = 50
	DeltaGap = 20 * time.Millisecond
	guildID  = "900000000000000001"
)

// fakes are the fake SecondMe and Discord of one run, and what they saw.
type fakes struct {
	sm *secondmetest.Server
	dc *discordtest.Server

	mu   sync.Mutex
	done map[string]time.Time // message ("load 17") → when its stream was flushed
}

// channelID and userFor name conversation i's channel and Discord user.
func channelID(i int) string { return strconv.Itoa(910000000000000000 + i) }

func userFor(i int) discordtest.User {
	return discordtest.User{ID: strconv.Itoa(310000000000000000 + i), Username: fmt.Sprintf("load%d", i)}
}

// replyText is the text of every reply: Deltas words.
func replyDeltas() []string {
	d := make([]string, Deltas)
	for i := range d {
		d[i] = fmt.Sprintf("word%02d ", i)
	}
	return d
}

func startFakes(n int) (*fakes, error) {
	chans := make([]discordtest.Channel, n)
	for i := range chans {
		chans[i] = discordtest.Channel{ID: channelID(i), GuildID: guildID, Name: fmt.Sprintf("c%d", i), Type: discordgo.ChannelTypeGuildText}
	}
	dc, err := discordtest.Start(discordtest.WithGuild(discordtest.Guild{ID: guildID, Name: "Load Guild", PreferredLocale: discordtest.DefaultLocale, Channels: chans}))
	if err != nil {
		return nil, err
	}
	sm, err := secondmetest.Start(secondmetest.Options{})
	if err != nil {
		dc.Close()
		return nil, err
	}
	f := &fakes{sm: sm, dc: dc, done: map[string]time.Time{}}
	deltas := replyDeltas()
	sm.SetStreamHandler(func(c secondmetest.ChatCall) secondmetest.Script {
		msg := strings.TrimSpace(c.Message)
		return secondmetest.Script{Deltas: deltas, Delay: DeltaGap, Done: func(string) {
			f.mu.Lock()
			f.done[msg] = time.Now()
			f.mu.Unlock()
		}}
	})
	// Discord's per-route buckets: 5 a second per channel for new
	// messages, per message for edits.
	dc.RateLimit("POST /channels/{id}/messages", 5)
	dc.RateLimit("PATCH /channels/{id}/messages/{mid}", 5)
	return f, nil
}

func (f *fakes) doneAt(msg string) (time.Time, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	t, ok := f.done[msg]
	return t, ok
}

func (f *fakes) doneCount(prefix string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	for m := range f.done {
		if strings.HasPrefix(m, prefix) {
			n++
		}
	}
	return n
}

func (f *fakes) Close() {
	f.sm.Close()
	f.dc.Close()
}
