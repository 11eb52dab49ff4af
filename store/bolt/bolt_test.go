package bolt_test

import (
	"errors"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"

	berrors "go.etcd.io/bbolt/errors"

	"github.com/secondme-bridge/secondme-bridge/internal/testutil"
	"github.com/secondme-bridge/secondme-bridge/store"
	"github.com/secondme-bridge/secondme-bridge/store/bolt"
	"github.com/secondme-bridge/secondme-bridge/store/storetest"
)

func openStore(t *testing.T, path string, opts bolt.Options) *bolt.Store {
	t.Helper()
	if opts.Logger == nil {
		opts.Logger = testutil.Logger(t, slog.LevelDebug)
	}
	s, err := bolt.Open(path, storetest.NewSealer(t), opts)
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil && !errors.Is(err, store.ErrClosed) {
			t.Errorf("close: %v", err)
		}
	})
	return s
}

func TestSuites(t *testing.T) {
	t.Parallel()
	storetest.RunAll(t, storetest.Bolt)
}

func TestLockedFileNamesTheFile(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "locked.db")
	openStore(t, path, bolt.Options{})
	start := time.Now()
	_, err := bolt.Open(path, storetest.NewSealer(t), bolt.Options{OpenTimeout: 100 * time.Millisecond})
	if err == nil {
		t.Fatal("second Open of a locked file succeeded")
	}
	if !errors.Is(err, berrors.ErrTimeout) {
		t.Errorf("error %v does not wrap bbolt's ErrTimeout", err)
	}
	if !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), "locked by another process") {
		t.Errorf("error %q does not name the file and the lock", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("Open waited %v, want about the 100ms timeout", d)
	}
}

func TestOpenErrors(t *testing.T) {
	t.Parallel()
	if _, err := bolt.Open("", storetest.NewSealer(t), bolt.Options{}); err == nil {
		t.Error("Open with an empty path succeeded")
	}
	if _, err := bolt.Open(filepath.Join(t.TempDir(), "x.db"), nil, bolt.Options{}); err == nil {
		t.Error("Open without a sealer succeeded")
	}
	dir := filepath.Join(t.TempDir(), "missing", "dir", "x.db")
	if _, err := bolt.Open(dir, storetest.NewSealer(t), bolt.Options{}); err == nil || !strings.Contains(err.Error(), dir) {
		t.Errorf("Open in a missing directory: err = %v, want an error naming the path", err)
	}
}

// TestReopenKeepsData checks persistence, and that fences keep increasing
// across a restart.
func TestReopenKeepsData(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	b := storetest.NewBackend(t, storetest.Bolt, storetest.Options{})
	s := b.Open(t)
	k := store.UserKey{Platform: "discord", User: "1"}
	if err := s.Links().PutLink(ctx, store.Link{Key: k, SecondMeUserID: "sm", Token: store.Token{AccessToken: "a"}}); err != nil {
		t.Fatal(err)
	}
	l1, err := s.Locks().Acquire(ctx, "lock", "a", time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Locks().Release(ctx, l1); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s2 := b.Open(t)
	got, err := s2.Links().GetLink(ctx, k)
	if err != nil || got.Token.AccessToken != "a" || got.SecondMeUserID != "sm" {
		t.Fatalf("after reopen: %+v, %v", got, err)
	}
	l2, err := s2.Locks().Acquire(ctx, "lock", "b", time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if l2.Fence <= l1.Fence {
		t.Errorf("fence after reopen %d, want > %d", l2.Fence, l1.Fence)
	}

	_ = s2.Close()
	s3 := b.OpenWith(t, storetest.NewSealer(t))
	if _, err := s3.Links().GetLink(ctx, k); !errors.Is(err, store.ErrUnseal) {
		t.Errorf("get link under another key: err = %v, want ErrUnseal", err)
	}
}
