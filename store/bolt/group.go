package bolt

import (
	bbolt "go.etcd.io/bbolt"

	"github.com/secondme-bridge/secondme-bridge/store/internal/group"
)

// groupCommit commits the write transactions of short-lived state
// (dedupe claims, budget tokens) together, so that concurrent callers share
// one fsync instead of queueing for one each: a call that arrives while a
// commit is running waits for the next one, which commits every call then
// waiting in one transaction. A call that finds no commit running commits
// at once, on a goroutine of its own (group.Group.OwnStack), so a lone
// call waits no longer than with DB.Update but for that goroutine's start
// (unlike DB.Batch, which waits MaxBatchDelay for company).
//
// Durability is unchanged: a call returns only after the transaction
// holding its writes has been committed and fsynced, exactly as with
// DB.Update. When one call's function fails, the transaction is rolled
// back, that call runs again alone (its error is its own) and the others
// are committed without it; so, as with DB.Batch, a function may run more
// than once and must set its outputs afresh on every run.
type groupCommit struct {
	db    *bbolt.DB
	calls group.Group[*groupCall] // Send: commit
}

type groupCall struct {
	fn   func(*bbolt.Tx) error
	done chan error
}

// newGroupCommit returns the group commit of db's writes.
func newGroupCommit(db *bbolt.DB) *groupCommit {
	g := &groupCommit{db: db}
	g.calls.Send = g.commit
	// bbolt's commit (spill, rebalance, the meta page, fdatasync) runs
	// deep: a conversation's worker writing its in-flight record would
	// outgrow its 8 KiB stack leading it (see bridge.Bridge.beginChat).
	g.calls.OwnStack = true
	return g
}

// run commits fn's writes (in a transaction shared with other calls) and
// returns its error or the commit's.
func (g *groupCommit) run(fn func(*bbolt.Tx) error) error {
	c := &groupCall{fn: fn, done: make(chan error, 1)}
	g.calls.Add(c)
	return <-c.done
}

// commit runs batch in one transaction; a failing call is taken out, run
// alone, and the rest committed again.
func (g *groupCommit) commit(batch []*groupCall) {
	for len(batch) > 0 {
		failed := -1
		err := g.db.Update(func(tx *bbolt.Tx) error {
			for i, c := range batch {
				if err := c.fn(tx); err != nil {
					failed = i
					return err
				}
			}
			return nil
		})
		if failed < 0 {
			for _, c := range batch {
				c.done <- err // nil, or the commit's failure for every call
			}
			return
		}
		c := batch[failed]
		c.done <- g.db.Update(c.fn)
		batch = append(batch[:failed:failed], batch[failed+1:]...)
	}
}
