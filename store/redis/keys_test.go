package redis_test

import (
	"errors"
	"log/slog"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/google/go-cmp/cmp"

	"github.com/secondme-bridge/secondme-bridge/internal/testutil"
	"github.com/secondme-bridge/secondme-bridge/store"
	"github.com/secondme-bridge/secondme-bridge/store/redis"
	"github.com/secondme-bridge/secondme-bridge/store/storetest"
)

// openMini opens a store on a fresh miniredis with prefix "p:".
func openMini(t *testing.T) (*redis.Store, *miniredis.Miniredis) {
	t.Helper()
	return openMiniWith(t, storetest.NewSealer(t))
}

// openMiniWith is openMini with sealer (whose HashID names the states).
func openMiniWith(t *testing.T, sealer *store.Sealer) (*redis.Store, *miniredis.Miniredis) {
	t.Helper()
	m := miniredis.RunT(t)
	s, err := redis.Open(t.Context(), "redis://"+m.Addr(), sealer, redis.Options{KeyPrefix: "p:", Logger: testutil.Logger(t, slog.LevelDebug)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s, m
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// hashTag returns the part of key Redis Cluster hashes.
func hashTag(key string) string {
	if i := strings.IndexByte(key, '{'); i >= 0 {
		if j := strings.IndexByte(key[i+1:], '}'); j > 0 {
			return key[i+1 : i+1+j]
		}
	}
	return key
}

// TestKeyLayout pins the key names (a change would orphan data in existing
// deployments) and checks that every key is under the prefix and that keys
// used together share a Cluster hash tag.
func TestKeyLayout(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	sealer := storetest.NewSealer(t)
	s, m := openMiniWith(t, sealer)
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

	want := []string{
		"p:budget:chan%3A1",
		"p:conv:{slack:T1:U1}:C1:1.2",
		"p:convs:{slack:T1:U1}",
		"p:dedupe:ev%3A1",
		"p:fence:{conv%3A%7Bx%7D}",
		"p:link:discord::42",
		"p:lock:{conv%3A%7Bx%7D}",
		"p:replies",
		"p:state:" + sealer.HashID("st-1"), // the id itself is never stored
	}
	got := m.Keys()
	slices.Sort(got)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("keys (-want +got):\n%s", diff)
	}
	for _, pair := range [][2]string{
		{"p:conv:{slack:T1:U1}:C1:1.2", "p:convs:{slack:T1:U1}"},
		{"p:lock:{conv%3A%7Bx%7D}", "p:fence:{conv%3A%7Bx%7D}"},
	} {
		if hashTag(pair[0]) != hashTag(pair[1]) {
			t.Errorf("%s and %s are in different Cluster slots", pair[0], pair[1])
		}
	}
}

func TestTTLsWithFastForward(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	sealer := storetest.NewSealer(t)
	s, m := openMiniWith(t, sealer)
	conv := store.ConversationKey{Platform: "discord", Channel: "c", User: "u"}
	must(t, s.PutConversation(ctx, store.Conversation{Key: conv, SessionID: "s"}, time.Hour))
	must(t, s.PutState(ctx, "st", store.PendingLink{}, 10*time.Minute))
	_, err := s.Claim(ctx, "ev", time.Minute)
	must(t, err)
	l1, err := s.Acquire(ctx, "k", "a", 30*time.Second)
	must(t, err)

	for key, want := range map[string]time.Duration{
		"p:conv:{discord::u}:c:": time.Hour, "p:state:" + sealer.HashID("st"): 10 * time.Minute,
		"p:dedupe:ev": time.Minute, "p:lock:{k}": 30 * time.Second, "p:fence:{k}": 0,
	} {
		if got := m.TTL(key); got != want {
			t.Errorf("TTL(%s) = %v, want %v", key, got, want)
		}
	}
	if got := m.TTL("p:convs:{discord::u}"); got < 59*time.Minute || got > time.Hour {
		t.Errorf("index TTL = %v, want about the conversation's hour", got)
	}

	m.FastForward(time.Minute)
	if ok, err := s.Claim(ctx, "ev", time.Minute); err != nil || !ok {
		t.Errorf("claim after expiry = %v, %v; want true", ok, err)
	}
	l2, err := s.Acquire(ctx, "k", "b", time.Minute)
	must(t, err)
	if l2.Fence != l1.Fence+1 {
		t.Errorf("fence after expiry = %d, want %d", l2.Fence, l1.Fence+1)
	}
	if err := s.Release(ctx, l1); !errors.Is(err, store.ErrStaleFence) {
		t.Errorf("release expired lease: %v, want ErrStaleFence", err)
	}

	m.FastForward(time.Hour)
	if _, err := s.ConsumeState(ctx, "st"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("consume expired state: %v", err)
	}
	if _, err := s.GetConversation(ctx, conv); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("get expired conversation: %v", err)
	}
	if m.Exists("p:convs:{discord::u}") {
		t.Error("conversation index outlived its last conversation")
	}
}

// TestIndexPrunesStaleMembers: a put drops index members whose
// conversation has expired, so an active user's index does not grow.
func TestIndexPrunesStaleMembers(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	s, m := openMini(t)
	old := store.ConversationKey{Platform: "discord", Channel: "old", User: "u"}
	cur := store.ConversationKey{Platform: "discord", Channel: "new", User: "u"}
	start := time.Now()
	m.SetTime(start)
	must(t, s.PutConversation(ctx, store.Conversation{Key: old}, time.Minute))
	m.SetTime(start.Add(2 * time.Minute)) // the script's clock (TIME)
	m.FastForward(2 * time.Minute)        // the key TTLs
	must(t, s.PutConversation(ctx, store.Conversation{Key: cur}, time.Hour))
	members, err := m.ZMembers("p:convs:{discord::u}")
	must(t, err)
	if diff := cmp.Diff([]string{"p:conv:{discord::u}:new:"}, members); diff != "" {
		t.Errorf("index members (-want +got):\n%s", diff)
	}
}
