package bolt_test

import (
	"context"
	"errors"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/secondme-bridge/secondme-bridge/store"
	"github.com/secondme-bridge/secondme-bridge/store/bolt"
	"github.com/secondme-bridge/secondme-bridge/store/storetest"
)

// TestObserveTransactions: reads and writes reach the Observer as "view"
// and "update", without a failure.
func TestObserveTransactions(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	var ops []string
	var errs []error
	obs := func(op string, took time.Duration, err error) {
		mu.Lock()
		defer mu.Unlock()
		if took < 0 {
			t.Errorf("negative duration for %s", op)
		}
		ops, errs = append(ops, op), append(errs, err)
	}
	s, err := bolt.Open(filepath.Join(t.TempDir(), "s.db"), storetest.NewSealer(t), bolt.Options{Observe: obs})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	key := store.UserKey{Platform: "discord", User: "u1"}
	if _, err := s.Links().GetLink(ctx, key); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("GetLink = %v", err)
	}
	if err := s.Links().PutLink(ctx, store.Link{Key: key, SecondMeUserID: "42", Token: store.Token{AccessToken: "a", RefreshToken: "r", Expiry: time.Now().Add(time.Hour)}}); err != nil {
		t.Fatalf("PutLink = %v", err)
	}
	mu.Lock()
	gotView, gotUpdate := false, false
	for _, op := range ops {
		gotView = gotView || op == "view"
		gotUpdate = gotUpdate || op == "update"
	}
	mu.Unlock()
	if !gotView || !gotUpdate {
		t.Errorf("observed %v, want a view and an update", ops)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	for i, err := range errs {
		if err != nil {
			t.Errorf("%s reported %v", ops[i], err)
		}
	}
}
