package discord

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bwmarrin/discordgo"

	"github.com/secondme-bridge/secondme-bridge/platforms"
	"github.com/secondme-bridge/secondme-bridge/platforms/discord/discordtest"
)

// claimerFunc holds the shards a test chooses: it calls set with held
// (read at each change signal) until ctx is done, then set(nil).
type testClaimer struct {
	mu     sync.Mutex
	held   []int
	count  int
	change chan struct{}
}

func newTestClaimer(held ...int) *testClaimer {
	return &testClaimer{held: held, change: make(chan struct{}, 1)}
}

func (c *testClaimer) Hold(ctx context.Context, count int, set func([]int)) error {
	c.mu.Lock()
	c.count = count
	c.mu.Unlock()
	for {
		c.mu.Lock()
		h := append([]int{}, c.held...)
		c.mu.Unlock()
		set(h)
		select {
		case <-ctx.Done():
			set(nil)
			return nil
		case <-c.change:
		}
	}
}

func (c *testClaimer) hold(held ...int) {
	c.mu.Lock()
	c.held = held
	c.mu.Unlock()
	c.change <- struct{}{}
}

// countingGate lets every identify through and counts them per bucket.
type countingGate struct {
	mu      sync.Mutex
	buckets map[[2]int]int
}

func (g *countingGate) Wait(_ context.Context, bucket, n int) error {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.buckets == nil {
		g.buckets = map[[2]int]int{}
	}
	g.buckets[[2]int{bucket, n}]++
	return nil
}

func shardedServer(t *testing.T, count, maxConc int) (*discordtest.Server, []string) {
	// The test gates let every identify through: only two sessions of
	// one shard count as violations here.
	opts := []discordtest.Option{discordtest.WithShards(count, maxConc), discordtest.WithIdentifyWindow(0)}
	var guilds []string
	for i := range count {
		g := discordtest.GuildIDOnShard(i, count, 0)
		guilds = append(guilds, g)
		opts = append(opts, discordtest.WithGuild(discordtest.Guild{ID: g, Name: "g", Channels: []discordtest.Channel{
			{ID: "3000000000000000" + string(rune('0'+i)), Name: "general", Type: discordgo.ChannelTypeGuildText},
		}}))
	}
	return discordtest.New(t, opts...), guilds
}

// TestShardedAuto: discord.shards auto takes the count and max_concurrency
// from GET /gateway/bot; the adapter connects exactly the shards the
// claimer gives it, each identified once with [id, count], gated in its
// bucket (id % max_concurrency); it receives the events of its shards'
// guilds only; a shard taken away is disconnected before set returns;
// Shards and Ready report what it holds.
func TestShardedAuto(t *testing.T) {
	t.Parallel()
	srv, guilds := shardedServer(t, 4, 2)
	claimer, gate := newTestClaimer(1, 2), &countingGate{}
	a, rec := startAdapter(t, srv, func(c *Config) {
		c.Sharding = &Sharding{Claimer: claimer, Gate: gate}
	})
	waitFor(t, "shards 1 and 2 connected", func() bool {
		st := a.Shards()
		return len(st.Ready) == 2 && a.Ready()
	})
	st := a.Shards()
	if !st.Sharded || st.Count != 4 || len(st.Held) != 2 || st.Held[0] != 1 || st.Held[1] != 2 {
		t.Errorf("Shards() = %+v, want 1 and 2 of 4", st)
	}
	ids := srv.Identifies()
	if len(ids) != 2 {
		t.Fatalf("%d identifies, want 2", len(ids))
	}
	for _, id := range ids {
		if !id.Sharded || id.ShardCount != 4 || (id.Shard != 1 && id.Shard != 2) {
			t.Errorf("identify %+v, want shard 1 or 2 of 4", id)
		}
	}
	gate.mu.Lock()
	if gate.buckets[[2]int{1, 2}] != 1 || gate.buckets[[2]int{0, 2}] != 1 {
		t.Errorf("gate calls %v, want one in bucket 1 and one in bucket 0 of 2", gate.buckets)
	}
	gate.mu.Unlock()

	// Only the guilds of shards 1 and 2 reach this replica.
	for i, g := range guilds {
		if _, err := srv.Mention(g, "3000000000000000"+string(rune('0'+i)), discordtest.DefaultUser, "hi"); err != nil && i != 0 && i != 3 {
			t.Fatalf("mention in guild %d: %v", i, err)
		}
	}
	rec.waitUntil(t, "two mentions", func(evs []platforms.Event, _ []string) bool { return len(evs) >= 2 })
	evs, _ := rec.snapshot()
	for _, ev := range evs {
		if string(ev.Workspace) != guilds[1] && string(ev.Workspace) != guilds[2] {
			t.Errorf("event from guild %q, which is not on shard 1 or 2", ev.Workspace)
		}
	}

	// Shard 2 is taken away, shard 3 given.
	claimer.hold(1, 3)
	waitFor(t, "shards 1 and 3", func() bool {
		st := a.Shards()
		return len(st.Ready) == 2 && st.Ready[0] == 1 && st.Ready[1] == 3
	})
	waitFor(t, "shard 2's session gone", func() bool {
		for _, s := range srv.ShardSessions() {
			if s == 2 {
				return false
			}
		}
		return true
	})
	if v := srv.IdentifyViolations(); len(v) > 0 {
		t.Errorf("violations: %q", v)
	}

	// Holding none: still ready (link pages and Slack still served).
	claimer.hold()
	waitFor(t, "no shard, ready", func() bool { return len(a.Shards().Held) == 0 && a.Ready() })
	waitFor(t, "every session gone", func() bool { return len(srv.ShardSessions()) == 0 })
}

// TestShardingRequired: an unsharded adapter on a bot that must shard
// (close code 4011) stops with an error that says what to set; so does a
// sharded one with too few shards.
func TestShardingRequired(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name     string
		sharding *Sharding
		want     string
	}{
		{"unsharded", nil, "set discord.shards to auto"},
		{"too few", &Sharding{Count: 1, Claimer: newTestClaimer(0), Gate: &countingGate{}}, "set discord.shards to auto or a larger number"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv, _ := shardedServer(t, 2, 1)
			cfg := testConfig(srv)
			cfg.Sharding = tc.sharding
			a, err := New(cfg, testLogger(t))
			mustNoErr(t, err, "New")
			done := make(chan error, 1)
			go func() { done <- a.Run(t.Context(), newRecorder()) }()
			select {
			case err := <-done:
				if err == nil || !strings.Contains(err.Error(), "4011") || !strings.Contains(err.Error(), tc.want) {
					t.Errorf("Run = %v, want the 4011 error naming %q", err, tc.want)
				}
			case <-time.After(waitTimeout):
				t.Fatal("Run did not stop on 4011")
			}
		})
	}
}

func TestShardingConfigErrors(t *testing.T) {
	t.Parallel()
	srv := discordtest.New(t)
	cfg := testConfig(srv)
	cfg.Sharding = &Sharding{Count: -1}
	if _, err := New(cfg, nil); err == nil || !strings.Contains(err.Error(), "shards -1") || !strings.Contains(err.Error(), "claimer") {
		t.Errorf("New = %v, want errors for the count and the missing claimer", err)
	}
}
