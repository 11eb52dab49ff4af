package discord

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/bwmarrin/discordgo"

	"github.com/secondme-bridge/secondme-bridge/internal/keyq"
	"github.com/secondme-bridge/secondme-bridge/platforms"
	"github.com/secondme-bridge/secondme-bridge/platforms/attach"
)

const platformName = "discord"

// Intents the adapter asks for. MessageContent is privileged: when the
// Developer Portal does not allow it, the gateway closes with 4014 and the
// adapter reconnects without it (mentions, DMs and commands still carry
// their content).
const (
	baseIntents = discordgo.IntentGuilds | discordgo.IntentGuildMessages | discordgo.IntentDirectMessages
	allIntents  = baseIntents | discordgo.IntentMessageContent
)

// Compile-time checks of the capabilities the bridge detects.
var (
	_ platforms.Platform     = (*Adapter)(nil)
	_ platforms.Editor       = (*Adapter)(nil)
	_ platforms.Typer        = (*Adapter)(nil)
	_ platforms.Ephemeraler  = (*Adapter)(nil)
	_ platforms.Deleter      = (*Adapter)(nil)
	_ platforms.Budgeter     = (*Adapter)(nil)
	_ platforms.ThreadOpener = (*Adapter)(nil)
)

// Adapter is the Discord platform adapter. Create it with New; it is safe
// for concurrent use. Run is called once.
type Adapter struct {
	cfg     Config
	cmds    *commandSet // from cfg.Commands
	log     *slog.Logger
	s       *discordgo.Session
	wire    *wireGate                        // the REST client's (and every shard's): GlobalHeld
	clock   atomic.Pointer[func() time.Time] // nil: time.Now (tests inject a clock)
	allow   atomic.Pointer[allowLists]
	cache   *channelCache
	ints    *interactionStates
	hooks   *webhooks
	files   *attach.Reader // attachments, from Discord's CDN only
	self    atomic.Value   // string: the bot user id, from READY
	ready   atomic.Bool
	started atomic.Bool

	// Connection supervision (see Run).
	conns        *connTracker
	disconnected chan struct{}
	openTimeout  time.Duration
	backoffMin   time.Duration
	backoffMax   time.Duration

	// Event dispatch, valid while Run runs.
	runCtx  context.Context // the Run context, handed to event handlers
	handler platforms.Handler
	mu      sync.Mutex
	closed  bool
	queue   *keyq.Queue // per channel, bounded by maxQueuedMessages
	wg      sync.WaitGroup

	// Sharded gateway (shards.go), when cfg.Sharding is set.
	shardState

	// ignored, when set (tests), is called with the id of every message or
	// interaction the adapter decided not to hand to the bridge.
	ignored func(id string)
}

// New validates cfg and returns an adapter that is not connected yet. A nil
// logger discards logs.
func New(cfg Config, logger *slog.Logger) (*Adapter, error) {
	if err := cfg.validate(true); err != nil {
		return nil, err
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	logger = logger.With(slog.Group("platform", "name", platformName))
	s, wire, err := newSession(cfg)
	if err != nil {
		return nil, err
	}
	s.LogLevel = discordgoLevel(logger)
	s.Identify.Intents = allIntents
	a := &Adapter{
		cfg:          cfg,
		cmds:         newCommandSet(cfg.Commands),
		log:          logger,
		s:            s,
		wire:         wire,
		cache:        newChannelCache(4096),
		ints:         newInteractionStates(),
		hooks:        newWebhooks(),
		files:        newAttachmentReader(cfg),
		conns:        &connTracker{},
		queue:        keyq.New(maxQueuedMessages),
		disconnected: make(chan struct{}, 1),
		openTimeout:  30 * time.Second,
		backoffMin:   time.Second,
		backoffMax:   2 * time.Minute,
	}
	a.shardConns = make(map[int]*shardConn)
	a.allow.Store(newAllowLists(cfg.AllowedGuilds, cfg.AllowedChannels))
	s.Dialer = a.conns.wrap(s.Dialer)
	return a, nil
}

func set(xs []string) map[string]bool {
	if len(xs) == 0 {
		return nil
	}
	m := make(map[string]bool, len(xs))
	for _, x := range xs {
		m[x] = true
	}
	return m
}

// Name returns "discord".
func (a *Adapter) Name() string { return platformName }

// Limits returns Discord's limits: 2000 characters, Markdown, typing
// refreshed every 8 s.
func (a *Adapter) Limits() platforms.Limits {
	return platforms.Limits{
		MaxMessageChars: maxMessageChars, Dialect: platforms.DialectMarkdown, TypingInterval: 8 * time.Second,
		CommandNamesZH: &a.cmds.namesZH,
	}
}

// Ready reports whether the gateway session is connected (between READY or
// RESUMED and the next disconnect).
// Sharded, it reports whether every shard this replica holds is connected
// (see Shards).
func (a *Adapter) Ready() bool {
	if a.cfg.Sharding != nil {
		return a.shardsReady()
	}
	return a.ready.Load()
}

// now is the adapter's clock.
func (a *Adapter) now() time.Time {
	if f := a.clock.Load(); f != nil {
		return (*f)()
	}
	return time.Now()
}

func (a *Adapter) selfID() string {
	id, _ := a.self.Load().(string)
	return id
}

// Run connects to the gateway and delivers events to h until ctx is done. It
// reconnects (resuming the session) after transient failures, with
// exponential backoff, and returns an error only when Discord refuses the
// bot for good (bad token, invalid intents). It returns after every handler
// call it started has returned.
func (a *Adapter) Run(ctx context.Context, h platforms.Handler) error {
	if h == nil {
		return errors.New("run discord: nil handler")
	}
	if !a.started.CompareAndSwap(false, true) {
		return errors.New("run discord: already started")
	}
	a.runCtx, a.handler = ctx, h
	routeDiscordgoLogs(a.log)
	defer unrouteDiscordgoLogs(a.log)
	for _, remove := range []func(){
		a.s.AddHandler(a.onReady),
		a.s.AddHandler(a.onResumed),
		a.s.AddHandler(a.onDisconnect),
		a.s.AddHandler(a.onEvent),
		a.s.AddHandler(a.onInteractionCreate),
	} {
		defer remove()
	}
	if a.cfg.SyncCommands {
		if err := a.syncCommands(ctx); err != nil {
			a.log.ErrorContext(ctx, "sync discord commands failed", "error", err)
		}
	}
	if a.cfg.Sharding != nil {
		err := a.runSharded(ctx)
		a.shutdown()
		if ctx.Err() != nil {
			return nil
		}
		return err
	}
	err := a.connect(ctx)
	for err == nil && ctx.Err() == nil {
		select {
		case <-ctx.Done():
		case <-a.disconnected:
			a.ready.Store(false)
			a.log.WarnContext(ctx, "discord gateway disconnected, reconnecting")
			err = a.connect(ctx)
		}
	}
	a.shutdown()
	if ctx.Err() != nil {
		return nil
	}
	return err
}

// connect opens the gateway, retrying transient failures with backoff until
// ctx is done (then it returns nil).
func (a *Adapter) connect(ctx context.Context) error {
	delay := a.backoffMin
	for {
		err := a.open(ctx)
		if err == nil || errors.Is(err, discordgo.ErrWSAlreadyOpen) {
			a.ready.Store(true)
			return nil
		}
		if ctx.Err() != nil {
			return nil
		}
		if code := closeCode(err); code == closeDisallowedIntents && a.s.Identify.Intents&discordgo.IntentMessageContent != 0 {
			a.log.WarnContext(ctx, "discord message content intent not enabled in the developer portal; continuing without it (mentions, DMs and commands still work)")
			a.s.Identify.Intents = baseIntents
			continue
		}
		if closeCode(err) == closeShardingRequired {
			return errors.New("connect discord gateway: Discord requires sharding for this bot (close code 4011, from 2,500 guilds); set discord.shards to auto")
		}
		if permanentGatewayError(err) {
			return fmt.Errorf("connect discord gateway: %w", apiError("open", err))
		}
		wait := jittered(delay)
		a.log.WarnContext(ctx, "discord gateway connect failed, retrying", "error", apiError("open", err), "retry_in", wait)
		if !sleepCtx(ctx, wait) {
			return nil
		}
		delay = min(2*delay, a.backoffMax)
	}
}

// open calls Session.Open, which takes no context and may block on a silent
// server: a watchdog closes the pending connection when ctx is done or the
// open takes longer than openTimeout.
func (a *Adapter) open(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, a.openTimeout)
	defer cancel()
	stop := context.AfterFunc(ctx, a.conns.closeLast)
	err := a.s.Open()
	stop()
	return err
}

// shutdown closes the session and waits for the handlers in flight.
func (a *Adapter) shutdown() {
	a.mu.Lock()
	a.closed = true
	a.mu.Unlock()
	if err := a.s.Close(); err != nil {
		a.log.Warn("close discord session", "error", err)
	}
	a.ready.Store(false)
	a.queue.Close()
	a.wg.Wait()
}

// maxQueuedMessages bounds the gateway messages queued or being handed to
// the bridge, across channels.
const maxQueuedMessages = 1024

// inChannel runs f on the serial queue of key, unless Run is shutting down.
// When the queue is full it waits for room, which pauses the gateway reader
// (the session runs handlers synchronously): Discord does not redeliver a
// gateway event, so none is dropped for lack of room; they wait in the
// connection instead of in memory.
func (a *Adapter) inChannel(key string, f func()) {
	f = a.guard(f)
	err := a.queue.TrySubmit(key, f)
	if errors.Is(err, keyq.ErrFull) {
		a.log.Warn("discord message queue full; gateway reading paused until the bridge catches up", "limit", maxQueuedMessages)
		err = a.queue.Submit(a.runCtx, key, f)
	}
	if err != nil {
		a.log.Info("discord message not handled: shutting down", "channel", key, "error", err)
	}
}

// spawn runs f on its own goroutine, unless Run is shutting down.
func (a *Adapter) spawn(f func()) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.closed {
		return
	}
	a.wg.Add(1)
	go func() {
		defer a.wg.Done()
		a.guard(f)()
	}()
}

// guard turns a panic in an event handler into an error log: a hostile or
// malformed payload must not take the process down.
func (a *Adapter) guard(f func()) func() {
	return func() {
		defer func() {
			if r := recover(); r != nil {
				a.log.Error("discord event handler panicked", "panic", fmt.Sprint(r))
			}
		}()
		f()
	}
}

func (a *Adapter) onReady(s *discordgo.Session, r *discordgo.Ready) {
	if r == nil || r.User == nil || r.User.ID == "" {
		a.log.Warn("discord READY without a user; the bot cannot recognize its own messages and mentions")
		return
	}
	a.self.Store(r.User.ID)
	a.log.Info("discord gateway ready", "bot", r.User.Username, "guilds", len(r.Guilds),
		"message_content", s.Identify.Intents&discordgo.IntentMessageContent != 0, "shard", s.ShardID)
}

func (a *Adapter) onResumed(_ *discordgo.Session, _ *discordgo.Resumed) {
	a.log.Info("discord gateway session resumed")
}

func (a *Adapter) onDisconnect(_ *discordgo.Session, _ *discordgo.Disconnect) {
	a.ready.Store(false)
	select {
	case a.disconnected <- struct{}{}:
	default:
	}
}
