package main

import (
	"bytes"
	"fmt"
	"os"
	"runtime"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/bwmarrin/discordgo"

	"github.com/secondme-bridge/secondme-bridge/internal/testutil"
	"github.com/secondme-bridge/secondme-bridge/platforms/discord/discordtest"
	"github.com/secondme-bridge/secondme-bridge/secondme/secondmetest"
)

// TestE2EWorkerStackStaysSmall is bridge's TestWorkerStackStaysSmall
// through the real Discord adapter and discordgo: a conversation's worker
// keeps its stack within the 8 KiB size class through a whole turn,
// including the final edit, whose discordgo and net/http frames under the
// engine's would take it past 8 KiB unless the call has a stack of its own
// (render's onItsOwnStack), with the config as shipped (replies as the
// avatar, through channel webhooks). With the GC off no stack is shrunk,
// so the stack each idle worker had when it retired (2 s after its turn)
// is what it grew to (testutil.CheckWorkerStacks). On Redis when it is
// configured, bolt otherwise; only with testutil.StackCheckFlags and not
// under the race detector (CI runs it so).
func TestE2EWorkerStackStaysSmall(t *testing.T) {
	testutil.SkipUnlessStacksMeasured(t)
	const n = 150
	// The default guild (its general channel for /link) with a text
	// channel per conversation.
	guild := discordtest.Guild{ID: discordtest.DefaultGuildID, Name: "Test Guild", PreferredLocale: discordtest.DefaultLocale,
		Channels: []discordtest.Channel{{ID: discordtest.DefaultChannelID, Name: "general", Type: discordgo.ChannelTypeGuildText}}}
	for i := range n {
		guild.Channels = append(guild.Channels, discordtest.Channel{
			ID: strconv.Itoa(920000000000000000 + i), Name: fmt.Sprintf("stack-%d", i), Type: discordgo.ChannelTypeGuildText,
		})
	}
	// The replies as shipped (reply_as: avatar, through each channel's
	// webhook), from a bot whose global limit was raised out of reach for
	// the measurement only: the replies come together, and no worker
	// retires before the last one is final.
	o := e2eOptions{discord: true, replyAs: "avatar", discordExtra: "  global_rate: 100000\n",
		discordOptions: []discordtest.Option{discordtest.WithGuild(guild)}}
	if u := os.Getenv("SECONDME_BRIDGE_TEST_REDIS_URL"); u != "" {
		o.redisURL = u
	}
	e := startE2E(t, o)
	deltas := []string{"Stacks ", "stay ", "small ", "all ", "along."}
	users := make([]discordtest.User, n)
	for i := range n {
		users[i] = discordtest.User{ID: strconv.Itoa(320000000000000000 + i), Username: fmt.Sprintf("stack%d", i)}
		linkDiscordUser(t, e, users[i], fmt.Sprintf("sm-stack-%d", i), fmt.Sprintf("Stack %d", i))
		e.sm.QueueStream(secondmetest.Script{Deltas: deltas, Delay: 5 * time.Millisecond})
	}
	runtime.GC()
	defer debug.SetGCPercent(debug.SetGCPercent(-1))
	for i := range n {
		if _, err := e.dc.Mention(guild.ID, guild.Channels[1+i].ID, users[i], "hi"); err != nil {
			t.Fatal(err)
		}
	}
	want := "Stacks stay small all along."
	deadline := time.Now().Add(e2eWait)
	for final, asAvatar := 0, 0; asAvatar < n; {
		if time.Now().After(deadline) {
			// The bridge's log about the channels of the replies not
			// posted as the avatar, debug included.
			var asBot []string
			for _, m := range e.dc.Messages() {
				if m.GuildID == guild.ID && dcVisible(m.Content) == want && m.WebhookID == "" {
					asBot = append(asBot, m.ChannelID)
				}
			}
			t.Fatalf("%d of %d replies final, %d as the avatar, after %s:%s\nthe bridge's log above debug:\n%s\nits log about the channels of replies posted as the bot:\n%s",
				final, n, asAvatar, e2eWait, dcDump(e), logLines(e.logs.String(), func(l string) bool { return !strings.Contains(l, "level=DEBUG") }),
				logLines(e.logs.String(), func(l string) bool {
					return slices.ContainsFunc(asBot, func(c string) bool { return strings.Contains(l, c) })
				}))
		}
		time.Sleep(20 * time.Millisecond)
		final, asAvatar = 0, 0
		for _, m := range e.dc.Messages() {
			if m.GuildID == guild.ID && dcVisible(m.Content) == want {
				final++
				if m.WebhookID != "" {
					asAvatar++
				}
			}
		}
	}
	time.Sleep(300 * time.Millisecond) // the turns end: the workers wait in drain
	idle := drainGoroutines()          // the workers to retire (the first may have already)
	if idle < n/2 {
		t.Fatalf("only %d of %d workers still idle after their turns: the measurement would be about too few", idle, n)
	}
	testutil.CheckWorkerStacks(t, "discord", idle, func() {
		for workers := drainGoroutines(); workers > 0; workers = drainGoroutines() {
			if time.Now().After(deadline) {
				t.Fatalf("%d conversation workers still running", workers)
			}
			time.Sleep(50 * time.Millisecond)
		}
		time.Sleep(100 * time.Millisecond)
	})
}

// drainGoroutines counts the conversation workers (bridge's drain) alive.
func drainGoroutines() int {
	buf := make([]byte, 1<<20)
	for {
		k := runtime.Stack(buf, true)
		if k < len(buf) {
			return bytes.Count(buf[:k], []byte("bridge.(*Bridge).drain("))
		}
		buf = make([]byte, 2*len(buf))
	}
}

// logLines returns the lines of log that keep holds for.
func logLines(log string, keep func(line string) bool) string {
	var sb strings.Builder
	for line := range strings.Lines(log) {
		if keep(line) {
			sb.WriteString(line)
		}
	}
	return sb.String()
}
