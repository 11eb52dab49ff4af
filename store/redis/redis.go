package redis

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync/atomic"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/secondme-bridge/secondme-bridge/store"
	"github.com/secondme-bridge/secondme-bridge/store/internal/codec"
)

// DefaultKeyPrefix is the KeyPrefix used when Options leaves it empty.
const DefaultKeyPrefix = "secondme-bridge:"

// Options tunes a Redis store. The zero value is ready to use.
type Options struct {
	// KeyPrefix starts every key the store writes. Default
	// DefaultKeyPrefix. Give each deployment sharing a Redis its own. It
	// may contain a complete hash tag ("{bridge}:") to put every key in one
	// Cluster slot; a '{' without a closing '}' is refused.
	KeyPrefix string
	// Logger receives the start-up reachability warning. Default: discard.
	Logger *slog.Logger
	// StartupPingTimeout bounds the reachability check in Open. Default 2s.
	StartupPingTimeout time.Duration
	// Observe, when set, is told of every round trip (observe.go).
	Observe store.Observer
}

// Store is a store.Store on Redis (one server, Sentinel or Cluster), shared
// by any number of replicas. Methods are safe for concurrent use. TTLs are
// Redis key expiries (server clock); budgets use the server's TIME.
type Store struct {
	c      goredis.UniversalClient
	pipe   *groupPipe // the hot path's commands, sent together (group.go)
	k      keys
	sealer *store.Sealer
	log    *slog.Logger
	// unreadable warns once per record that no key opens.
	unreadable *codec.Unreadable
	closed     atomic.Bool
}

var _ store.Store = (*Store)(nil)

// Open parses rawURL (see ParseURL), builds the client and checks that the
// server answers. A bad URL, prefix or nil sealer is an error; an
// unreachable server is not: Open logs a warning and returns the store,
// whose Ping reports the failure until go-redis, which reconnects by itself,
// gets through. Methods called meanwhile return wrapped connection errors.
func Open(ctx context.Context, rawURL string, sealer *store.Sealer, opts Options) (*Store, error) {
	uo, err := ParseURL(rawURL)
	if err != nil {
		return nil, fmt.Errorf("open redis store: %w", err)
	}
	if sealer == nil {
		return nil, errors.New("open redis store: nil sealer")
	}
	if opts.KeyPrefix == "" {
		opts.KeyPrefix = DefaultKeyPrefix
	}
	if err := checkPrefix(opts.KeyPrefix); err != nil {
		return nil, fmt.Errorf("open redis store: %w", err)
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if opts.StartupPingTimeout <= 0 {
		opts.StartupPingTimeout = 2 * time.Second
	}
	s := &Store{
		c: goredis.NewUniversalClient(uo), k: keys{p: opts.KeyPrefix}, sealer: sealer,
		log: opts.Logger.With(slog.Group("store", "driver", "redis", "addrs", strings.Join(uo.Addrs, ","))),
	}
	if opts.Observe != nil {
		s.c.AddHook(observeHook{obs: opts.Observe})
	}
	s.pipe = newGroupPipe(s.c)
	s.unreadable = codec.NewUnreadable(s.log)
	if !s.oneSlot() {
		s.log.Warn("redis cluster without a hash tag in store.key_prefix: each chat message costs more round trips and finishing a turn is not atomic; use a prefix such as \"{bridge}:\"")
	}
	pctx, cancel := context.WithTimeout(ctx, opts.StartupPingTimeout)
	defer cancel()
	if err := s.c.Ping(pctx).Err(); err != nil {
		s.log.Warn("redis unreachable at start; the client keeps retrying", slog.Any("error", err))
	}
	return s, nil
}

// checkPrefix refuses a prefix whose '{' would swallow the store's own hash
// tags and split keys that scripts use together across Cluster slots.
func checkPrefix(p string) error {
	i := strings.IndexByte(p, '{')
	if i < 0 {
		return nil
	}
	if j := strings.IndexByte(p[i+1:], '}'); j <= 0 {
		return fmt.Errorf("key prefix %q: '{' must open a non-empty hash tag closed by '}'", p)
	}
	return nil
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

// Budgets returns the token bucket aggregate; on Redis Cluster without a
// hash tag in the prefix, its Reserve goes bucket by bucket (splitBudgets).
func (s *Store) Budgets() store.Budgets {
	if !s.oneSlot() {
		return splitBudgets{s}
	}
	return s
}

// Ping sends PING.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.check(); err != nil {
		return fmt.Errorf("ping redis: %w", err)
	}
	return s.wrap("ping redis", s.c.Ping(ctx).Err())
}

// Close closes the client. Later calls, including Close, return
// store.ErrClosed.
func (s *Store) Close() error {
	if !s.closed.CompareAndSwap(false, true) {
		return store.ErrClosed
	}
	if err := s.c.Close(); err != nil {
		return fmt.Errorf("close redis store: %w", err)
	}
	return nil
}

func (s *Store) check() error {
	if s.closed.Load() {
		return store.ErrClosed
	}
	return nil
}

// wrap prefixes err with op, mapping a closed client to store.ErrClosed;
// nil stays nil.
func (s *Store) wrap(op string, err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, goredis.ErrClosed):
		return fmt.Errorf("%s: %w", op, store.ErrClosed)
	default:
		return fmt.Errorf("%s: %w", op, err)
	}
}

// GoRedisLogger adapts a *slog.Logger to go-redis's package-wide logger,
// which otherwise writes dial failures to stderr. It is for cmd/ to install
// once with goredis.SetLogger(redis.GoRedisLogger{Logger: l}); the store
// never sets process-wide state itself.
type GoRedisLogger struct {
	Logger *slog.Logger
}

// Printf implements go-redis's internal.Logging at warn level.
func (g GoRedisLogger) Printf(ctx context.Context, format string, v ...any) {
	g.Logger.WarnContext(ctx, "go-redis", slog.String("message", fmt.Sprintf(format, v...)))
}
