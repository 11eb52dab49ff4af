package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/bwmarrin/discordgo"

	"github.com/secondme-bridge/secondme-bridge/platforms/discord/discordtest"
	"github.com/secondme-bridge/secondme-bridge/secondme/secondmetest"
)

// replica is one replica running as a real process.
type replica struct {
	*e2e
	cmd  *exec.Cmd
	done chan struct{}
}

// startReplica runs bin serve with the config of o (the fakes of shared) on a
// free port, and returns once its HTTP server answers; kill it or stop it
// (SIGTERM) in the test, or at cleanup.
func startReplica(t *testing.T, bin string, shared *e2e, o e2eOptions) *replica {
	t.Helper()
	for attempt := 1; ; attempt++ {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := ln.Addr().String()
		_ = ln.Close()
		e := &e2e{sm: shared.sm, dc: shared.dc, sl: shared.sl, base: "http://" + addr, logs: &syncBuffer{}}
		path := writeConfig(t, e.configYAML(t, o, addr))
		cmd := exec.Command(bin, "serve", "--config", path)
		cmd.Stdout, cmd.Stderr = e.logs, e.logs
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		p := &replica{e2e: e, cmd: cmd, done: make(chan struct{})}
		go func() { _ = cmd.Wait(); close(p.done) }()
		t.Cleanup(func() { p.kill() })
		deadline := time.Now().Add(e2eWait)
		for !p.exited() {
			if code, _ := getReadyQuiet(e.base); code != 0 {
				return p
			}
			if time.Now().After(deadline) {
				t.Fatalf("replica did not serve HTTP; logs:\n%s", e.logs)
			}
			time.Sleep(50 * time.Millisecond)
		}
		if attempt >= 3 || !strings.Contains(e.logs.String(), "address already in use") {
			t.Fatalf("replica exited before serving; logs:\n%s", e.logs)
		}
	}
}

func (p *replica) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// kill ends the process with SIGKILL (a crash: nothing released).
func (p *replica) kill() {
	if !p.exited() {
		_ = p.cmd.Process.Kill()
		<-p.done
	}
}

// stop ends the process with SIGTERM (a graceful shutdown) and waits.
func (p *replica) stop(t *testing.T) {
	t.Helper()
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(e2eWait):
		t.Fatalf("replica did not stop on SIGTERM; logs:\n%s", p.logs)
	}
	if code := p.cmd.ProcessState.ExitCode(); code != 0 {
		t.Errorf("replica exited with %d after SIGTERM; logs:\n%s", code, p.logs)
	}
}

// getReadyQuiet is GET /readyz without failing the test: 0 when nothing
// answers.
func getReadyQuiet(base string) (int, readyBody) {
	c := &http.Client{Timeout: 2 * time.Second}
	resp, err := c.Get(base + "/readyz")
	if err != nil {
		return 0, readyBody{}
	}
	defer func() { _ = resp.Body.Close() }()
	var rb readyBody
	_ = json.NewDecoder(resp.Body).Decode(&rb)
	return resp.StatusCode, rb
}

// metricsText returns the body of GET /metrics.
func metricsText(t *testing.T, base string) string {
	t.Helper()
	resp, err := (&http.Client{Timeout: 5 * time.Second}).Get(base + "/metrics")
	if err != nil {
		t.Fatalf("GET /metrics: %v", err)
	}
	defer func() { _ = resp.Body.Close() }()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

// heldShards reads the shards a replica holds from its /readyz
// discord_shards line ("holds 0,2 of 4"); nil when it holds none or does
// not answer.
func heldShards(base string) []int {
	_, rb := getReadyQuiet(base)
	for _, c := range rb.Checks {
		if c.Name != "discord_shards" {
			continue
		}
		list, _, _ := strings.Cut(strings.TrimPrefix(c.Detail, "holds "), " of ")
		var held []int
		for f := range strings.SplitSeq(list, ",") {
			if n, err := strconv.Atoi(f); err == nil {
				held = append(held, n)
			}
		}
		return held
	}
	return nil
}

// connectedShards returns the shards with a ready session at the fake, sorted.
func connectedShards(dc *discordtest.Server) []int {
	s := dc.ShardSessions()
	slices.Sort(s)
	return s
}

func identifiesOf(dc *discordtest.Server, shard int) int {
	n := 0
	for _, id := range dc.Identifies() {
		if id.Sharded && id.Shard == shard {
			n++
		}
	}
	return n
}

// clusterURLIfSet is SECONDME_BRIDGE_TEST_REDIS_CLUSTER_URL, or "".
func clusterURLIfSet() string { return os.Getenv("SECONDME_BRIDGE_TEST_REDIS_CLUSTER_URL") }

// TestE2EDiscordShardsAcrossReplicas is the sharding scenario with
// two real processes on the Redis store: four shards (discord.shards: auto,
// from GET /gateway/bot) and max_concurrency 2 over two replicas started
// together. Each shard is identified exactly once, two per replica, within
// the concurrency rule; a mention in each shard's guild is answered exactly
// once. Then one replica is killed (SIGKILL, nothing released): the other
// identifies its shards within the lease TTL + 5 s. A replica started
// again takes half the shards back (handed over, never connected twice),
// and the survivor's graceful shutdown (SIGTERM) hands its shards over too.
func TestE2EDiscordShardsAcrossReplicas(t *testing.T) {
	t.Parallel()
	redisURL := testRedisURL(t)
	if u := clusterURLIfSet(); u != "" {
		redisURL = u // the cluster when there is one
	}
	const count, maxConc = 4, 2
	const ttl = 4 * time.Second
	var opts []discordtest.Option
	opts = append(opts, discordtest.WithShards(count, maxConc))
	var guilds, channels []string
	for i := range count {
		g := discordtest.GuildIDOnShard(i, count, 0)
		ch := strconv.Itoa(300000000000000000 + i)
		guilds, channels = append(guilds, g), append(channels, ch)
		opts = append(opts, discordtest.WithGuild(discordtest.Guild{ID: g, Name: fmt.Sprintf("Guild %d", i), Channels: []discordtest.Channel{
			{ID: ch, Name: "general", Type: discordgo.ChannelTypeGuildText},
		}}))
	}
	shared := &e2e{sm: secondmetest.New(t), dc: discordtest.New(t, opts...)}
	o := e2eOptions{
		discord: true, redisURL: redisURL, keyPrefix: "{" + strings.TrimSuffix(uniquePrefix(t), ":") + "}:",
		discordExtra: fmt.Sprintf("  shards: auto\n  shard_lease_ttl: %s\n", ttl),
	}
	bin := bridgeBinary(t)

	// Two replicas started together.
	a, b := startReplica(t, bin, shared, o), startReplica(t, bin, shared, o)
	dc := shared.dc
	waitWithin(t, e2eWait, "four shards connected", func() bool { return slices.Equal(connectedShards(dc), []int{0, 1, 2, 3}) })
	for _, p := range []*replica{a, b} {
		if code, rb := waitReady(t, p.base); code != http.StatusOK {
			t.Fatalf("/readyz = %d %+v", code, rb)
		}
	}
	ha, hb := heldShards(a.base), heldShards(b.base)
	if len(ha) != 2 || len(hb) != 2 {
		t.Errorf("replicas hold %v and %v, want two shards each", ha, hb)
	}
	for _, p := range []*replica{a, b} {
		m := metricsText(t, p.base)
		for _, want := range []string{"secondme_bridge_discord_shards_total 4", "secondme_bridge_discord_shards_held 2", "secondme_bridge_discord_shards_connected 2"} {
			if !strings.Contains(m, want+"\n") {
				t.Errorf("/metrics lacks %q", want)
			}
		}
	}
	for i := range count {
		if n := identifiesOf(dc, i); n != 1 {
			t.Errorf("shard %d identified %d times, want once", i, n)
		}
	}
	if v := dc.IdentifyViolations(); len(v) > 0 {
		t.Errorf("identify violations: %q", v)
	}
	if ids := dc.Identifies(); len(ids) != count {
		t.Errorf("%d identifies in all, want %d (one per shard)", len(ids), count)
	} else {
		// max_concurrency 2: the second identify of each bucket waited.
		first, last := ids[0].At, ids[count-1].At
		if last.Sub(first) < 4*time.Second {
			t.Errorf("four identifies within %v: max_concurrency %d should space them by 5 s per bucket", last.Sub(first), maxConc)
		}
	}

	// A mention in each guild is answered exactly once.
	reps := []*e2e{a.e2e, b.e2e}
	u := discordtest.DefaultUser
	linkDiscordUserOn(t, reps, guilds[0], channels[0], u, "42", "Ada Lovelace")
	mentionEach := func(round string) {
		t.Helper()
		for i := range count {
			text := fmt.Sprintf("%s %d", round, i)
			shared.sm.QueueStream(secondmetest.Script{Deltas: []string{"Answer ", text}})
			_, replies, err := dc.MentionAndWait(waitCtx(t), guilds[i], channels[i], u, text, 500*time.Millisecond)
			if err != nil {
				t.Fatalf("mention in guild %d: %v\nlogs A:\n%s\nlogs B:\n%s", i, err, a.logs, b.logs)
			}
			if len(replies) != 1 || dcVisible(replies[0].Content) != "Answer "+text {
				t.Errorf("guild %d: replies %+v, want one \"Answer %s\"", i, replies, text)
			}
		}
	}
	mentionEach("first")
	if n := len(shared.sm.RequestsTo(secondmetest.PathChatStream)); n != count {
		t.Errorf("%d chat calls for %d mentions", n, count)
	}

	// Kill B: A identifies B's shards within the lease TTL + 5 s.
	before := map[int]int{}
	for _, i := range hb {
		before[i] = identifiesOf(dc, i)
	}
	b.kill()
	took := waitWithin(t, ttl+5*time.Second+2*time.Second, "A takes B's shards over", func() bool {
		for _, i := range hb {
			if identifiesOf(dc, i) <= before[i] {
				return false
			}
		}
		return slices.Equal(connectedShards(dc), []int{0, 1, 2, 3})
	})
	t.Logf("takeover after SIGKILL: %v (lease TTL %v)", took.Round(10*time.Millisecond), ttl)
	if took > ttl+5*time.Second {
		t.Errorf("takeover took %v, want within the lease TTL + 5 s (%v)", took, ttl+5*time.Second)
	}
	if h := heldShards(a.base); len(h) != count {
		t.Errorf("A holds %v after B died, want every shard", h)
	}
	mentionEach("second")

	// B again: A hands two shards over.
	c := startReplica(t, bin, shared, o)
	waitWithin(t, 3*ttl+e2eWait, "shards spread over A and C", func() bool {
		return len(heldShards(a.base)) == 2 && len(heldShards(c.base)) == 2 &&
			slices.Equal(connectedShards(dc), []int{0, 1, 2, 3})
	})
	// A stops gracefully: its shards are released and C takes them.
	ha = heldShards(a.base)
	a.stop(t)
	took = waitWithin(t, ttl+5*time.Second+2*time.Second, "C takes A's shards after SIGTERM", func() bool {
		return len(heldShards(c.base)) == count && slices.Equal(connectedShards(dc), []int{0, 1, 2, 3})
	})
	t.Logf("takeover after SIGTERM (leases released): %v; A held %v", took.Round(10*time.Millisecond), ha)
	mentionEach("third")
	if v := dc.IdentifyViolations(); len(v) > 0 {
		t.Errorf("identify violations: %q", v)
	}
	dc.AssertNoPings(t)
}
