package bolt_test

import (
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/secondme-bridge/secondme-bridge/store"
	"github.com/secondme-bridge/secondme-bridge/store/bolt"
	"github.com/secondme-bridge/secondme-bridge/store/storetest"
)

// The conformance suite holds with the reservation buckets in memory.
func TestSuiteBudgetsInMemory(t *testing.T) {
	t.Parallel()
	storetest.RunTests(t, func(t *testing.T) store.Store {
		return openStore(t, filepath.Join(t.TempDir(), "mem.db"), bolt.Options{BudgetsInMemory: true})
	})
}

// With BudgetsInMemory no budget decision touches the file (no write
// transaction, so no fsync), a restart starts with full buckets, and
// Take stays in the file (Turns.Admit shares its buckets).
func TestBudgetsInMemoryNeverWrite(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "b.db")
	var mu sync.Mutex
	updates := 0
	obs := func(op string, _ time.Duration, _ error) {
		if op == "update" {
			mu.Lock()
			updates++
			mu.Unlock()
		}
	}
	s := openStore(t, path, bolt.Options{BudgetsInMemory: true, Observe: obs})
	ctx := t.Context()
	l := store.Limit{Rate: 0.001, Burst: 3}
	for range 5 {
		if _, err := s.Budgets().Reserve(ctx, []store.Bucket{{Key: "b", Limit: l}}, 0); err != nil {
			t.Fatal(err)
		}
	}
	if got, err := s.Budgets().Lease(ctx, store.Bucket{Key: "c", Limit: l, Grace: 25 * time.Millisecond}, 3); err != nil || got.Granted != 2 {
		t.Fatalf("lease = %+v, %v; want 2 granted", got, err)
	}
	if err := s.Budgets().Return(ctx, store.Bucket{Key: "c", Limit: l, Grace: 25 * time.Millisecond}, 1); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	n := updates
	mu.Unlock()
	if n != 0 {
		t.Fatalf("%d write transactions for in-memory budget decisions, want 0", n)
	}
	for range l.Burst {
		if _, _, err := s.Budgets().Take(ctx, "t", l, 1); err != nil {
			t.Fatal(err)
		}
	}
	mu.Lock()
	n = updates
	mu.Unlock()
	if n != l.Burst {
		t.Fatalf("%d Takes made %d write transactions, want %d (Take stays in the file)", l.Burst, n, l.Burst)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = openStore(t, path, bolt.Options{BudgetsInMemory: true})
	if got, err := s.Budgets().Lease(ctx, store.Bucket{Key: "c", Limit: l, Grace: 25 * time.Millisecond}, 2); err != nil || got.Granted != 2 {
		t.Fatalf("after a restart lease = %+v, %v; want a full bucket (2)", got, err)
	}
	if ok, _, err := s.Budgets().Take(ctx, "t", l, 1); err != nil || ok {
		t.Fatalf("after a restart Take of the file's emptied bucket = %v, %v; want refused", ok, err)
	}
}

// Concurrent claims committed together are each durable and exact: every
// id is won exactly once, by one of the racers, and every claim survives
// a reopen.
func TestGroupCommitClaims(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "g.db")
	s := openStore(t, path, bolt.Options{})
	ctx := t.Context()
	const ids, racers = 50, 8
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		wins = map[string]int{}
	)
	for range racers {
		wg.Go(func() {
			for i := range ids {
				id := strconv.Itoa(i)
				won, err := s.Claim(ctx, id, time.Hour)
				if err != nil {
					t.Error(err)
					return
				}
				if won {
					mu.Lock()
					wins[id]++
					mu.Unlock()
				}
			}
		})
	}
	wg.Wait()
	for i := range ids {
		if n := wins[strconv.Itoa(i)]; n != 1 {
			t.Errorf("id %d won %d times, want exactly once", i, n)
		}
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = openStore(t, path, bolt.Options{})
	for i := range ids {
		if won, err := s.Claim(ctx, strconv.Itoa(i), time.Hour); err != nil || won {
			t.Fatalf("after a reopen claim %d = %v, %v; want already claimed", i, won, err)
		}
	}
}

// The pacer asks a store's budgets at once when they are decided in this
// process (store.LocalBudgets): bolt's are with BudgetsInMemory, not in
// the file (a decision there is an fsynced write, worth gathering).
func TestBudgetsLocalOnlyInMemory(t *testing.T) {
	t.Parallel()
	mem := openStore(t, filepath.Join(t.TempDir(), "mem.db"), bolt.Options{BudgetsInMemory: true})
	if !store.BudgetsLocal(mem.Budgets()) {
		t.Error("budgets in memory are not local")
	}
	file := openStore(t, filepath.Join(t.TempDir(), "file.db"), bolt.Options{})
	if store.BudgetsLocal(file.Budgets()) {
		t.Error("budgets in the file are local")
	}
}
