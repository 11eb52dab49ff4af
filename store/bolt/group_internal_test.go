package bolt

import (
	"errors"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	bbolt "go.etcd.io/bbolt"
)

// A call whose function fails in a shared transaction fails alone: its
// error is its own, nothing of it is written, and the calls beside it are
// committed.
func TestGroupCommitFailureIsolated(t *testing.T) {
	t.Parallel()
	db := newGroupDB(t)
	g := &groupCommit{db: db}
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
	err := db.View(func(tx *bbolt.Tx) error {
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

// newGroupDB opens a database with bucket "b" for groupCommit tests.
func newGroupDB(t *testing.T) *bbolt.DB {
	t.Helper()
	db, err := bbolt.Open(filepath.Join(t.TempDir(), "g.db"), 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	if err := db.Update(func(tx *bbolt.Tx) error { _, err := tx.CreateBucket([]byte("b")); return err }); err != nil {
		t.Fatal(err)
	}
	return db
}

// Calls that linger share the commit of the first: their writes land in
// one transaction.
func TestGroupCommitLingerShares(t *testing.T) {
	t.Parallel()
	g := &groupCommit{db: newGroupDB(t)}
	var wg sync.WaitGroup
	ids := make([]int, 8)
	for i := range ids {
		wg.Go(func() {
			err := g.runAfter(func(tx *bbolt.Tx) error {
				ids[i] = tx.ID()
				return tx.Bucket([]byte("b")).Put([]byte(strconv.Itoa(i)), []byte("x"))
			}, 5*time.Second)
			if err != nil {
				t.Error(err)
			}
		})
		if i == 0 {
			// The first is the leader, lingering before it commits.
			waitPending(t, g, 1)
		}
	}
	waitPending(t, g, len(ids))
	g.hurryUp() // the test's own: the linger would end on its own after 5 s
	wg.Wait()
	for i, id := range ids {
		if id != ids[0] {
			t.Fatalf("call %d committed in transaction %d, call 0 in %d; want one shared commit", i, id, ids[0])
		}
	}
}

// A call that does not linger ends the linger of the one leading: it is
// committed (with it) long before the linger is over.
func TestGroupCommitHurryEndsLinger(t *testing.T) {
	t.Parallel()
	g := &groupCommit{db: newGroupDB(t)}
	lingered := make(chan error, 1)
	go func() {
		lingered <- g.runAfter(func(tx *bbolt.Tx) error {
			return tx.Bucket([]byte("b")).Put([]byte("late"), []byte("x"))
		}, time.Hour)
	}()
	waitPending(t, g, 1)
	done := make(chan error, 1)
	go func() {
		done <- g.run(func(tx *bbolt.Tx) error { return tx.Bucket([]byte("b")).Put([]byte("hot"), []byte("x")) })
	}()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(time.Minute):
		t.Fatal("a call without linger waited for the leader's hour-long linger")
	}
	if err := <-lingered; err != nil {
		t.Fatal(err)
	}
}

// waitPending waits until n calls are pending in g.
func waitPending(t *testing.T, g *groupCommit, n int) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for {
		g.mu.Lock()
		got := len(g.pending)
		g.mu.Unlock()
		if got >= n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d calls pending, want %d", got, n)
		}
		time.Sleep(time.Millisecond)
	}
}

// hurryUp ends a linger in progress, as a call without linger would.
func (g *groupCommit) hurryUp() {
	select {
	case g.hurry <- struct{}{}:
	default:
	}
}
