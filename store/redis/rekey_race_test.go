package redis_test

import (
	"context"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/secondme-bridge/secondme-bridge/store"
	"github.com/secondme-bridge/secondme-bridge/store/redis"
	"github.com/secondme-bridge/secondme-bridge/store/storetest"
)

// adoptBeforeCAS is a go-redis hook that, once, runs adopt just before
// the first compare-and-set script on the inbox is sent: a takeover
// adopting the entry between Rekey's read and its write.
type adoptBeforeCAS struct {
	fired  atomic.Bool
	always bool // before every compare-and-set, not only the first
	adopt  func(ctx context.Context)
}

func (h *adoptBeforeCAS) DialHook(next goredis.DialHook) goredis.DialHook { return next }

func (h *adoptBeforeCAS) ProcessPipelineHook(next goredis.ProcessPipelineHook) goredis.ProcessPipelineHook {
	return next
}

func (h *adoptBeforeCAS) ProcessHook(next goredis.ProcessHook) goredis.ProcessHook {
	return func(ctx context.Context, cmd goredis.Cmder) error {
		args := cmd.Args()
		name := strings.ToLower(cmd.Name())
		if (name == "evalsha" || name == "eval") && len(args) == 7 && strings.HasSuffix(args[3].(string), "inbox:{inbox}") &&
			(h.fired.CompareAndSwap(false, true) || h.always) {
			h.adopt(ctx)
		}
		return next(ctx, cmd)
	}
}

// entryUnderOldKey enters one inbox entry, owned by owner, into a fresh
// Redis backend under an old key, and returns the backend, the old key, a
// new one and the entry.
func entryUnderOldKey(t *testing.T, id, owner string) (b *storetest.Backend, oldKey, newKey []byte, e store.InboxEntry) {
	t.Helper()
	b = storetest.NewBackend(t, storetest.Redis, storetest.Options{})
	oldKey, newKey = storetest.Key(), storetest.Key()
	conv := store.ConversationKey{Platform: "discord", Channel: "c", User: "u-" + id}
	e = store.InboxEntry{ID: id, Owner: owner, Conversation: conv, Item: []byte(`{"interaction":"secret"}`), AdmittedAt: time.Unix(1_700_000_000, 0).UTC()}
	s := b.OpenWith(t, storetest.Sealer(t, oldKey))
	a, err := s.Turns().Enter(t.Context(), []string{"ev-" + id}, time.Minute, "rate:"+id, store.Limit{Rate: 0.001, Burst: 100}, e, 9)
	if err != nil || !a.Claimed || !a.Allowed || a.Full {
		t.Fatalf("enter = %+v, %v", a, err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	return b, oldKey, newKey, e
}

// TestRekeyRacingAdopt: an inbox entry adopted by another replica between
// Rekey's read and its compare-and-set keeps the old seal (Adopt rewrites
// the owner only). Rekey must read it again and re-seal it, not count it
// current: once the old key leaves the configuration, an entry left under
// it is a lost message.
func TestRekeyRacingAdopt(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	b, oldKey, newKey, e := entryUnderOldKey(t, "race-1", "dead/1")

	s := b.OpenWith(t, storetest.Sealer(t, newKey, oldKey))
	rs := s.(*redis.Store)
	hook := &adoptBeforeCAS{adopt: func(ctx context.Context) {
		es, err := s.Inbox().Adopt(ctx, "dead/1", "heir/2")
		if err != nil || len(es) != 1 {
			t.Errorf("adopt during rekey = %d entries, %v; want 1", len(es), err)
		}
	}}
	redis.AddHook(rs, hook)
	counts, err := rs.Rekey(ctx)
	if err != nil {
		t.Fatalf("rekey: %v", err)
	}
	if !hook.fired.Load() {
		t.Fatal("the adopt never ran between rekey's read and write: the test proves nothing")
	}
	if counts.Resealed != 1 || counts.Unreadable != 0 {
		t.Errorf("rekey counts = %+v, want the adopted entry re-sealed (Resealed 1)", counts)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	// The new key alone opens the entry, with its new owner.
	s = b.OpenWith(t, storetest.Sealer(t, newKey))
	es, err := s.Inbox().List(ctx)
	if err != nil {
		t.Fatalf("list inbox: %v", err)
	}
	if len(es) != 1 || es[0].Unreadable || es[0].Owner != "heir/2" || string(es[0].Item) != string(e.Item) {
		t.Errorf("inbox under the new key alone = %+v, want the entry readable, owned by heir/2", es)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
}

// TestRekeyRecordThatKeepsChanging: a record rewritten (under its old
// seal) before every compare-and-set is given up on after a bounded
// number of tries, with an error that says to run rekey again, and the
// record is left intact under the key that opens it.
func TestRekeyRecordThatKeepsChanging(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	b, oldKey, newKey, e := entryUnderOldKey(t, "churn-1", "o/0")

	s := b.OpenWith(t, storetest.Sealer(t, newKey, oldKey))
	rs := s.(*redis.Store)
	var n atomic.Int64
	redis.AddHook(rs, &adoptBeforeCAS{always: true, adopt: func(ctx context.Context) {
		i := n.Add(1)
		if _, err := s.Inbox().Adopt(ctx, fmt.Sprintf("o/%d", i-1), fmt.Sprintf("o/%d", i)); err != nil {
			t.Errorf("adopt: %v", err)
		}
	}})
	_, err := rs.Rekey(ctx)
	if err == nil || !strings.Contains(err.Error(), "run rekey again") {
		t.Fatalf("rekey of a record changing before every write: err = %v, want one that says to run rekey again", err)
	}
	if got := n.Load(); got < 2 || got > 16 {
		t.Errorf("rekey tried the record %d times, want a small bound", got)
	}
	es, err := s.Inbox().List(ctx)
	if err != nil || len(es) != 1 || es[0].Unreadable || string(es[0].Item) != string(e.Item) {
		t.Errorf("inbox after the given-up rekey = %+v, %v; want the entry intact", es, err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
}
