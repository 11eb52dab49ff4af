package redis_test

import (
	"context"
	"errors"
	"log/slog"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/secondme-bridge/secondme-bridge/internal/testutil"
	"github.com/secondme-bridge/secondme-bridge/store"
	"github.com/secondme-bridge/secondme-bridge/store/redis"
	"github.com/secondme-bridge/secondme-bridge/store/storetest"
)

// The topology suites run the store against a real Redis Cluster and a
// real Sentinel deployment, started by .ci/run (.ci/redis-topologies). The
// URLs come from the environment; without them the tests skip, except under
// CI=true, where they fail: CI must run them.
const (
	clusterEnv  = storetest.ClusterEnv
	sentinelEnv = storetest.SentinelEnv
)

var (
	topoMu    sync.Mutex
	topoProbe = map[string]error{}
)

// topologyURL returns the URL in env after checking once that it answers
// (and, for a cluster, that the cluster is a real one in state ok), or
// skips/fails.
func topologyURL(t *testing.T, env string) string {
	t.Helper()
	raw := storetest.TopologyURL(t, env)
	topoMu.Lock()
	defer topoMu.Unlock()
	err, done := topoProbe[raw]
	if !done {
		err = probeTopology(raw, env == clusterEnv)
		topoProbe[raw] = err
	}
	if err != nil {
		t.Fatalf("%s=%s: %v", env, redacted(raw), err)
	}
	return raw
}

func probeTopology(raw string, cluster bool) error {
	opts, err := redis.ParseURL(raw)
	if err != nil {
		return err
	}
	c := goredis.NewUniversalClient(opts)
	defer func() { _ = c.Close() }()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := c.Ping(ctx).Err(); err != nil {
		return err
	}
	if !cluster {
		if opts.MasterName == "" {
			return errors.New("not a Sentinel URL (want master_name=…)")
		}
		return nil
	}
	cc, ok := c.(*goredis.ClusterClient)
	if !ok {
		return errors.New("not a cluster URL (want cluster=true)")
	}
	info, err := cc.ClusterInfo(ctx).Result()
	if err != nil {
		return err
	}
	if !strings.Contains(info, "cluster_state:ok") {
		return errors.New("cluster_state is not ok")
	}
	var masters atomic.Int64
	err = cc.ForEachMaster(ctx, func(context.Context, *goredis.Client) error {
		masters.Add(1)
		return nil
	})
	if err != nil {
		return err
	}
	if masters.Load() < 2 {
		return errors.New("fewer than two masters: keys would not spread across nodes")
	}
	return nil
}

// openTopology opens a store on rawURL under a fresh prefix (hash-tagged
// when tagged) whose keys are deleted from every master at cleanup.
func openTopology(t *testing.T, rawURL string, tagged bool) (*redis.Store, string) {
	t.Helper()
	b := storetest.NewBackend(t, storetest.Redis, storetest.Options{
		RedisURL: rawURL, HashTag: tagged, Logger: testutil.Logger(t, slog.LevelDebug),
	})
	return b.Open(t).(*redis.Store), b.Prefix
}

// redacted is raw without its password.
func redacted(raw string) string {
	if u, err := url.Parse(raw); err == nil {
		return u.Redacted()
	}
	return "(unparsable URL)"
}

// TestClusterConformance runs the conformance and concurrency suites on a
// real three-master Redis Cluster with a hash-tagged prefix (every key in
// one slot: the scripts' one-round-trip path).
func TestClusterConformance(t *testing.T) {
	t.Parallel()
	u := topologyURL(t, clusterEnv)
	newStore := func(t *testing.T) store.Store {
		s, _ := openTopology(t, u, true)
		if redis.SplitPath(s) {
			t.Fatal("hash-tagged prefix on a cluster uses the split path")
		}
		return s
	}
	t.Run("Suite", func(t *testing.T) { t.Parallel(); storetest.RunTests(t, newStore) })
	t.Run("Concurrency", func(t *testing.T) { t.Parallel(); storetest.RunConcurrencyTests(t, newStore) })
}

// TestClusterKeyRotation runs the key rotation test on the real cluster
// with a prefix without a hash tag, so that the records Rekey scans for
// (links, pending links, installs) are spread over the masters.
func TestClusterKeyRotation(t *testing.T) {
	t.Parallel()
	u := topologyURL(t, clusterEnv)
	b := storetest.NewBackend(t, storetest.Redis, storetest.Options{
		RedisURL: u, Logger: testutil.Logger(t, slog.LevelDebug),
	})
	storetest.RunKeyRotationTest(t, b.OpenWith)
}

// TestClusterNoHashTagFallback runs the suites on the real cluster with a
// prefix without a hash tag: keys spread over the masters, and Turns and
// Reserve take their split path (no cross-slot script). It also checks
// that the keys did land on more than one master, so the cross-slot case
// is really exercised.
func TestClusterNoHashTagFallback(t *testing.T) {
	t.Parallel()
	u := topologyURL(t, clusterEnv)
	newStore := func(t *testing.T) store.Store {
		s, _ := openTopology(t, u, false)
		if !redis.SplitPath(s) {
			t.Fatal("prefix without a hash tag on a cluster does not use the split path")
		}
		return s
	}
	t.Run("Suite", func(t *testing.T) { t.Parallel(); storetest.RunTests(t, newStore) })
	t.Run("Concurrency", func(t *testing.T) { t.Parallel(); storetest.RunConcurrencyTests(t, newStore) })
	t.Run("KeysSpread", func(t *testing.T) {
		t.Parallel()
		ctx := t.Context()
		s, prefix := openTopology(t, u, false)
		conv := store.ConversationKey{Platform: "slack", Workspace: "T1", Channel: "C1", User: "U1"}
		must(t, s.PutLink(ctx, store.Link{Key: conv.UserKey(), Token: store.Token{AccessToken: "tok"}}))
		must(t, s.PutConversation(ctx, store.Conversation{Key: conv, SessionID: "s"}, time.Hour))
		for i := range 16 {
			if _, err := s.Dedupe().Claim(ctx, "ev-"+string(rune('a'+i)), time.Minute); err != nil {
				t.Fatal(err)
			}
		}
		a, err := s.Turns().Admit(ctx, []string{"m1", "m2", "m3"}, time.Minute, "rate", store.Limit{Rate: 10, Burst: 10})
		if err != nil || !a.Claimed || !a.Allowed {
			t.Fatalf("Admit = %+v, %v", a, err)
		}
		ts, err := s.Turns().Begin(ctx, "turn", "o", time.Minute, conv)
		if err != nil || !ts.HasConversation || !ts.HasLink {
			t.Fatalf("Begin = %+v, %v", ts, err)
		}
		c := store.Conversation{Key: conv, SessionID: "s2"}
		must(t, s.Turns().Finish(ctx, ts.Lease, &c, time.Hour, ""))
		g, err := s.Budgets().Reserve(ctx, []store.Bucket{
			{Key: "a", Limit: store.Limit{Rate: 10, Burst: 10}},
			{Key: "b", Limit: store.Limit{Rate: 10, Burst: 10}},
			{Key: "c", Limit: store.Limit{Rate: 10, Burst: 10}},
		}, 0)
		if err != nil || !g.OK {
			t.Fatalf("Reserve = %+v, %v", g, err)
		}
		cc := redis.Client(s).(*goredis.ClusterClient)
		var mu sync.Mutex
		holding := 0
		err = cc.ForEachMaster(ctx, func(ctx context.Context, n *goredis.Client) error {
			keys, err := n.Keys(ctx, prefix+"*").Result()
			if len(keys) > 0 {
				mu.Lock()
				holding++
				mu.Unlock()
			}
			return err
		})
		must(t, err)
		if holding < 2 {
			t.Errorf("the prefix's keys are on %d master(s), want them spread over at least 2", holding)
		}
	})
}

// TestClusterTurnsOneRoundTrip: with a hash-tagged prefix, each Turns call
// is one round trip on the cluster too.
func TestClusterTurnsOneRoundTrip(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	s, _ := openTopology(t, topologyURL(t, clusterEnv), true)
	conv := store.ConversationKey{Platform: "slack", Workspace: "T1", Channel: "C1", User: "U1"}
	rate := store.Limit{Rate: 1000, Burst: 100}
	must(t, s.PutLink(ctx, store.Link{Key: conv.UserKey(), Token: store.Token{AccessToken: "tok"}}))
	must(t, s.PutConversation(ctx, store.Conversation{Key: conv, SessionID: "s"}, time.Hour))
	turns := s.Turns()
	// Warm the script cache of the slot's master.
	_, err := turns.Admit(ctx, []string{"warm"}, time.Minute, "rate", rate)
	must(t, err)
	warm, err := turns.Begin(ctx, "warm", "o", time.Minute, conv)
	must(t, err)
	must(t, turns.Finish(ctx, warm.Lease, nil, 0, ""))
	rt := &roundTrips{}
	redis.AddHook(s, rt)
	_, err = turns.Admit(ctx, []string{"ev-1"}, time.Minute, "rate", rate)
	must(t, err)
	ts, err := turns.Begin(ctx, "turn", "a", time.Minute, conv)
	must(t, err)
	must(t, turns.Finish(ctx, ts.Lease, nil, 0, ""))
	if n := rt.n.Load(); n != 3 {
		t.Errorf("3 Turns calls took %d round trips on the cluster, want 3", n)
	}
}

// TestSentinelConformance runs the suites through a Sentinel URL (a real
// master monitored by a real sentinel).
func TestSentinelConformance(t *testing.T) {
	t.Parallel()
	u := topologyURL(t, sentinelEnv)
	newStore := func(t *testing.T) store.Store {
		s, _ := openTopology(t, u, false)
		return s
	}
	t.Run("Suite", func(t *testing.T) { t.Parallel(); storetest.RunTests(t, newStore) })
	t.Run("Concurrency", func(t *testing.T) { t.Parallel(); storetest.RunConcurrencyTests(t, newStore) })
}
