package slack

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	slackapi "github.com/slack-go/slack"

	"github.com/secondme-bridge/secondme-bridge/internal/keyq"
	"github.com/secondme-bridge/secondme-bridge/platforms"
)

// Name is the adapter's stable platform name.
const Name = "slack"

// Limits of Slack messages as the bridge sees them.
const (
	// MaxMessageChars keeps every posted or updated message under Slack's
	// practical ~4,000-character chat.update limit.
	MaxMessageChars = 3900
	// typingInterval re-sends the assistant status before Slack clears it
	// (after two minutes).
	typingInterval = 90 * time.Second
)

// Compile-time capability checks.
var (
	_ platforms.Platform    = (*Adapter)(nil)
	_ platforms.Editor      = (*Adapter)(nil)
	_ platforms.Streamer    = (*Adapter)(nil)
	_ platforms.Typer       = (*Adapter)(nil)
	_ platforms.Ephemeraler = (*Adapter)(nil)
	_ platforms.Deleter     = (*Adapter)(nil)
	_ platforms.Budgeter    = (*Adapter)(nil)
)

// identity is who the bot is, from auth.test.
type identity struct {
	UserID string // the bot's user id (U…)
	BotID  string // the bot id (B…)
	TeamID string
}

// Adapter is the Slack platform adapter. Create it with New; it is safe for
// concurrent use.
type Adapter struct {
	cfg    Config
	cmds   commandSet // from cfg.Commands
	log    *slog.Logger
	api    *slackapi.Client
	client *httpDoer
	sealer *sealer
	users  *userCache
	queue  *keyq.Queue // per user, bounded by maxPendingEvents
	// rejects summarizes rejected HTTP-mode requests (rejectlog.go).
	rejects *rejectLog

	running atomic.Bool
	ready   atomic.Bool

	mu      sync.RWMutex
	id      identity
	handler platforms.Handler
	runCtx  context.Context // the context of Run, for events handled after the ack

	ws *workspaces // installed workspaces (workspaces.go)

	files fileAccess // where attached files may be downloaded from (files.go)

	latchMu   sync.Mutex
	streamOff map[string]bool // team → native streaming latched off
	typingOff map[string]bool // channel → setStatus refused for good
	agentOff  map[string]bool // team → agent surface latched off (agent.go)
	// promptsSet: DM channel → when its suggested prompts were set.
	promptsSet map[string]time.Time
}

// New validates cfg and builds an adapter; it does no I/O.
func New(cfg Config, logger *slog.Logger) (*Adapter, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("new slack adapter: %w", err)
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	logger = logger.With(slog.Group("platform", "name", Name))
	sealKey := cfg.BotToken
	if cfg.Install != nil {
		sealKey = cfg.Install.ClientSecret + "\x00" + cfg.BotToken
	}
	s, err := newSealer(sealKey)
	if err != nil {
		return nil, fmt.Errorf("new slack adapter: %w", err)
	}
	hc := cfg.httpClient()
	a := &Adapter{
		files:      fileAccess{hosts: fileHosts},
		cfg:        cfg,
		cmds:       newCommandSet(cfg.Commands),
		log:        logger,
		api:        newClient(cfg, hc, logger),
		client:     &httpDoer{c: hc},
		sealer:     s,
		queue:      keyq.New(maxPendingEvents),
		rejects:    newRejectLog(logger, rejectLogInterval),
		streamOff:  map[string]bool{},
		typingOff:  map[string]bool{},
		agentOff:   map[string]bool{},
		promptsSet: map[string]time.Time{},
		ws:         &workspaces{entries: map[string]wsEntry{}},
	}
	a.users = newUserCache(a.fetchUser)
	return a, nil
}

// newClient builds the Web API client for cfg, sending through hc.
func newClient(cfg Config, hc *http.Client, logger *slog.Logger) *slackapi.Client {
	opts := []slackapi.Option{
		slackapi.OptionAPIURL(cfg.apiURL()),
		slackapi.OptionHTTPClient(hc),
		slackapi.OptionLog(slog.NewLogLogger(logger.Handler(), slog.LevelDebug)),
	}
	if cfg.AppToken != "" {
		opts = append(opts, slackapi.OptionAppLevelToken(cfg.AppToken))
	}
	return slackapi.New(cfg.BotToken, opts...)
}

// Name returns "slack".
func (a *Adapter) Name() string { return Name }

// CommandPrefix is how users invoke the bridge's commands on Slack: the one
// slash command and a subcommand ("/secondme link").
const CommandPrefix = "/secondme "

// Limits returns Slack's message limits: 3,900 code points, Markdown (posted
// as markdown blocks), the assistant status refreshed every 90s, and
// CommandPrefix.
func (a *Adapter) Limits() platforms.Limits {
	return platforms.Limits{
		MaxMessageChars: MaxMessageChars,
		Dialect:         platforms.DialectMarkdown,
		TypingInterval:  typingInterval,
		CommandPrefix:   CommandPrefix,
	}
}

// Ready reports whether the adapter is connected: the Socket Mode websocket
// said hello, or (HTTP mode) the bot token was verified and Run is serving.
func (a *Adapter) Ready() bool { return a.ready.Load() }

// Run authenticates (auth.test, retried while Slack is unreachable), then
// receives events until ctx is done: over Socket Mode, reconnecting by itself,
// or (HTTP mode) from the handlers mounted by Routes. It returns nil when ctx
// ends, and an error when the tokens are refused.
func (a *Adapter) Run(ctx context.Context, h platforms.Handler) error {
	if h == nil {
		return errors.New("run slack adapter: nil handler")
	}
	if !a.running.CompareAndSwap(false, true) {
		return errors.New("run slack adapter: already running")
	}
	defer a.queue.Close()
	if ic := a.cfg.Install; ic != nil && (ic.Store == nil || ic.Once == nil) {
		return errors.New("run slack adapter: installs need an install store (EnableInstalls)")
	}
	if a.cfg.BotToken != "" {
		if err := a.authenticate(ctx); err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return err
		}
	}
	a.mu.Lock()
	a.handler, a.runCtx = h, ctx
	a.mu.Unlock()
	defer func() {
		a.ready.Store(false)
		a.mu.Lock()
		a.handler = nil
		a.mu.Unlock()
	}()

	if a.cfg.mode() == ModeHTTP {
		a.ready.Store(true)
		a.log.Info("slack adapter serving http events")
		<-ctx.Done()
		return nil
	}
	return a.runSocket(ctx)
}

// authenticate learns the bot's identity, retrying transient failures.
func (a *Adapter) authenticate(ctx context.Context) error {
	delay := time.Second
	for {
		resp, err := a.api.AuthTestContext(ctx)
		if err == nil {
			a.mu.Lock()
			a.id = identity{UserID: resp.UserID, BotID: resp.BotID, TeamID: resp.TeamID}
			a.mu.Unlock()
			a.log.Info("slack bot authenticated", "bot_user", resp.UserID, "team", resp.TeamID)
			return nil
		}
		if code := slackErrorCode(err); code != "" && !transientCodes[code] {
			return fmt.Errorf("slack auth.test: %w", apiError(err))
		}
		if rl, ok := errors.AsType[*slackapi.RateLimitedError](err); ok && rl.RetryAfter > delay {
			delay = rl.RetryAfter
		}
		a.log.Warn("slack auth.test failed, retrying", "err", redactErr(err), "retry_in", delay)
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(delay):
		}
		delay = min(2*delay, time.Minute)
	}
}

func (a *Adapter) identity() identity {
	a.mu.RLock()
	defer a.mu.RUnlock()
	return a.id
}

// sink returns the running handler and context, or ok=false when Run is
// not serving.
func (a *Adapter) sink() (context.Context, platforms.Handler, bool) {
	a.mu.RLock()
	defer a.mu.RUnlock()
	return a.runCtx, a.handler, a.handler != nil
}
