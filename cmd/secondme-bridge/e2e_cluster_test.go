package main

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/secondme-bridge/secondme-bridge/internal/config"
	"github.com/secondme-bridge/secondme-bridge/platforms/discord/discordtest"
	"github.com/secondme-bridge/secondme-bridge/secondme/secondmetest"
	"github.com/secondme-bridge/secondme-bridge/store/storetest"
)

// clusterRedisURL returns the real Redis Cluster of
// SECONDME_BRIDGE_TEST_REDIS_CLUSTER_URL (started by .ci/redis-topologies;
// see storetest.TopologyURL).
func clusterRedisURL(t *testing.T) string {
	t.Helper()
	raw := storetest.TopologyURL(t, storetest.ClusterEnv)
	cfg := config.Store{Driver: config.DriverRedis, RedisURL: config.Secret(raw), KeyPrefix: "{" + uniquePrefix(t) + "}", EncryptionKey: testKey}
	st, err := openStore(t.Context(), cfg, testLogger(t))
	if err == nil {
		ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
		err = st.Ping(ctx)
		cancel()
		_ = st.Close()
	}
	if err != nil {
		t.Fatalf("Redis Cluster at %s: %v", describeStore(cfg), err)
	}
	return raw
}

// startReplicas runs n serve processes (in-process, each with its own
// store client and gateway connection) of one deployment: the same config
// apart from the listen address, the same fakes, the same key prefix. The
// first replica's address is the public URL of link pages.
func startReplicas(t *testing.T, o e2eOptions, n int) []*e2e {
	t.Helper()
	first := startE2E(t, o)
	reps := []*e2e{first}
	for range n - 1 {
		e := &e2e{sm: first.sm, dc: first.dc, sl: first.sl}
		for attempt := 1; !e.serve(t, o, attempt < 3); attempt++ {
		}
		if code, rb := waitReady(t, e.base); code != http.StatusOK {
			t.Fatalf("/readyz = %d %+v; logs:\n%s", code, rb, e.logs)
		}
		reps = append(reps, e)
	}
	return reps
}

// linkDiscordUserOn is linkDiscordUser on a deployment of replicas: the
// /link interaction is handled by whichever replica claims it, and its link
// page is served by that replica (a load balancer's job in production).
func linkDiscordUserOn(t *testing.T, reps []*e2e, guild, channel string, u discordtest.User, smUserID, smName string) {
	t.Helper()
	e := reps[0]
	e.sm.AddUser(secondmetest.User{ID: smUserID, Name: smName})
	e.sm.SetAuthorizeDecision(secondmetest.AuthorizeDecision{UserID: smUserID})
	in, err := e.dc.SlashCommand(guild, channel, u, "link", nil)
	if err != nil {
		t.Fatalf("/link: %v", err)
	}
	ctx := waitCtx(t)
	orig, err := e.dc.WaitMessage(ctx, func(m discordtest.Message) bool {
		return m.InteractionID == in.ID && m.Original && len(m.Buttons) > 0
	})
	if err != nil {
		t.Fatalf("no /link button: %v", err)
	}
	link := orig.Buttons[0].URL
	for _, r := range reps {
		if strings.HasPrefix(link, r.base+"/") {
			e = r
		}
	}
	code, page := e.followLink(t, link)
	if code != 200 || !strings.Contains(page, "is now linked") || !strings.Contains(page, smName) {
		t.Fatalf("link page = %d:\n%s", code, page)
	}
}

// TestE2ETwoReplicasOnRedisCluster: two replicas of one deployment on a
// real three-master Redis Cluster, both connected to the (unsharded)
// gateway, so both receive every mention: a user linked through one is
// answered exactly once, in one SecondMe session that the next mention
// continues. Run with a hash-tagged prefix (one slot, the scripts' path)
// and without (keys over every master, the split path).
func TestE2ETwoReplicasOnRedisCluster(t *testing.T) {
	t.Parallel()
	url := clusterRedisURL(t)
	for _, tagged := range []bool{true, false} {
		name := "NoHashTag"
		if tagged {
			name = "HashTag"
		}
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			prefix := uniquePrefix(t)
			if tagged {
				prefix = "{" + strings.TrimSuffix(prefix, ":") + "}:"
			}
			reps := startReplicas(t, e2eOptions{discord: true, redisURL: url, keyPrefix: prefix}, 2)
			e := reps[0]
			if n := len(e.dc.Identifies()); n != 2 {
				t.Fatalf("%d gateway identifies, want 2 (one per replica)", n)
			}
			u := discordtest.DefaultUser
			linkDiscordUserOn(t, reps, discordtest.DefaultGuildID, discordtest.DefaultChannelID, u, "42", "Ada Lovelace")
			var sessions []string
			for i, text := range []string{"first", "second"} {
				e.sm.QueueStream(secondmetest.Script{Deltas: []string{"Answer ", text}, Delay: 20 * time.Millisecond})
				trigger, replies, err := e.dc.MentionAndWait(waitCtx(t), discordtest.DefaultGuildID, discordtest.DefaultChannelID, u, text, time.Second)
				if err != nil {
					t.Fatalf("mention %d: %v\nlogs:\n%s\n%s", i, err, reps[0].logs, reps[1].logs)
				}
				if len(replies) != 1 || dcVisible(replies[0].Content) != "Answer "+text {
					t.Fatalf("mention %d: replies %+v, want one \"Answer %s\"", i, replies, text)
				}
				if replies[0].ReplyTo != trigger.ID {
					t.Errorf("reply references %q, want %q", replies[0].ReplyTo, trigger.ID)
				}
				chats := e.sm.RequestsTo(secondmetest.PathChatStream)
				if len(chats) != i+1 {
					t.Fatalf("%d chat calls after %d mentions (each must be answered once)", len(chats), i+1)
				}
				sessions = append(sessions, dcSessionOf(chats[i]))
			}
			if sessions[0] != "" || sessions[1] == "" {
				t.Errorf("sessions of the two mentions = %q: the second must continue the first's session", sessions)
			}
			e.dc.AssertNoPings(t)
		})
	}
}
