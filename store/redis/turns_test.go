package redis_test

import (
	"context"
	"net"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	goredis "github.com/redis/go-redis/v9"

	"github.com/secondme-bridge/secondme-bridge/store"
	"github.com/secondme-bridge/secondme-bridge/store/redis"
	"github.com/secondme-bridge/secondme-bridge/store/storetest"
)

// TestSplitTurnsConformance runs the suites against the Cluster fallback
// of Turns (separate calls), forced on the single test server.
func TestSplitTurnsConformance(t *testing.T) {
	t.Parallel()
	storetest.RequireRedis(t)
	newSplit := func(t *testing.T) store.Store {
		s, _ := openReal(t)
		return redis.SplitTurnsStore{Store: s}
	}
	t.Run("Suite", func(t *testing.T) {
		t.Parallel()
		storetest.RunTests(t, newSplit)
	})
	t.Run("Concurrency", func(t *testing.T) {
		t.Parallel()
		storetest.RunConcurrencyTests(t, newSplit)
	})
}

// roundTrips counts what go-redis sends: one per Process (a command or a
// script call) and one per pipeline or MULTI/EXEC.
type roundTrips struct{ n atomic.Int64 }

func (r *roundTrips) DialHook(next goredis.DialHook) goredis.DialHook {
	return func(ctx context.Context, network, addr string) (net.Conn, error) { return next(ctx, network, addr) }
}

func (r *roundTrips) ProcessHook(next goredis.ProcessHook) goredis.ProcessHook {
	return func(ctx context.Context, cmd goredis.Cmder) error {
		r.n.Add(1)
		return next(ctx, cmd)
	}
}

func (r *roundTrips) ProcessPipelineHook(next goredis.ProcessPipelineHook) goredis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []goredis.Cmder) error {
		r.n.Add(1)
		return next(ctx, cmds)
	}
}

// TestTurnsOneRoundTrip proves that each Turns method is one round trip
// on a single server, once its script is cached by the server (the first
// call of a script per server costs an extra EVAL after NOSCRIPT), in
// every outcome: a new and a duplicate admission, a begin that wins with a
// conversation and a link and one that conflicts, a finish that writes
// everything and a stale one.
func TestTurnsOneRoundTrip(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	s, _ := openReal(t)
	turns := s.Turns()
	conv := store.ConversationKey{Platform: "slack", Workspace: "T1", Channel: "C1", User: "U1"}
	rate := store.Limit{Rate: 1000, Burst: 100}
	must(t, s.PutLink(ctx, store.Link{Key: conv.UserKey(), Token: store.Token{AccessToken: "tok"}}))
	must(t, s.PutConversation(ctx, store.Conversation{Key: conv, SessionID: "s"}, time.Hour))
	must(t, s.PutReply(ctx, store.InflightReply{ID: "r1"}))
	// Warm the script cache.
	_, err := turns.Admit(ctx, []string{"warm"}, time.Minute, "rate", rate)
	must(t, err)
	warm, err := turns.Begin(ctx, "warm", "o", time.Minute, conv)
	must(t, err)
	must(t, turns.Finish(ctx, warm.Lease, nil, 0, ""))

	rt := &roundTrips{}
	redis.AddHook(s, rt)
	check := func(what string, f func() error) {
		t.Helper()
		before := rt.n.Load()
		if err := f(); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		if n := rt.n.Load() - before; n != 1 {
			t.Errorf("%s: %d round trips, want 1", what, n)
		}
	}
	check("Admit new ids", func() error {
		a, err := turns.Admit(ctx, []string{"ev-1", "msg-1"}, time.Minute, "rate", rate)
		if err == nil && (!a.Claimed || !a.Allowed) {
			t.Errorf("admission = %+v", a)
		}
		return err
	})
	check("Admit duplicate", func() error {
		a, err := turns.Admit(ctx, []string{"ev-1"}, time.Minute, "rate", rate)
		if err == nil && a.Claimed {
			t.Errorf("duplicate admission = %+v", a)
		}
		return err
	})
	var lease store.Lease
	check("Begin", func() error {
		ts, err := turns.Begin(ctx, "turn", "a", time.Minute, conv)
		if err == nil && (!ts.HasConversation || !ts.HasLink || ts.Link.Token.AccessToken != "tok") {
			t.Errorf("turn start = %+v", ts)
		}
		lease = ts.Lease
		return err
	})
	check("Begin conflict", func() error {
		_, err := turns.Begin(ctx, "turn", "b", time.Minute, conv)
		if err == nil {
			t.Error("Begin of a held turn succeeded")
		}
		return nil
	})
	c := store.Conversation{Key: conv, SessionID: "s2"}
	check("Finish", func() error { return turns.Finish(ctx, lease, &c, time.Hour, "r1") })
	check("Finish stale", func() error {
		if err := turns.Finish(ctx, lease, &c, time.Hour, "r1"); err == nil {
			t.Error("stale Finish succeeded")
		}
		return nil
	})
	t.Logf("%d round trips for 6 Turns calls", rt.n.Load())
}

// TestTurnsKeysAndTTLs: the Turns scripts write the single-aggregate keys
// with the same TTLs (read from the server: at most the TTL given, less
// no more than the time since the call), and Finish leaves exactly the
// keys that outlive a turn.
func TestTurnsKeysAndTTLs(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	s, b := openReal(t)
	raw, p := b.Raw(), b.Prefix
	conv := store.ConversationKey{Platform: "discord", Channel: "c", User: "u"}
	since := time.Now()
	a, err := s.Turns().Admit(ctx, []string{"ev"}, time.Minute, "chan", store.Limit{Rate: 1, Burst: 2})
	must(t, err)
	if !a.Claimed || !a.Allowed {
		t.Fatalf("admission = %+v", a)
	}
	// One of two tokens taken at 1/s: full again in exactly 1 s.
	checkPTTL(t, raw, p+"budget:chan", time.Second, since)
	ts, err := s.Turns().Begin(ctx, "k", "o", 30*time.Second, conv)
	must(t, err)
	must(t, s.PutReply(ctx, store.InflightReply{ID: "r"}))
	for key, want := range map[string]time.Duration{
		"dedupe:ev": time.Minute, "lock:{k}": 30 * time.Second, "fence:{k}": noTTL,
	} {
		checkPTTL(t, raw, p+key, want, since)
	}
	since = time.Now()
	must(t, s.Turns().Finish(ctx, ts.Lease, &store.Conversation{Key: conv, SessionID: "s"}, time.Hour, "r"))
	checkPTTL(t, raw, p+"conv:{discord::u}:c:", time.Hour, since)
	checkPTTL(t, raw, p+"convs:{discord::u}", time.Hour, since) // the index expires with its last conversation
	// The lock and the reply are gone; the budget may have expired too.
	var got []string
	for _, k := range b.Keys(t) {
		if k != p+"budget:chan" {
			got = append(got, strings.TrimPrefix(k, p))
		}
	}
	slices.Sort(got)
	want := []string{"conv:{discord::u}:c:", "convs:{discord::u}", "dedupe:ev", "fence:{k}"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("keys after Finish (-want +got):\n%s", diff)
	}
}

// BenchmarkTurn measures a message's store work on the hot path: Admit,
// Begin and Finish, three round trips.
func BenchmarkTurn(b *testing.B) {
	s, ctx := benchStore(b), b.Context()
	conv := store.ConversationKey{Platform: "discord", Channel: "c", User: "u"}
	rate := store.Limit{Rate: 1e9, Burst: 1 << 30}
	c := store.Conversation{Key: conv, SessionID: "s"}
	i := 0
	for b.Loop() {
		i++
		id := "ev-" + strconv.Itoa(i)
		if _, err := s.Turns().Admit(ctx, []string{id}, time.Second, "rate", rate); err != nil {
			b.Fatal(err)
		}
		ts, err := s.Turns().Begin(ctx, "turn", "o", time.Second, conv)
		if err != nil {
			b.Fatal(err)
		}
		if err := s.Turns().Finish(ctx, ts.Lease, &c, time.Second, id); err != nil {
			b.Fatal(err)
		}
	}
}
