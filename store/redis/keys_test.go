package redis_test

import (
	"context"
	"errors"
	"net"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	goredis "github.com/redis/go-redis/v9"

	"github.com/secondme-bridge/secondme-bridge/store"
	"github.com/secondme-bridge/secondme-bridge/store/redis"
	"github.com/secondme-bridge/secondme-bridge/store/storetest"
)

// commands is a go-redis hook that records the arguments of every command
// the store sends, alone or in a pipeline.
type commands struct {
	mu   sync.Mutex
	args [][]any
}

func (c *commands) DialHook(next goredis.DialHook) goredis.DialHook {
	return func(ctx context.Context, network, addr string) (net.Conn, error) { return next(ctx, network, addr) }
}

func (c *commands) ProcessHook(next goredis.ProcessHook) goredis.ProcessHook {
	return func(ctx context.Context, cmd goredis.Cmder) error {
		c.record(cmd)
		return next(ctx, cmd)
	}
}

func (c *commands) ProcessPipelineHook(next goredis.ProcessPipelineHook) goredis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []goredis.Cmder) error {
		for _, cmd := range cmds {
			c.record(cmd)
		}
		return next(ctx, cmds)
	}
}

func (c *commands) record(cmd goredis.Cmder) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.args = append(c.args, slices.Clone(cmd.Args()))
}

// keys asks the server (COMMAND GETKEYS) which keys the recorded commands
// named, whether they read or wrote them.
func (c *commands) keys(t *testing.T, raw goredis.UniversalClient) []string {
	t.Helper()
	c.mu.Lock()
	defer c.mu.Unlock()
	var keys []string
	for _, args := range c.args {
		if len(args) < 2 {
			continue // PING, MULTI, EXEC: no keys
		}
		got, err := raw.CommandGetKeys(t.Context(), args...).Result()
		if err != nil && strings.Contains(err.Error(), "no key arguments") {
			continue // SCRIPT LOAD and the like
		}
		if err != nil {
			t.Fatalf("COMMAND GETKEYS %v: %v", args[0], err)
		}
		keys = append(keys, got...)
	}
	return keys
}

// TestKeyLayout pins the key names (a change would orphan data in existing
// deployments) and checks that every key the store names is under the
// prefix and that keys used together share a Cluster hash tag.
func TestKeyLayout(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	sealer := storetest.NewSealer(t)
	s, b := openRealWith(t, sealer)
	var sent commands
	redis.AddHook(s, &sent)
	user := store.UserKey{Platform: "slack", Workspace: "T1", User: "U1"}
	conv := store.ConversationKey{Platform: "slack", Workspace: "T1", Channel: "C1", Thread: "1.2", User: "U1"}
	must(t, s.PutLink(ctx, store.Link{Key: store.UserKey{Platform: "discord", User: "42"}, Token: store.Token{AccessToken: "a"}}))
	must(t, s.PutConversation(ctx, store.Conversation{Key: conv, SessionID: "s"}, time.Hour))
	must(t, s.PutState(ctx, "st-1", store.PendingLink{User: user}, time.Minute))
	_, err := s.Claim(ctx, "ev:1", time.Minute)
	must(t, err)
	_, err = s.Acquire(ctx, "conv:{x}", "owner", time.Minute)
	must(t, err)
	must(t, s.PutReply(ctx, store.InflightReply{ID: "r1"}))
	_, _, err = s.Take(ctx, "chan:1", store.Limit{Rate: 1, Burst: 2}, 1)
	must(t, err)

	// The names after the prefix (b.Prefix, unique to this test on the
	// shared server; deployments use "secondme-bridge:").
	want := []string{
		"budget:chan%3A1",
		"conv:{slack:T1:U1}:C1:1.2",
		"convs:{slack:T1:U1}",
		"dedupe:ev%3A1",
		"fence:{conv%3A%7Bx%7D}",
		"link:discord::42",
		"lock:{conv%3A%7Bx%7D}",
		"replies",
		"state:" + sealer.HashID("st-1"), // the id itself is never stored
	}
	var got []string
	for _, k := range b.Keys(t) {
		got = append(got, strings.TrimPrefix(k, b.Prefix))
	}
	slices.Sort(got)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("keys under %s (-want +got):\n%s", b.Prefix, diff)
	}
	// Nothing outside the prefix: every key any command named, as the
	// server reads the command.
	named := sent.keys(t, b.Raw())
	if len(named) == 0 {
		t.Fatal("the hook recorded no keys")
	}
	for _, k := range named {
		if rest, ok := strings.CutPrefix(k, b.Prefix); !ok || !slices.Contains(want, rest) {
			t.Errorf("a command named %q, not one of the keys above under %s", k, b.Prefix)
		}
	}
	for _, pair := range [][2]string{
		{"conv:{slack:T1:U1}:C1:1.2", "convs:{slack:T1:U1}"},
		{"lock:{conv%3A%7Bx%7D}", "fence:{conv%3A%7Bx%7D}"},
	} {
		first, second := hashTag(b.Prefix+pair[0]), hashTag(b.Prefix+pair[1])
		if first != second || first == b.Prefix+pair[0] {
			t.Errorf("%s and %s are not in one Cluster slot (hash tags %q, %q)", pair[0], pair[1], first, second)
		}
	}
}

// TestTTLsAndExpiry: each key gets the TTL it was given (read from the
// server), the fence counter none; and once a key expires (short real
// TTLs, polled), the store behaves as if it were never there: the event
// can be claimed again, the lock taken with the next fence while the
// expired lease is stale, the state and the conversation are not found,
// and the user's index is gone with its last conversation.
func TestTTLsAndExpiry(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	sealer := storetest.NewSealer(t)
	s, b := openRealWith(t, sealer)
	raw, p := b.Raw(), b.Prefix

	since := time.Now()
	conv := store.ConversationKey{Platform: "discord", Channel: "c", User: "u"}
	must(t, s.PutConversation(ctx, store.Conversation{Key: conv, SessionID: "s"}, time.Hour))
	must(t, s.PutState(ctx, "st", store.PendingLink{}, 10*time.Minute))
	_, err := s.Claim(ctx, "ev", time.Minute)
	must(t, err)
	_, err = s.Acquire(ctx, "k", "a", 30*time.Second)
	must(t, err)
	for key, want := range map[string]time.Duration{
		"conv:{discord::u}:c:": time.Hour, "convs:{discord::u}": time.Hour, // the index expires with its last conversation
		"state:" + sealer.HashID("st"): 10 * time.Minute,
		"dedupe:ev":                    time.Minute, "lock:{k}": 30 * time.Second, "fence:{k}": noTTL,
	} {
		checkPTTL(t, raw, p+key, want, since)
	}

	// Expiry, on keys of their own with short TTLs (all in ms: PX and
	// PEXPIRE). The lease, the claim, the conversation and the state
	// expire after 200 ms; each is polled until the server dropped it.
	const short = 200 * time.Millisecond
	convS := store.ConversationKey{Platform: "discord", Channel: "c", User: "v"}
	set := time.Now()
	must(t, s.PutConversation(ctx, store.Conversation{Key: convS, SessionID: "s"}, short))
	must(t, s.PutState(ctx, "st-short", store.PendingLink{}, short))
	ok, err := s.Claim(ctx, "ev-short", short)
	must(t, err)
	if !ok {
		t.Fatal("first claim of ev-short = false")
	}
	l1, err := s.Acquire(ctx, "short", "a", short)
	must(t, err)
	ok, err = s.Claim(ctx, "ev-short", short)
	_, acqErr := s.Acquire(ctx, "short", "b", time.Minute)
	if time.Since(set) < short { // else they may have expired already
		if err != nil || ok {
			t.Errorf("claim before expiry = %v, %v; want false", ok, err)
		}
		if !errors.Is(acqErr, store.ErrConflict) {
			t.Errorf("acquire a held lock before expiry: %v, want ErrConflict", acqErr)
		}
	}
	for key, want := range map[string]time.Duration{
		"conv:{discord::v}:c:": short, "convs:{discord::v}": short, "state:" + sealer.HashID("st-short"): short,
		"dedupe:ev-short": short, "lock:{short}": short,
	} {
		checkPTTL(t, raw, p+key, want, set)
	}

	deadline := time.Now().Add(10 * time.Second)
	waitGone(t, raw, p+"dedupe:ev-short", deadline)
	if ok, err := s.Claim(ctx, "ev-short", time.Minute); err != nil || !ok {
		t.Errorf("claim after expiry = %v, %v; want true", ok, err)
	}
	waitGone(t, raw, p+"lock:{short}", deadline)
	l2, err := s.Acquire(ctx, "short", "b", time.Minute)
	must(t, err)
	if l2.Fence != l1.Fence+1 {
		t.Errorf("fence after expiry = %d, want %d", l2.Fence, l1.Fence+1)
	}
	if err := s.Release(ctx, l1); !errors.Is(err, store.ErrStaleFence) {
		t.Errorf("release expired lease: %v, want ErrStaleFence", err)
	}
	must(t, s.Validate(ctx, l2))
	waitGone(t, raw, p+"state:"+sealer.HashID("st-short"), deadline)
	if _, err := s.ConsumeState(ctx, "st-short"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("consume expired state: %v, want ErrNotFound", err)
	}
	waitGone(t, raw, p+"conv:{discord::v}:c:", deadline)
	if _, err := s.GetConversation(ctx, convS); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("get expired conversation: %v, want ErrNotFound", err)
	}
	// The index's expiry is its last member's (read from TIME in the
	// same script), so it is gone at about the same millisecond.
	waitGone(t, raw, p+"convs:{discord::v}", time.Now().Add(time.Second))
	// The long-lived keys are still there.
	if _, err := s.GetConversation(ctx, conv); err != nil {
		t.Errorf("get the hour-long conversation: %v", err)
	}
}

// TestIndexPrunesStaleMembers: a put drops index members whose
// conversation has expired, so an active user's index does not grow. The
// user keeps a long conversation, so the index itself lives on and only
// the prune can drop the expired member.
func TestIndexPrunesStaleMembers(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	s, b := openReal(t)
	raw, index := b.Raw(), b.Prefix+"convs:{discord::u}"
	keep := store.ConversationKey{Platform: "discord", Channel: "keep", User: "u"}
	old := store.ConversationKey{Platform: "discord", Channel: "old", User: "u"}
	cur := store.ConversationKey{Platform: "discord", Channel: "new", User: "u"}
	must(t, s.PutConversation(ctx, store.Conversation{Key: keep}, time.Hour))
	must(t, s.PutConversation(ctx, store.Conversation{Key: old}, 100*time.Millisecond))
	waitGone(t, raw, b.Prefix+"conv:{discord::u}:old:", time.Now().Add(10*time.Second))
	members := func() []string {
		t.Helper()
		got, err := raw.ZRange(ctx, index, 0, -1).Result() // by score: expiry
		must(t, err)
		return got
	}
	if diff := cmp.Diff([]string{b.Prefix + "conv:{discord::u}:old:", b.Prefix + "conv:{discord::u}:keep:"}, members()); diff != "" {
		t.Fatalf("index members before the put (-want +got):\n%s", diff)
	}
	since := time.Now()
	must(t, s.PutConversation(ctx, store.Conversation{Key: cur}, 2*time.Hour))
	if diff := cmp.Diff([]string{b.Prefix + "conv:{discord::u}:keep:", b.Prefix + "conv:{discord::u}:new:"}, members()); diff != "" {
		t.Errorf("index members after the put (-want +got):\n%s", diff)
	}
	checkPTTL(t, raw, index, 2*time.Hour, since) // the latest member's expiry
}
