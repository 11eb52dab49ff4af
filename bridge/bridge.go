package bridge

import (
	"cmp"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/sync/errgroup"

	"github.com/secondme-bridge/secondme-bridge/bridge/budget"
	"github.com/secondme-bridge/secondme-bridge/bridge/internal/liveness"
	"github.com/secondme-bridge/secondme-bridge/bridge/internal/metrics"
	"github.com/secondme-bridge/secondme-bridge/bridge/internal/stops"
	"github.com/secondme-bridge/secondme-bridge/bridge/internal/typist"
	"github.com/secondme-bridge/secondme-bridge/bridge/linking"
	"github.com/secondme-bridge/secondme-bridge/bridge/render"
	"github.com/secondme-bridge/secondme-bridge/platforms"
	"github.com/secondme-bridge/secondme-bridge/store"
)

// Defaults of Config.
const (
	DefaultAppID         = "secondme-bridge"
	DefaultEditInterval  = time.Second
	DefaultSessionTTL    = 7 * 24 * time.Hour
	DefaultMaxInputChars = 4000
	DefaultQueueSize     = 8
	DefaultUserRateLimit = 20
	DefaultStreamTimeout = 10 * time.Minute
	DefaultShutdownGrace = 10 * time.Second
	DefaultFinalTimeout  = 2 * time.Minute
)

// Store cadences of a turn. The lease is extended every leaseTTL/3 (15 s),
// so a reply shorter than that costs no extension; a crashed process's
// leases are released by the process that takes over its work
// (bridge/internal/liveness), and otherwise expire within leaseTTL. A streaming reply's
// in-flight record is written ahead, before anything is asked or shown;
// again with its first visible text (and whenever a new message joins the
// reply); with every intermediate update's budget reservation, covering
// at least the text that update shows (so a crash never rolls a message
// back); and at least every recordEvery, also while the upstream is
// silent. staleAfter, after which any record counts as orphaned whatever
// its owner's liveness (the last resort), is many refresh periods and far
// longer than a lease, so a live reply is never taken for a dead one.
const (
	leaseTTL    = 45 * time.Second
	recordEvery = 15 * time.Second
	staleAfter  = 5 * time.Minute
)

// finalizeGrace bounds the wait, at shutdown, for interrupted replies to
// reach their final state.
const finalizeGrace = 15 * time.Second

// Config configures a Bridge. Store, SecondMe and Linker are required; every
// other field has a default.
type Config struct {
	Store    store.Store
	SecondMe SecondMe
	Linker   *linking.Linker
	// Logger defaults to a logger that discards everything.
	Logger *slog.Logger
	// Registerer registers the metrics; nil leaves them unregistered.
	Registerer prometheus.Registerer
	// InstanceID names this replica (lease owner, in-flight reply owner,
	// with a per-process boot id appended). Crash recovery does not depend
	// on it: liveness records tell live processes from dead ones. Default:
	// host name plus a random suffix.
	InstanceID string
	// AppID tags every chat request and filters /sessions
	// (secondme.app_id, default DefaultAppID).
	AppID string
	// Model and MaxTokens go with every chat request when set.
	Model     string
	MaxTokens int
	// SystemPrompt goes with the first turn of every session.
	SystemPrompt string
	// EditInterval is the minimum time between two updates of one message
	// (default 1 s).
	EditInterval time.Duration
	// SessionTTL is the inactivity after which a conversation starts a new
	// SecondMe session (default 7 days).
	SessionTTL time.Duration
	// MaxInputChars is the longest accepted message, in code points
	// (default 4000).
	MaxInputChars int
	// QueueSize is how many messages may wait per conversation behind the
	// one being answered (default 8).
	QueueSize int
	// UserRateLimit is how many messages a user may send per minute
	// (default 20).
	UserRateLimit int
	// ReplyAs is who replies are posted as (default ReplyAsAvatar).
	ReplyAs ReplyAs
	// StreamTimeout caps one reply's upstream stream (default 10 min).
	StreamTimeout time.Duration

	// ShutdownGrace is how long Run, once its context is done, lets
	// replies in progress finish before interrupting them (default 10 s).
	ShutdownGrace time.Duration
	// FinalTimeout bounds the delivery of a reply's final text through
	// platform 429s and empty budgets (default 2 min).
	FinalTimeout time.Duration
}

// Bridge is the conversation engine: it receives platform events
// (HandleEvent), claims them once, queues them per conversation, streams the
// avatar's replies back through the platforms and answers the commands. It
// is safe for concurrent use.
type Bridge struct {
	cfg   Config
	st    store.Store
	log   *slog.Logger
	met   *metrics.Set
	obs   render.Observer // renderer timings (tests and benchmarks: newObserved)
	owner string          // InstanceID + "/" + boot id: lease and reply owner
	now   func() time.Time

	tun    atomic.Pointer[Tunables] // the settings SetTunables may change
	active atomic.Int64             // replies streaming now (the active_streams gauge)
	out    *render.Outbox           // notices and private answers, through the pacer (the shared budgets)
	typist *typist.Typist           // the replies' typing renewals, a few goroutines per platform
	live   *liveness.Tracker        // this process's liveness record; who is dead
	warned sync.Map                 // user key string → time.Time: "slow down" sent until then

	reg   registry       // the platforms
	stops stops.Registry // the replies streaming here, for Stop (stop.go)

	q queues // the conversations' queues (queue.go)

	work       context.Context // parent of all reply work; cancelled at the end of shutdown
	cancelWork context.CancelFunc
	workers    sync.WaitGroup // conversation workers and side tasks

	tim timings // cadences and timeouts; tests shorten them
}

// registry holds the platforms AddPlatform registered.
type registry struct {
	mu      sync.Mutex
	byName  map[string]platforms.Platform
	caps    map[string]platforms.Caps // by platform name, resolved in AddPlatform
	order   []platforms.Platform
	running bool
}

// timings are the engine's cadences and timeouts (see the constants
// above); tests shorten them on a Bridge before Run.
type timings struct {
	leaseTTL        time.Duration
	leasePoll       time.Duration
	leaseWaitMax    time.Duration
	queueIdle       time.Duration
	recordEvery     time.Duration
	staleAfter      time.Duration
	sweepEvery      time.Duration
	orphanEvery     time.Duration
	retryDelay      time.Duration
	nativeFlushSize int
}

// New validates cfg, fills in defaults and returns a Bridge. Add platforms
// with AddPlatform, then call Run.
func New(cfg Config) (*Bridge, error) {
	var problems []string
	if cfg.Store == nil {
		problems = append(problems, "store is required")
	}
	if cfg.SecondMe == nil {
		problems = append(problems, "SecondMe client is required")
	}
	if cfg.Linker == nil {
		problems = append(problems, "linker is required")
	}
	for name, d := range map[string]time.Duration{
		"edit interval": cfg.EditInterval, "session TTL": cfg.SessionTTL, "stream timeout": cfg.StreamTimeout,
		"shutdown grace": cfg.ShutdownGrace, "final timeout": cfg.FinalTimeout,
	} {
		if d < 0 {
			problems = append(problems, name+" must not be negative")
		}
	}
	if cfg.MaxInputChars < 0 || cfg.QueueSize < 0 || cfg.UserRateLimit < 0 || cfg.MaxTokens < 0 {
		problems = append(problems, "limits must not be negative")
	}
	if cfg.ReplyAs != "" && cfg.ReplyAs != ReplyAsAvatar && cfg.ReplyAs != ReplyAsBot {
		problems = append(problems, fmt.Sprintf("reply as must be %q or %q, got %q", ReplyAsAvatar, ReplyAsBot, cfg.ReplyAs))
	}
	if len(problems) > 0 {
		return nil, fmt.Errorf("new bridge: %s", strings.Join(problems, "; "))
	}
	cfg.AppID = cmp.Or(cfg.AppID, DefaultAppID)
	cfg.EditInterval = cmp.Or(cfg.EditInterval, DefaultEditInterval)
	cfg.SessionTTL = cmp.Or(cfg.SessionTTL, DefaultSessionTTL)
	cfg.MaxInputChars = cmp.Or(cfg.MaxInputChars, DefaultMaxInputChars)
	cfg.QueueSize = cmp.Or(cfg.QueueSize, DefaultQueueSize)
	cfg.UserRateLimit = cmp.Or(cfg.UserRateLimit, DefaultUserRateLimit)
	cfg.StreamTimeout = cmp.Or(cfg.StreamTimeout, DefaultStreamTimeout)
	cfg.ReplyAs = cmp.Or(cfg.ReplyAs, ReplyAsAvatar)
	cfg.ShutdownGrace = cmp.Or(cfg.ShutdownGrace, DefaultShutdownGrace)
	cfg.FinalTimeout = cmp.Or(cfg.FinalTimeout, DefaultFinalTimeout)
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	boot, err := randomHex(6)
	if err != nil {
		return nil, fmt.Errorf("new bridge: %w", err)
	}
	if cfg.InstanceID == "" {
		host, _ := os.Hostname()
		cfg.InstanceID = strings.TrimPrefix(host+"-"+boot[:6], "-")
	}
	met, err := metrics.New(cfg.Registerer)
	if err != nil {
		return nil, fmt.Errorf("new bridge: %w", err)
	}
	work, cancel := context.WithCancel(context.Background())
	b := &Bridge{
		cfg:        cfg,
		st:         cfg.Store,
		log:        cfg.Logger.With("component", "bridge"),
		met:        met,
		owner:      cfg.InstanceID + "/" + boot,
		now:        time.Now,
		reg:        registry{byName: map[string]platforms.Platform{}, caps: map[string]platforms.Caps{}},
		q:          queues{byKey: map[string]*convQueue{}},
		work:       work,
		cancelWork: cancel,
		tim: timings{
			leaseTTL:        leaseTTL,
			leasePoll:       200 * time.Millisecond,
			leaseWaitMax:    2 * cfg.StreamTimeout,
			queueIdle:       2 * time.Second,
			recordEvery:     recordEvery,
			staleAfter:      staleAfter,
			sweepEvery:      time.Minute,
			orphanEvery:     liveness.OrphanEvery,
			retryDelay:      time.Second,
			nativeFlushSize: 256,
		},
	}
	pacer := budget.New(budget.Deps{
		Store:       cfg.Store,
		Now:         func() time.Time { return b.now() },
		Log:         b.log,
		RateLimited: func(platform string) { met.RateLimited.WithLabelValues(platform).Inc() },
	})
	if err := metrics.RegisterBudgetCounts(cfg.Registerer, pacer.Counts); err != nil {
		return nil, err
	}
	b.typist = typist.New(b.log)
	b.out = &render.Outbox{Pacer: pacer, Metrics: met, Log: b.log, Caps: b.capsOf}
	b.live = liveness.New(liveness.Deps{Store: cfg.Store, Owner: b.owner, Instance: cfg.InstanceID, Log: b.log})
	b.tun.Store(tunablesOf(cfg))
	return b, nil
}

// AddPlatform registers a platform adapter. It must be called before Run;
// names must be unique.
func (b *Bridge) AddPlatform(p platforms.Platform) error {
	if p == nil {
		return errors.New("add platform: nil platform")
	}
	b.reg.mu.Lock()
	defer b.reg.mu.Unlock()
	if b.reg.running {
		return fmt.Errorf("add platform %s: %w", p.Name(), ErrAlreadyRunning)
	}
	if _, dup := b.reg.byName[p.Name()]; dup {
		return fmt.Errorf("add platform %s: duplicate name", p.Name())
	}
	b.reg.byName[p.Name()] = p
	caps := platforms.ResolveCaps(p)
	b.reg.caps[p.Name()] = caps
	b.out.Pacer.Lend(caps.BudgetUser)
	b.reg.order = append(b.reg.order, p)
	return nil
}

// platform returns the registered platform called name, or nil.
func (b *Bridge) platform(name string) platforms.Platform {
	b.reg.mu.Lock()
	defer b.reg.mu.Unlock()
	return b.reg.byName[name]
}

// capsOf returns the abilities of the registered platform p (resolved
// once, in AddPlatform).
func (b *Bridge) capsOf(p platforms.Platform) platforms.Caps {
	b.reg.mu.Lock()
	defer b.reg.mu.Unlock()
	return b.reg.caps[p.Name()]
}

// Run runs every platform (each platform's Run with the bridge as handler),
// the liveness record (bridge/internal/liveness), the crash-recovery sweep (at once,
// then every few seconds) and the conversation workers. It returns nil when ctx is done, after a graceful
// stop: replies in progress get ShutdownGrace to finish, then are
// interrupted with a notice. It returns an error when a platform fails for
// good (the other platforms are stopped too). Run may be called once.
func (b *Bridge) Run(ctx context.Context) error {
	b.reg.mu.Lock()
	if b.reg.running {
		b.reg.mu.Unlock()
		return ErrAlreadyRunning
	}
	b.reg.running = true
	ps := append([]platforms.Platform(nil), b.reg.order...)
	b.reg.mu.Unlock()

	// Alive before any work: a reply of this process must never look
	// orphaned to another one.
	// The record is kept up until the work has stopped (shutdown), then
	// left.
	b.live.Beat(ctx)
	beatCtx, stopBeat := context.WithCancel(context.WithoutCancel(ctx))
	beatDone := make(chan struct{})
	go func() {
		defer close(beatDone)
		b.live.BeatLoop(beatCtx)
	}()
	g, gctx := errgroup.WithContext(ctx)
	for _, p := range ps {
		g.Go(func() error {
			if err := p.Run(gctx, b); err != nil && gctx.Err() == nil {
				return fmt.Errorf("run platform %s: %w", p.Name(), err)
			}
			return nil
		})
	}
	g.Go(func() error {
		b.sweepLoop(gctx)
		return nil
	})
	g.Go(func() error {
		stops.Watch(gctx, b.stopDeps())
		return nil
	})
	err := g.Wait()
	b.shutdown()
	stopBeat()
	<-beatDone
	b.live.Leave()
	return err
}

// shutdown stops taking work, lets replies in progress finish within
// ShutdownGrace, then interrupts the rest and waits for them to finalize.
func (b *Bridge) shutdown() {
	b.q.mu.Lock()
	b.q.closing = true
	for _, q := range b.q.byKey {
		q.signal()
	}
	b.q.mu.Unlock()
	done := make(chan struct{})
	go func() {
		b.workers.Wait()
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(b.cfg.ShutdownGrace):
		b.log.Warn("interrupting replies still in progress at shutdown")
	}
	b.cancelWork()
	// Interrupted replies finalize on their own bounded contexts (ctxOr).
	select {
	case <-done:
	case <-time.After(finalizeGrace):
		b.log.Error("replies still finalizing after shutdown; the recovery sweep will finish them")
	}
}

// Ready reports whether every platform is connected.
func (b *Bridge) Ready() bool {
	b.reg.mu.Lock()
	defer b.reg.mu.Unlock()
	for _, p := range b.reg.order {
		if !p.Ready() {
			return false
		}
	}
	return true
}

// goTask runs f as a tracked side task (a notice, a command) on the work
// context, so that shutdown waits for it. Once shutdown has begun it runs
// nothing and returns false.
func (b *Bridge) goTask(f func(ctx context.Context)) bool {
	b.q.mu.Lock()
	if b.q.closing {
		b.q.mu.Unlock()
		return false
	}
	b.workers.Add(1)
	b.q.mu.Unlock()
	go func() {
		defer b.workers.Done()
		f(b.work)
	}()
	return true
}

func randomHex(n int) (string, error) {
	buf := make([]byte, n)
	if _, err := rand.Read(buf); err != nil {
		return "", fmt.Errorf("read random: %w", err)
	}
	return hex.EncodeToString(buf), nil
}
