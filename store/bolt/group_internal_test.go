package bolt

import (
	"errors"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	bbolt "go.etcd.io/bbolt"

	"github.com/secondme-bridge/secondme-bridge/store"
)

// A call whose function fails in a shared transaction fails alone: its
// error is its own, nothing of it is written, and the calls beside it are
// committed.
func TestGroupCommitFailureIsolated(t *testing.T) {
	t.Parallel()
	db, err := bbolt.Open(filepath.Join(t.TempDir(), "g.db"), 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	if err := db.Update(func(tx *bbolt.Tx) error { _, err := tx.CreateBucket([]byte("b")); return err }); err != nil {
		t.Fatal(err)
	}
	g := newGroupCommit(db)
	bad := errors.New("bad call")
	var wg sync.WaitGroup
	errs := make([]error, 32)
	for i := range errs {
		wg.Go(func() {
			errs[i] = g.run(func(tx *bbolt.Tx) error {
				if err := tx.Bucket([]byte("b")).Put([]byte(strconv.Itoa(i)), []byte("x")); err != nil {
					return err
				}
				if i%5 == 0 {
					return bad
				}
				return nil
			})
		})
	}
	wg.Wait()
	err = db.View(func(tx *bbolt.Tx) error {
		b := tx.Bucket([]byte("b"))
		for i, e := range errs {
			written := b.Get([]byte(strconv.Itoa(i))) != nil
			switch {
			case i%5 == 0 && (!errors.Is(e, bad) || written):
				t.Errorf("call %d: err %v, written %v; want its own error and nothing written", i, e, written)
			case i%5 != 0 && (e != nil || !written):
				t.Errorf("call %d: err %v, written %v; want committed", i, e, written)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// Lease extensions and releases, and records or entries dropped outside a
// turn's Finish, share the hot path's commits (hotDurable). Fifty-five
// such calls queued behind a held commit, some of them refused (a stale
// lease, a missing record, a Finish with a stale lease), are committed in
// one more transaction, each with its own answer, and what they wrote
// survives a reopen.
func TestHotPathCallsShareCommits(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "h.db")
	sealer, err := store.NewSealer(make([]byte, 32))
	if err != nil {
		t.Fatal(err)
	}
	s, err := Open(path, sealer, Options{SweepInterval: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	const leases, stale, missing = 40, 10, 5
	ls := make([]store.Lease, leases)
	for i := range ls {
		if ls[i], err = s.Acquire(ctx, "k"+strconv.Itoa(i), "me", time.Minute); err != nil {
			t.Fatal(err)
		}
	}
	for i := range stale {
		if err := s.Release(ctx, ls[i]); err != nil {
			t.Fatal(err)
		}
	}
	txid := func() (id int) {
		if err := s.db.View(func(tx *bbolt.Tx) error { id = tx.ID(); return nil }); err != nil {
			t.Fatal(err)
		}
		return id
	}

	// Hold a commit open, queue the calls behind it, then let it go.
	holding, release := make(chan struct{}), make(chan struct{})
	held := make(chan error, 1)
	go func() {
		held <- s.hotDurable(ctx, func(tx *bbolt.Tx) error {
			select {
			case <-holding:
			default:
				close(holding)
			}
			<-release
			return nil
		})
	}()
	<-holding
	before := txid()
	var wg sync.WaitGroup
	extended := make([]store.Lease, leases)
	extendErrs := make([]error, leases)
	for i := range ls {
		wg.Go(func() { extended[i], extendErrs[i] = s.Extend(ctx, ls[i], time.Hour) })
	}
	dropErrs := make([]error, 2*missing)
	finishErrs := make([]error, missing)
	for i := range missing {
		wg.Go(func() { dropErrs[i] = s.DeleteReply(ctx, "gone"+strconv.Itoa(i)) })
		wg.Go(func() { dropErrs[missing+i] = s.Inbox().Remove(ctx, "gone"+strconv.Itoa(i)) })
		wg.Go(func() { finishErrs[i] = s.Turns().Finish(ctx, ls[i], nil, time.Hour, "") }) // released: stale
	}
	const calls = leases + 3*missing
	for deadline := time.Now().Add(10 * time.Second); s.group.calls.Pending() < calls; {
		if time.Now().After(deadline) {
			t.Fatalf("%d calls queued behind the held commit, want %d", s.group.calls.Pending(), calls)
		}
		time.Sleep(time.Millisecond)
	}
	close(release)
	wg.Wait()
	if err := <-held; err != nil {
		t.Fatal(err)
	}
	if commits := txid() - before; commits != 2 {
		t.Errorf("%d commits for the held one and %d calls behind it, want 2", commits, calls)
	}
	for i, err := range finishErrs {
		if !errors.Is(err, store.ErrStaleFence) {
			t.Errorf("finish with released lease %d: %v, want a stale fence", i, err)
		}
	}
	for i, err := range extendErrs {
		switch {
		case i < stale && !errors.Is(err, store.ErrStaleFence):
			t.Errorf("extend of released lease %d: %v, want a stale fence", i, err)
		case i >= stale && err != nil:
			t.Errorf("extend of lease %d: %v", i, err)
		case i >= stale && !extended[i].Expiry.After(ls[i].Expiry):
			t.Errorf("lease %d expires at %v, not later than %v", i, extended[i].Expiry, ls[i].Expiry)
		}
	}
	for i, err := range dropErrs {
		if !errors.Is(err, store.ErrNotFound) {
			t.Errorf("drop %d of a missing record or entry: %v, want not found", i, err)
		}
	}

	// Durable: after a reopen the extended leases are held, an hour long.
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if s, err = Open(path, sealer, Options{SweepInterval: time.Hour}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	for i := stale; i < leases; i++ {
		if err := s.Validate(ctx, extended[i]); err != nil {
			t.Errorf("lease %d after a reopen: %v", i, err)
		}
		if _, err := s.Acquire(ctx, "k"+strconv.Itoa(i), "other", time.Minute); !errors.Is(err, store.ErrConflict) {
			t.Errorf("lease %d after a reopen taken by another owner: %v", i, err)
		}
	}
}
