package bolt

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync/atomic"
	"time"

	bbolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"

	"github.com/secondme-bridge/secondme-bridge/store"
	"github.com/secondme-bridge/secondme-bridge/store/internal/codec"
	"github.com/secondme-bridge/secondme-bridge/store/internal/hub"
	"github.com/secondme-bridge/secondme-bridge/store/memory"
)

// Options tunes a bolt store. The zero value is ready to use.
type Options struct {
	// Logger receives the sweeper's debug and error lines. Default: discard.
	Logger *slog.Logger
	// OpenTimeout bounds the wait for the file lock. Default: 1s.
	OpenTimeout time.Duration
	// SweepInterval is how often expired entries are deleted from the file.
	// Expiry is enforced on read regardless. Default: 1m.
	SweepInterval time.Duration
	// Now is the clock for TTLs, leases and budgets. Default: time.Now.
	Now func() time.Time
	// Observe, when set, is told of every transaction: op "view" or
	// "update", its duration and error.
	Observe store.Observer
	// BudgetsInMemory keeps the reservation buckets of Budgets (Reserve,
	// Lease, Return) in this process's memory instead of the file: no
	// budget decision is written or fsynced. A bolt file has one process
	// by construction, so nothing is shared that memory would miss; a
	// restart starts with full buckets (the platforms' own limits then
	// answer any excess with a 429 the adapters wait out). Budgets.Take
	// stays in the file: Turns.Admit takes from the same buckets in the
	// transaction of its claims.
	BudgetsInMemory bool
}

// Bucket names. Every key in them is built by store/internal/codec.
var (
	bucketLinks   = []byte("links")
	bucketConvs   = []byte("conversations")
	bucketStates  = []byte("states")
	bucketDedupe  = []byte("dedupe")
	bucketLocks   = []byte("locks")
	bucketFences  = []byte("fences")
	bucketReplies = []byte("replies")
	bucketBudgets = []byte("budgets")
	bucketInstall = []byte("installs")
	bucketCancels = []byte("cancels")
	// Crash recovery (liveness.go, inbox.go).
	bucketLiveness = []byte("liveness")
	bucketInbox    = []byte("inbox")
	bucketInboxIDs = []byte("inbox_ids")
	allBuckets     = [][]byte{
		bucketLinks, bucketConvs, bucketStates, bucketDedupe,
		bucketLocks, bucketFences, bucketReplies, bucketBudgets, bucketInstall, bucketCancels,
		bucketLiveness, bucketInbox, bucketInboxIDs,
	}
	// expiringBuckets hold entry values that the sweeper may delete.
	expiringBuckets = [][]byte{bucketConvs, bucketStates, bucketDedupe, bucketLocks, bucketBudgets, bucketLiveness, bucketCancels}
)

// Store is a store.Store on one bbolt file. Only one process (and one Store)
// may have the file open at a time. Methods are safe for concurrent use;
// writes are serialized by bbolt's single writer.
type Store struct {
	db     *bbolt.DB
	path   string
	sealer *store.Sealer
	log    *slog.Logger
	// unreadable warns once per record that no key opens.
	unreadable *codec.Unreadable
	now        func() time.Time
	// observe is Options.Observe (nil: none).
	observe store.Observer
	// group commits short-lived writes together (shortLived).
	group *groupCommit
	// memBudgets, when set (Options.BudgetsInMemory), holds the
	// reservation buckets (Reserve, Lease, Return) in memory.
	memBudgets store.Budgets
	// stops fans stop requests out to Cancels.Watch.
	stops  hub.Hub
	closed atomic.Bool
	stop   chan struct{}
	done   chan struct{}
}

var _ store.Store = (*Store)(nil)

// Open opens (creating it with mode 0600 if needed) the bolt store at path
// and starts its sweeper goroutine, which Close stops. It fails if the file
// is locked by another process or handle for longer than opts.OpenTimeout;
// that error names the file and wraps bbolt's errors.ErrTimeout.
func Open(path string, sealer *store.Sealer, opts Options) (*Store, error) {
	if path == "" {
		return nil, errors.New("open bolt store: empty path")
	}
	if sealer == nil {
		return nil, fmt.Errorf("open bolt store %s: nil sealer", path)
	}
	if opts.OpenTimeout <= 0 {
		opts.OpenTimeout = time.Second
	}
	if opts.SweepInterval <= 0 {
		opts.SweepInterval = time.Minute
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	// The free-page list is not written with every commit (as etcd does):
	// each commit writes and fsyncs only the pages it changed and the meta
	// page, and opening the file rebuilds the list by walking it (a crash
	// loses no data; only pages freed since are found again). The map
	// free list answers allocations without scanning an array. Measured
	// 5–10% less CPU per reply under the load test (bin/loadtest -n 200
	// -store bolt, README).
	db, err := bbolt.Open(path, 0o600, &bbolt.Options{
		Timeout: opts.OpenTimeout, NoFreelistSync: true, FreelistType: bbolt.FreelistMapType,
	})
	if errors.Is(err, berrors.ErrTimeout) {
		return nil, fmt.Errorf("open bolt store %s: file is locked by another process (timeout %s): %w", path, opts.OpenTimeout, err)
	}
	if err != nil {
		return nil, fmt.Errorf("open bolt store %s: %w", path, err)
	}
	err = db.Update(func(tx *bbolt.Tx) error {
		// The file lock is ours: every liveness record is of a dead
		// process, so their replies, leases and inboxes are orphans now.
		if tx.Bucket(bucketLiveness) != nil {
			if err := tx.DeleteBucket(bucketLiveness); err != nil {
				return fmt.Errorf("clear liveness: %w", err)
			}
		}
		for _, name := range allBuckets {
			if _, err := tx.CreateBucketIfNotExists(name); err != nil {
				return fmt.Errorf("create bucket %s: %w", name, err)
			}
		}
		return nil
	})
	if err != nil {
		_ = db.Close() // the open error is the one worth reporting
		return nil, fmt.Errorf("open bolt store %s: %w", path, err)
	}
	s := &Store{
		db: db, path: path, sealer: sealer, now: opts.Now, observe: opts.Observe,
		log:  opts.Logger.With(slog.Group("store", "driver", "bolt", "path", path)),
		stop: make(chan struct{}), done: make(chan struct{}),
	}
	s.unreadable = codec.NewUnreadable(s.log)
	s.group = newGroupCommit(db)
	if opts.BudgetsInMemory {
		mem, err := memory.Open(sealer, memory.Options{Now: opts.Now, Logger: opts.Logger})
		if err != nil {
			_ = db.Close()
			return nil, fmt.Errorf("open bolt store %s: %w", path, err)
		}
		s.memBudgets = mem.Budgets()
	}
	go s.sweepLoop(opts.SweepInterval)
	return s, nil
}

// Links returns the link aggregate.
func (s *Store) Links() store.Links { return s }

// Conversations returns the conversation aggregate.
func (s *Store) Conversations() store.Conversations { return s }

// States returns the one-time state aggregate.
func (s *Store) States() store.States { return s }

// Dedupe returns the event claim aggregate.
func (s *Store) Dedupe() store.Dedupe { return s }

// Locks returns the lease lock aggregate.
func (s *Store) Locks() store.Locks { return s }

// Replies returns the in-flight reply aggregate.
func (s *Store) Replies() store.Replies { return s }

// Budgets returns the token bucket aggregate: the file's, or with
// Options.BudgetsInMemory the reservation buckets in memory.
func (s *Store) Budgets() store.Budgets {
	if s.memBudgets != nil {
		return memBudgets{s, s.memBudgets}
	}
	return s
}

// memBudgets is store.Budgets with Reserve, Lease and Return in memory
// (Options.BudgetsInMemory) and Take in the file.
type memBudgets struct {
	file *Store
	mem  store.Budgets
}

// Local reports that the reservation buckets, which the budget pacer
// uses, are decided in this process's memory (store.LocalBudgets);
// Budgets.Take, in the file, is not what the pacer asks.
func (b memBudgets) Local() bool { return true }

// Take implements store.Budgets in the file (see Options.BudgetsInMemory).
func (b memBudgets) Take(ctx context.Context, key string, limit store.Limit, n int) (bool, time.Duration, error) {
	return b.file.Take(ctx, key, limit, n)
}

// Reserve implements store.Budgets in memory.
func (b memBudgets) Reserve(ctx context.Context, buckets []store.Bucket, after time.Duration) (store.Grant, error) {
	if b.file.closed.Load() {
		return store.Grant{}, fmt.Errorf("reserve budgets: %w", store.ErrClosed)
	}
	return b.mem.Reserve(ctx, buckets, after)
}

// ReserveEach implements store.Budgets in memory.
func (b memBudgets) ReserveEach(ctx context.Context, reqs []store.Reservation) ([]store.Grant, error) {
	if b.file.closed.Load() {
		return nil, fmt.Errorf("reserve budgets: %w", store.ErrClosed)
	}
	return b.mem.ReserveEach(ctx, reqs)
}

// Lease implements store.Budgets in memory.
func (b memBudgets) Lease(ctx context.Context, bk store.Bucket, want int) (store.Leased, error) {
	if b.file.closed.Load() {
		return store.Leased{}, fmt.Errorf("lease budget: %w", store.ErrClosed)
	}
	return b.mem.Lease(ctx, bk, want)
}

// Return implements store.Budgets in memory.
func (b memBudgets) Return(ctx context.Context, bk store.Bucket, n int) error {
	if b.file.closed.Load() {
		return fmt.Errorf("return budget: %w", store.ErrClosed)
	}
	return b.mem.Return(ctx, bk, n)
}

// Ping runs an empty read transaction.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.view(ctx, func(*bbolt.Tx) error { return nil }); err != nil {
		return fmt.Errorf("ping bolt store: %w", err)
	}
	return nil
}

// Close stops the sweeper and closes the file, waiting for running
// transactions. Later calls, including Close, return store.ErrClosed.
func (s *Store) Close() error {
	if !s.closed.CompareAndSwap(false, true) {
		return store.ErrClosed
	}
	close(s.stop)
	<-s.done
	if err := s.db.Close(); err != nil {
		return fmt.Errorf("close bolt store %s: %w", s.path, err)
	}
	return nil
}

// view runs fn in a read transaction, mapping a closed database to
// store.ErrClosed.
func (s *Store) view(ctx context.Context, fn func(tx *bbolt.Tx) error) error {
	return s.tx(ctx, "view", s.db.View, fn)
}

// shortLived runs fn in a write transaction shared with concurrent calls
// (groupCommit): for short-lived state (dedupe claims, budget tokens), so
// that bursts of them share an fsync. fn may run more than once.
func (s *Store) shortLived(ctx context.Context, fn func(tx *bbolt.Tx) error) error {
	return s.tx(ctx, "update", s.group.run, fn)
}

// hotDurable runs fn in a write transaction committed with the other
// writes waiting then (groupCommit), for the durable records a turn writes
// on the hot path (turn begin, inbox entry, in-flight record, turn finish,
// lease extension and release, a record or entry dropped outside Finish):
// each call still returns only once its writes are fsynced, as with
// update, but a burst of turns shares the fsyncs. fn may run more than
// once and must set its outputs afresh on every run. An expected refusal
// (not found, a stale lease) is best found before fn writes and returned
// after the commit: an error from fn rolls the shared transaction back
// and commits the others again without it.
func (s *Store) hotDurable(ctx context.Context, fn func(tx *bbolt.Tx) error) error {
	return s.tx(ctx, "update", s.group.run, fn)
}

// update runs fn in a write transaction: all of fn's writes commit, or none
// if it returns an error.
func (s *Store) update(ctx context.Context, fn func(tx *bbolt.Tx) error) error {
	return s.tx(ctx, "update", s.db.Update, fn)
}

func (s *Store) tx(ctx context.Context, op string, run func(func(*bbolt.Tx) error) error, fn func(*bbolt.Tx) error) error {
	if s.closed.Load() {
		return store.ErrClosed
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	start := time.Now()
	err := run(fn)
	if errors.Is(err, berrors.ErrDatabaseNotOpen) {
		err = store.ErrClosed
	}
	if s.observe != nil {
		s.observe(op, time.Since(start), failure(err))
	}
	return err
}

// failure is err as the Observer sees it: the outcomes the store's
// contract names (a missing key, a conflict, a stale fence) are answers,
// not failures of the round trip.
func failure(err error) error {
	if errors.Is(err, store.ErrNotFound) || errors.Is(err, store.ErrConflict) || errors.Is(err, store.ErrStaleFence) {
		return nil
	}
	return err
}
