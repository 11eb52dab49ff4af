package bolt

import (
	"bytes"
	"path/filepath"
	"sync"
	"testing"
	"time"

	bbolt "go.etcd.io/bbolt"

	"github.com/secondme-bridge/secondme-bridge/store"
)

// fakeClock is a settable clock for Options.Now.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

func countKeys(t *testing.T, s *Store, bucket []byte) int {
	t.Helper()
	n := 0
	err := s.db.View(func(tx *bbolt.Tx) error {
		n = tx.Bucket(bucket).Stats().KeyN
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func TestSweepRemovesExpiredEntries(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	sealer, err := store.NewSealer(bytes.Repeat([]byte{1}, store.KeySize))
	if err != nil {
		t.Fatal(err)
	}
	clock := &fakeClock{now: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	s, err := Open(filepath.Join(t.TempDir(), "s.db"), sealer, Options{SweepInterval: 10 * time.Millisecond, Now: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })

	conv := store.ConversationKey{Platform: "discord", Channel: "c", User: "u"}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(s.PutConversation(ctx, store.Conversation{Key: conv, SessionID: "s"}, time.Minute))
	must(s.PutState(ctx, "st", store.PendingLink{}, time.Minute))
	must(s.PutState(ctx, "long", store.PendingLink{}, time.Hour))
	_, err = s.Claim(ctx, "ev", time.Minute)
	must(err)
	_, err = s.Acquire(ctx, "lock", "o", time.Minute)
	must(err)
	_, _, err = s.Take(ctx, "bucket", store.Limit{Rate: 1, Burst: 5}, 5)
	must(err)
	must(s.Liveness().Beat(ctx, "o", time.Minute))
	_, err = s.Cancels().Request(ctx, "reply1", time.Minute)
	must(err)

	time.Sleep(50 * time.Millisecond) // sweeps run, nothing has expired yet
	for _, b := range expiringBuckets {
		if countKeys(t, s, b) == 0 {
			t.Fatalf("bucket %s swept before expiry", b)
		}
	}
	clock.Advance(2 * time.Minute)
	deadline := time.Now().Add(5 * time.Second)
	for countKeys(t, s, bucketStates) != 1 || countKeys(t, s, bucketConvs) != 0 {
		if time.Now().After(deadline) {
			t.Fatal("sweeper did not delete expired entries")
		}
		time.Sleep(10 * time.Millisecond)
	}
	for _, b := range [][]byte{bucketDedupe, bucketLocks, bucketBudgets, bucketLiveness, bucketCancels} {
		if n := countKeys(t, s, b); n != 0 {
			t.Errorf("bucket %s has %d entries after the sweep, want 0", b, n)
		}
	}
	if n := countKeys(t, s, bucketFences); n != 1 {
		t.Errorf("fence counters: %d, want 1 (they are never swept)", n)
	}
	if _, err := s.ConsumeState(ctx, "long"); err != nil {
		t.Errorf("unexpired state swept: %v", err)
	}
}

func TestExpiryEnforcedOnReadBeforeSweep(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	sealer, err := store.NewSealer(bytes.Repeat([]byte{1}, store.KeySize))
	if err != nil {
		t.Fatal(err)
	}
	clock := &fakeClock{now: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	s, err := Open(filepath.Join(t.TempDir(), "s.db"), sealer, Options{SweepInterval: time.Hour, Now: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	if err := s.PutState(ctx, "st", store.PendingLink{}, time.Minute); err != nil {
		t.Fatal(err)
	}
	clock.Advance(time.Minute)
	if countKeys(t, s, bucketStates) != 1 {
		t.Fatal("entry missing before any sweep")
	}
	if _, err := s.ConsumeState(ctx, "st"); err == nil {
		t.Fatal("expired state consumed")
	}
	n, err := s.sweep()
	if err != nil || n != 0 {
		t.Fatalf("sweep after the consuming read = %d, %v; want 0 (the read deleted it)", n, err)
	}
}

// Opening the file forgets every liveness record: the file lock proves
// that the processes that wrote them are gone.
func TestOpenForgetsLiveness(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	sealer, err := store.NewSealer(bytes.Repeat([]byte{1}, store.KeySize))
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "s.db")
	s, err := Open(path, sealer, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Liveness().Beat(ctx, "old/1", time.Hour); err != nil {
		t.Fatal(err)
	}
	if got, err := s.Liveness().Alive(ctx); err != nil || len(got) != 1 {
		t.Fatalf("alive = %v, %v", got, err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s, err = Open(path, sealer, Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	if got, err := s.Liveness().Alive(ctx); err != nil || len(got) != 0 {
		t.Fatalf("alive after reopening = %v, %v; want none", got, err)
	}
}

// An inbox entry sealed under another key is listed and adopted as
// Unreadable (so that it can be removed), not an error that would block
// every other entry.
func TestInboxEntryUnderAnotherKey(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "s.db")
	open := func(b byte) *Store {
		sealer, err := store.NewSealer(bytes.Repeat([]byte{b}, store.KeySize))
		if err != nil {
			t.Fatal(err)
		}
		s, err := Open(path, sealer, Options{})
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	conv := store.ConversationKey{Platform: "discord", Channel: "c", User: "u"}
	s := open(1)
	for _, id := range []string{"a", "b"} {
		e := store.InboxEntry{ID: id, Owner: "dead/1", Conversation: conv, Item: []byte("item " + id)}
		if _, err := s.Turns().Enter(ctx, []string{"ev-" + id}, time.Minute, "r", store.Limit{Rate: 1, Burst: 9}, e, 9); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = open(2)
	t.Cleanup(func() { _ = s.Close() })
	es, err := s.Inbox().Adopt(ctx, "dead/1", "live/2")
	if err != nil || len(es) != 2 || !es[0].Unreadable || es[0].Item != nil || es[1].Owner != "live/2" {
		t.Fatalf("adopt under another key = %+v, %v", es, err)
	}
	if err := s.Inbox().Remove(ctx, "a"); err != nil {
		t.Fatal(err)
	}
}
