package bolt

import (
	"errors"
	"path/filepath"
	"strconv"
	"sync"
	"testing"

	bbolt "go.etcd.io/bbolt"
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
