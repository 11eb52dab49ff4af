package memory_test

import (
	"errors"
	"testing"
	"time"

	"github.com/secondme-bridge/secondme-bridge/store"
	"github.com/secondme-bridge/secondme-bridge/store/memory"
	"github.com/secondme-bridge/secondme-bridge/store/storetest"
)

func TestSuites(t *testing.T) {
	t.Parallel()
	storetest.RunAll(t, storetest.Memory)
}

func TestOpenWithoutSealer(t *testing.T) {
	t.Parallel()
	if _, err := memory.Open(nil, memory.Options{}); err == nil {
		t.Error("Open without a sealer succeeded")
	}
}

// A write after the sweep interval removes what has expired, so a long
// run does not keep every claim it ever made.
func TestSweepRemovesExpired(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	d := memory.NewData()
	s, err := memory.Open(storetest.NewSealer(t), memory.Options{Data: d, Now: func() time.Time { return now }, SweepInterval: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	conv := store.ConversationKey{Platform: "discord", Channel: "c", User: "u"}
	limit := store.Limit{Rate: 10, Burst: 2}
	steps := []error{
		s.PutConversation(ctx, store.Conversation{Key: conv, SessionID: "s"}, time.Second),
		s.PutState(ctx, "st", store.PendingLink{}, time.Second),
		second(s.Claim(ctx, "ev", time.Second)),
		second(s.Acquire(ctx, "lock", "o", time.Second)),
		second(s.Reserve(ctx, []store.Bucket{{Key: "b", Limit: limit}}, 0)),
	}
	_, _, err = s.Take(ctx, "b", limit, 1)
	for i, err := range append(steps, err) {
		if err != nil {
			t.Fatalf("step %d: %v", i, err)
		}
	}
	if n := memory.Entries(d); n != 6 {
		t.Fatalf("%d entries, want 6", n)
	}
	now = now.Add(2 * time.Minute)
	if _, err := s.Claim(ctx, "later", time.Hour); err != nil {
		t.Fatal(err)
	}
	if n := memory.Entries(d); n != 1 {
		t.Errorf("%d entries after the sweep, want 1 (the new claim)", n)
	}
}

// Handles on one Data see each other's writes; closing one leaves the
// other open.
func TestHandlesShareData(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	sealer := storetest.NewSealer(t)
	d := memory.NewData()
	a, _ := memory.Open(sealer, memory.Options{Data: d})
	b, _ := memory.Open(sealer, memory.Options{Data: d})
	if won, err := a.Claim(ctx, "ev", time.Minute); !won || err != nil {
		t.Fatalf("claim on a: %v, %v", won, err)
	}
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	if won, err := b.Claim(ctx, "ev", time.Minute); won || err != nil {
		t.Errorf("claim on b after a claimed: won %v, err %v; want a duplicate", won, err)
	}
	if err := a.Ping(ctx); !errors.Is(err, store.ErrClosed) {
		t.Errorf("ping a after Close: %v, want ErrClosed", err)
	}
}

func second[T any](_ T, err error) error { return err }

// The memory store's budgets are decided in this process
// (store.LocalBudgets).
func TestBudgetsLocal(t *testing.T) {
	t.Parallel()
	if !store.BudgetsLocal(storetest.Open(t, storetest.Memory).Budgets()) {
		t.Error("the memory store's budgets are not local")
	}
}
