package memory

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/secondme-bridge/secondme-bridge/store"
	"github.com/secondme-bridge/secondme-bridge/store/internal/codec"
	"github.com/secondme-bridge/secondme-bridge/store/internal/hub"
)

// Options tunes a memory store. The zero value is ready to use.
type Options struct {
	// Data is the state the store works on; stores opened on the same Data
	// share it. Default: new, empty Data.
	Data *Data
	// Now is the clock for TTLs, leases and budgets. Default: time.Now.
	Now func() time.Time
	// SweepInterval is the least time between two sweeps of expired
	// entries. Expiry is enforced on read regardless. Default: 1m.
	SweepInterval time.Duration
	// Logger receives the warning about a record that no configured key
	// opens (once per record). Default: discard.
	Logger *slog.Logger
}

// Data is the state of one memory store, shared by the Store handles
// opened on it. Create it with NewData; it is safe for concurrent use.
type Data struct {
	mu        sync.Mutex
	nextSweep time.Time

	links   map[store.UserKey][]byte // codec.EncodeLink: tokens sealed
	convs   map[store.UserKey]map[store.ConversationKey]item[store.Conversation]
	states  map[string]item[[]byte] // Sealer.HashID(id) → codec.EncodeState
	dedupe  map[string]time.Time    // id → expiry
	cancels map[string]time.Time    // reply id → expiry of its stop request
	stops   hub.Hub                 // Cancels.Watch (not under mu: it has its own lock)
	locks   map[string]item[lockState]
	fences  map[string]uint64             // never deleted: fences never repeat
	replies map[string][]byte             // codec.EncodeReply: handles sealed
	tokens  map[string]item[codec.Tokens] // Budgets.Take buckets
	gcra    map[string]float64            // Budgets.Reserve buckets: TAT, unix µs

	installs map[string][]byte    // codec.InstallKey → codec.EncodeInstall: tokens sealed
	live     map[string]time.Time // owner → expiry of its liveness record
	inbox    map[string]codec.InboxRecord
	inboxN   map[string]int // entries per conversation (codec.Conversation)
	inboxSeq uint64
}

// NewData returns empty state for Open.
func NewData() *Data {
	return &Data{
		links:   map[store.UserKey][]byte{},
		convs:   map[store.UserKey]map[store.ConversationKey]item[store.Conversation]{},
		states:  map[string]item[[]byte]{},
		dedupe:  map[string]time.Time{},
		cancels: map[string]time.Time{},
		locks:   map[string]item[lockState]{},
		fences:  map[string]uint64{},
		replies: map[string][]byte{},
		tokens:  map[string]item[codec.Tokens]{},
		gcra:    map[string]float64{},

		installs: map[string][]byte{},
		live:     map[string]time.Time{},
		inbox:    map[string]codec.InboxRecord{},
		inboxN:   map[string]int{},
	}
}

// item is a value with an expiry.
type item[V any] struct {
	v   V
	exp time.Time
}

func (it item[V]) live(now time.Time) bool { return now.Before(it.exp) }

// getLive returns the value of k in m if it has not expired at now.
func getLive[K comparable, V any](m map[K]item[V], k K, now time.Time) (V, bool) {
	it, ok := m[k]
	if !ok || !it.live(now) {
		var zero V
		return zero, false
	}
	return it.v, true
}

// Store is a store.Store on a Data. Methods are safe for concurrent use.
type Store struct {
	d          *Data
	sealer     *store.Sealer
	unreadable *codec.Unreadable // warns once per record no key opens
	now        func() time.Time
	sweep      time.Duration
	closed     atomic.Bool
}

var _ store.Store = (*Store)(nil)

// Open returns a store on opts.Data (new Data by default) that seals with
// sealer what the other backends seal (tokens, interaction handles) and
// names one-time ids by their keyed hash. It starts no goroutine and does no I/O.
func Open(sealer *store.Sealer, opts Options) (*Store, error) {
	if sealer == nil {
		return nil, fmt.Errorf("open memory store: nil sealer")
	}
	if opts.Data == nil {
		opts.Data = NewData()
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.SweepInterval <= 0 {
		opts.SweepInterval = time.Minute
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	return &Store{
		d: opts.Data, sealer: sealer, now: opts.Now, sweep: opts.SweepInterval,
		unreadable: codec.NewUnreadable(opts.Logger.With(slog.Group("store", "driver", "memory"))),
	}, nil
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

// Budgets returns the token bucket aggregate.
func (s *Store) Budgets() store.Budgets { return s }

// Local reports that the buckets are decided in this process
// (store.LocalBudgets).
func (s *Store) Local() bool { return true }

// Installs returns the install aggregate.
func (s *Store) Installs() store.Installs { return s }

// Liveness returns the liveness aggregate.
func (s *Store) Liveness() store.Liveness { return liveness{s} }

// Inbox returns the inbox aggregate.
func (s *Store) Inbox() store.Inbox { return inbox{s} }

// Cancels returns the stop-request aggregate.
func (s *Store) Cancels() store.Cancels { return cancels{s} }

// Turns returns the composite hot-path aggregate.
func (s *Store) Turns() store.Turns { return turns{s} }

// Ping reports ErrClosed after Close, nil otherwise.
func (s *Store) Ping(ctx context.Context) error {
	return s.do(ctx, "ping memory store", func(*Data, time.Time) error { return nil })
}

// Close closes this handle (the Data stays, for other handles). Later
// calls, including Close, return store.ErrClosed.
func (s *Store) Close() error {
	if !s.closed.CompareAndSwap(false, true) {
		return store.ErrClosed
	}
	return nil
}

// do runs fn with the Data locked, at the store's now, after checking the
// handle and ctx. Its error is wrapped with op. It may sweep first.
func (s *Store) do(ctx context.Context, op string, fn func(d *Data, now time.Time) error) error {
	if s.closed.Load() {
		return fmt.Errorf("%s: %w", op, store.ErrClosed)
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("%s: %w", op, err)
	}
	d, now := s.d, s.now()
	d.mu.Lock()
	defer d.mu.Unlock()
	if !now.Before(d.nextSweep) {
		d.sweepLocked(now)
		d.nextSweep = now.Add(s.sweep)
	}
	if err := fn(d, now); err != nil {
		return fmt.Errorf("%s: %w", op, err)
	}
	return nil
}

// sweepLocked deletes every entry expired at now.
func (d *Data) sweepLocked(now time.Time) {
	for u, convs := range d.convs {
		deleteExpired(convs, now)
		if len(convs) == 0 {
			delete(d.convs, u)
		}
	}
	deleteExpired(d.states, now)
	deleteExpired(d.locks, now)
	deleteExpired(d.tokens, now)
	for _, m := range []map[string]time.Time{d.dedupe, d.cancels, d.live} {
		for k, exp := range m {
			if !now.Before(exp) {
				delete(m, k)
			}
		}
	}
	nowUS := float64(now.UnixNano()) / 1e3
	for k, tat := range d.gcra {
		if tat <= nowUS {
			delete(d.gcra, k)
		}
	}
}

func deleteExpired[K comparable, V any](m map[K]item[V], now time.Time) {
	for k, it := range m {
		if !it.live(now) {
			delete(m, k)
		}
	}
}
