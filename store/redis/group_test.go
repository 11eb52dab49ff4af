package redis_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"slices"
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

// holdFirst is a go-redis hook that holds the first command named name
// on its way to the server until release is closed: the calls that come
// meanwhile must wait for the next pipeline.
type holdFirst struct {
	name    string
	once    atomic.Bool
	held    chan struct{}
	release chan struct{}
}

func newHoldFirst(name string) *holdFirst {
	return &holdFirst{name: name, held: make(chan struct{}), release: make(chan struct{})}
}

func (h *holdFirst) DialHook(next goredis.DialHook) goredis.DialHook { return next }

func (h *holdFirst) ProcessPipelineHook(next goredis.ProcessPipelineHook) goredis.ProcessPipelineHook {
	return next
}

func (h *holdFirst) ProcessHook(next goredis.ProcessHook) goredis.ProcessHook {
	return func(ctx context.Context, cmd goredis.Cmder) error {
		if strings.EqualFold(cmd.Name(), h.name) && h.once.CompareAndSwap(false, true) {
			close(h.held)
			<-h.release
		}
		return next(ctx, cmd)
	}
}

// groupStore opens a Redis store whose round trips o records, with hook
// on its client.
func groupStore(t *testing.T, o *observed, hook goredis.Hook) (*redis.Store, *storetest.Backend) {
	t.Helper()
	b := storetest.NewBackend(t, storetest.Redis, storetest.Options{})
	s, err := redis.Open(t.Context(), b.URL, b.Sealer, redis.Options{KeyPrefix: b.Prefix, Logger: testutil.Logger(t, slog.LevelDebug), Observe: o.observe})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	if hook != nil {
		redis.AddHook(s, hook)
	}
	return s, b
}

// waitPending waits until n calls wait for the store's next pipeline.
func waitPending(t *testing.T, s *redis.Store, n int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for redis.PipePending(s) < n {
		if time.Now().After(deadline) {
			t.Fatalf("%d calls wait for the next pipeline, want %d", redis.PipePending(s), n)
		}
		time.Sleep(time.Millisecond)
	}
}

// behindAHeldCall sends a first record, whose HSET hold keeps on its way,
// then runs calls, each on a goroutine of its own; once all of them wait
// for the next pipeline it lets the first go, and returns when every call
// has returned.
func behindAHeldCall(t *testing.T, s *redis.Store, hold *holdFirst, calls ...func()) {
	t.Helper()
	var wg sync.WaitGroup
	wg.Go(func() {
		if err := s.PutReply(t.Context(), groupReply("first")); err != nil {
			t.Errorf("first record: %v", err)
		}
	})
	<-hold.held
	for _, call := range calls {
		wg.Go(call)
	}
	waitPending(t, s, len(calls))
	close(hold.release)
	wg.Wait()
}

func groupReply(id string) store.InflightReply {
	return store.InflightReply{
		ID: id, Owner: "replica-1", Text: "text of " + id, Live: true,
		Conversation: store.ConversationKey{Platform: "discord", Channel: "c-" + id, User: "u-" + id},
		StartedAt:    time.Unix(1_700_000_000, 0).UTC(), UpdatedAt: time.Unix(1_700_000_001, 0).UTC(),
	}
}

// TestGroupPipeSendsWaitingCallsTogether: while one in-flight record is on
// its way, 40 more records and 20 turn starts from other goroutines wait,
// and then go in one pipeline: two round trips for 61 calls, and every
// call got its own, right answer.
func TestGroupPipeSendsWaitingCallsTogether(t *testing.T) {
	t.Parallel()
	var o observed
	hold := newHoldFirst("hset")
	s, _ := groupStore(t, &o, hold)
	ctx := t.Context()
	before := len(o.snapshot())

	errs := make(chan error, 60)
	var calls []func()
	for i := 1; i <= 40; i++ {
		calls = append(calls, func() { errs <- s.PutReply(ctx, groupReply(fmt.Sprintf("r-%d", i))) })
	}
	fences := make([]uint64, 20)
	for i := range 20 {
		calls = append(calls, func() {
			conv := store.ConversationKey{Platform: "slack", Workspace: "T", Channel: "C", User: fmt.Sprintf("U%d", i)}
			ts, err := s.Turns().Begin(ctx, fmt.Sprintf("turn-%d", i), "owner-a", time.Minute, conv)
			fences[i] = ts.Lease.Fence
			errs <- err
		})
	}
	behindAHeldCall(t, s, hold, calls...)
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if got := o.snapshot()[before:]; !slices.Equal(got, []string{"hset", "pipeline"}) {
		t.Fatalf("round trips = %v, want one hset, then one pipeline for the 60 calls that waited", got)
	}
	for i, f := range fences {
		if f == 0 {
			t.Fatalf("turn %d began with no fence", i)
		}
	}
	rs, err := s.ListReplies(ctx, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	if len(rs) != 41 {
		t.Fatalf("%d records, want 41", len(rs))
	}
	for _, r := range rs {
		if r.Text != "text of "+r.ID {
			t.Fatalf("record %s holds %q", r.ID, r.Text)
		}
	}
	// A lone call goes at once, by itself.
	mark := len(o.snapshot())
	if err := s.DeleteReply(ctx, "first"); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteReply(ctx, "first"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("second delete = %v, want ErrNotFound", err)
	}
	if got := o.snapshot()[mark:]; !slices.Equal(got, []string{"hdel", "hdel"}) {
		t.Fatalf("round trips of two lone deletes = %v", got)
	}
}

// TestGroupPipeKeepsErrorsApart: in one pipeline, a turn start whose lock
// key holds the wrong type fails alone; the calls beside it succeed.
func TestGroupPipeKeepsErrorsApart(t *testing.T) {
	t.Parallel()
	var o observed
	hold := newHoldFirst("hset")
	s, b := groupStore(t, &o, hold)
	ctx := t.Context()
	if err := b.Raw().Set(ctx, b.Prefix+"lock:{turn-bad}", "not a hash", 0).Err(); err != nil {
		t.Fatal(err)
	}
	var badErr error
	calls := []func(){func() {
		_, badErr = s.Turns().Begin(ctx, "turn-bad", "owner-a", time.Minute, store.ConversationKey{Platform: "slack", Workspace: "T", Channel: "C", User: "U-bad"})
	}}
	for i := range 5 {
		calls = append(calls, func() {
			if err := s.PutReply(ctx, groupReply(fmt.Sprintf("beside-%d", i))); err != nil {
				t.Errorf("record beside the failing call: %v", err)
			}
		})
	}
	behindAHeldCall(t, s, hold, calls...)
	if badErr == nil || !strings.Contains(badErr.Error(), "WRONGTYPE") || !strings.HasPrefix(badErr.Error(), "begin turn: ") {
		t.Fatalf("begin on a lock of the wrong type = %v, want its WRONGTYPE error", badErr)
	}
	rs, err := s.ListReplies(ctx, time.Time{})
	if err != nil || len(rs) != 6 {
		t.Fatalf("records = %d, %v; want 6", len(rs), err)
	}
}

// TestGroupPipeAbandonedCall: a call whose context ends while it waits for
// the next pipeline returns at once with the context's error and is not
// sent; a context already ended sends nothing.
func TestGroupPipeAbandonedCall(t *testing.T) {
	t.Parallel()
	var o observed
	hold := newHoldFirst("hset")
	s, _ := groupStore(t, &o, hold)
	ctx := t.Context()
	done := make(chan error, 1)
	go func() { done <- s.PutReply(ctx, groupReply("first")) }()
	<-hold.held

	wctx, cancel := context.WithCancel(ctx)
	abandoned := make(chan error, 1)
	go func() { abandoned <- s.PutReply(wctx, groupReply("abandoned")) }()
	waitPending(t, s, 1)
	cancel()
	select {
	case err := <-abandoned:
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("abandoned call = %v, want context.Canceled", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("a call whose context ended still waits for the pipeline")
	}
	close(hold.release)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	ended, cancelEnded := context.WithCancel(ctx)
	cancelEnded()
	if err := s.PutReply(ended, groupReply("never")); !errors.Is(err, context.Canceled) {
		t.Fatalf("call with an ended context = %v", err)
	}
	if c := redis.GroupScript(ended, s, goredis.NewScript("return 1"), nil); !errors.Is(c.Err(), context.Canceled) {
		t.Fatalf("script with an ended context = %v", c.Err())
	}
	rs, err := s.ListReplies(ctx, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	if len(rs) != 1 || rs[0].ID != "first" {
		t.Fatalf("records = %+v, want only the first (the abandoned call was never sent)", rs)
	}
}

// TestGroupPipeScriptNotCached: a script the server has never seen, sent
// by several callers in one pipeline, is answered NOSCRIPT for each and
// then run by EVAL, each with its own arguments.
func TestGroupPipeScriptNotCached(t *testing.T) {
	t.Parallel()
	var o observed
	hold := newHoldFirst("hset")
	s, _ := groupStore(t, &o, hold)
	ctx := t.Context()
	// A body of its own, so that no other test has cached it.
	sc := goredis.NewScript("return ARGV[1] .. '" + strings.ToLower(t.Name()) + time.Now().Format(time.RFC3339Nano) + "'")
	got := make([]string, 8)
	errs := make([]error, 8)
	var calls []func()
	for i := range 8 {
		calls = append(calls, func() { got[i], errs[i] = redis.GroupScript(ctx, s, sc, nil, fmt.Sprint(i)).Text() })
	}
	behindAHeldCall(t, s, hold, calls...)
	for i := range 8 {
		if errs[i] != nil || !strings.HasPrefix(got[i], fmt.Sprint(i)+strings.ToLower(t.Name())) {
			t.Fatalf("caller %d got %q, %v", i, got[i], errs[i])
		}
	}
	// Cached now: a lone call needs no EVAL.
	mark := len(o.snapshot())
	if v, err := redis.GroupScript(ctx, s, sc, nil, "x").Text(); err != nil || !strings.HasPrefix(v, "x") {
		t.Fatalf("cached script = %q, %v", v, err)
	}
	if ops := o.snapshot()[mark:]; !slices.Equal(ops, []string{"evalsha"}) {
		t.Fatalf("round trips of a cached script = %v", ops)
	}
}

// TestGroupPipeUnderLoad: many goroutines writing, beginning and finishing
// turns at once (no hold) each see their own results, whatever batches
// formed, and never more round trips than calls.
func TestGroupPipeUnderLoad(t *testing.T) {
	t.Parallel()
	var o observed
	s, _ := groupStore(t, &o, nil)
	ctx := t.Context()
	before := len(o.snapshot())
	const n = 200
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			key := fmt.Sprintf("load-%d", i)
			conv := store.ConversationKey{Platform: "discord", Channel: "c", User: fmt.Sprintf("u%d", i)}
			ts, err := s.Turns().Begin(ctx, key, "owner", time.Minute, conv)
			if err != nil {
				t.Errorf("begin %s: %v", key, err)
				return
			}
			r := groupReply(key)
			if err := s.PutReply(ctx, r); err != nil {
				t.Errorf("record %s: %v", key, err)
				return
			}
			c := store.Conversation{Key: conv, SessionID: "s-" + key}
			if err := s.Turns().Finish(ctx, ts.Lease, &c, time.Hour, r.ID); err != nil {
				t.Errorf("finish %s: %v", key, err)
				return
			}
			got, err := s.GetConversation(ctx, conv)
			if err != nil || got.SessionID != "s-"+key {
				t.Errorf("conversation %s = %+v, %v", key, got, err)
			}
		})
	}
	wg.Wait()
	rs, err := s.ListReplies(ctx, time.Time{})
	if err != nil || len(rs) != 0 {
		t.Fatalf("records left after every turn finished = %d, %v", len(rs), err)
	}
	ops := o.snapshot()[before:]
	calls := 4 * n // begin, record, finish, read back
	t.Logf("%d calls in %d round trips", calls+1, len(ops))
	if len(ops) > calls+1 {
		t.Fatalf("%d round trips for %d calls", len(ops), calls+1)
	}
}

// cutProxy forwards TCP connections to a Redis server until cut, which
// closes its listener and every connection it forwards: the server gone
// for the store, whatever it was doing.
type cutProxy struct {
	ln    net.Listener
	mu    sync.Mutex
	conns []net.Conn
}

func newCutProxy(t *testing.T, target string) *cutProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &cutProxy{ln: ln}
	t.Cleanup(p.cut)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			up, err := net.Dial("tcp", target)
			if err != nil {
				c.Close()
				continue
			}
			p.mu.Lock()
			p.conns = append(p.conns, c, up)
			p.mu.Unlock()
			go func() { _, _ = io.Copy(up, c); up.Close() }()
			go func() { _, _ = io.Copy(c, up); c.Close() }()
		}
	}()
	return p
}

func (p *cutProxy) cut() {
	p.ln.Close()
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range p.conns {
		c.Close()
	}
	p.conns = nil
}

// TestGroupPipeServerGoneMidBatch: the server goes away while one call is
// on its way and others wait for the next pipeline. Every call returns,
// each with its own wrapped error, and none hangs.
func TestGroupPipeServerGoneMidBatch(t *testing.T) {
	t.Parallel()
	storetest.RequireRedis(t)
	opts, err := redis.ParseURL(storetest.RedisURL())
	if err != nil {
		t.Fatal(err)
	}
	proxy := newCutProxy(t, opts.Addrs[0])
	url := strings.Replace(storetest.RedisURL(), opts.Addrs[0], proxy.ln.Addr().String(), 1)
	b := storetest.NewBackend(t, storetest.Redis, storetest.Options{}) // its keys are deleted directly
	s, err := redis.Open(t.Context(), url, b.Sealer, redis.Options{KeyPrefix: b.Prefix, Logger: testutil.Logger(t, slog.LevelDebug)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	hold := newHoldFirst("hset")
	redis.AddHook(s, hold)
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()

	firstErr := make(chan error, 1)
	go func() { firstErr <- s.PutReply(ctx, groupReply("first")) }()
	<-hold.held
	errs := make(chan error, 15)
	for i := range 10 {
		go func() { errs <- s.PutReply(ctx, groupReply(fmt.Sprintf("r-%d", i))) }()
	}
	for i := range 5 {
		go func() {
			conv := store.ConversationKey{Platform: "slack", Workspace: "T", Channel: "C", User: fmt.Sprintf("U%d", i)}
			_, err := s.Turns().Begin(ctx, fmt.Sprintf("gone-%d", i), "owner", time.Minute, conv)
			errs <- err
		}()
	}
	waitPending(t, s, 15)
	proxy.cut()
	close(hold.release)
	if err := <-firstErr; err == nil || !strings.HasPrefix(err.Error(), "put reply: ") {
		t.Fatalf("the call on its way when the server went = %v, want a wrapped error", err)
	}
	for range 15 {
		select {
		case err := <-errs:
			if err == nil || !(strings.HasPrefix(err.Error(), "put reply: ") || strings.HasPrefix(err.Error(), "begin turn: ")) {
				t.Fatalf("a waiting call = %v, want a wrapped error", err)
			}
		case <-time.After(25 * time.Second):
			t.Fatal("a call waiting for the pipeline never returned after the server went")
		}
	}
}
