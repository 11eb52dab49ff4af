package discord

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/bwmarrin/discordgo"
)

// Sharding divides the gateway into shards shared by the replicas of a
// deployment: each shard is connected by exactly one replica at a time.
// Without it (Config.Sharding nil) every replica opens one unsharded
// connection and receives every event.
type Sharding struct {
	// Count is the number of shards; 0 takes Discord's recommendation from
	// GET /gateway/bot.
	Count int
	// Claimer divides the shards among replicas. Required.
	Claimer ShardClaimer
	// Gate spaces identifies across the deployment. Required.
	Gate IdentifyGate
}

// ShardClaimer divides count shards among the replicas of a deployment.
type ShardClaimer interface {
	// Hold claims this replica's share of count shards until ctx is done,
	// calling set with the shards it holds (sorted) whenever that changes:
	// after it holds a new shard, and before it gives one up, so that a
	// shard is connected by one replica at a time. set returns once the
	// connections of the shards it no longer lists are closed. At return
	// Hold has called set(nil) and released everything. It blocks; it
	// returns an error only for a misuse (count < 1).
	Hold(ctx context.Context, count int, set func(held []int)) error
}

// IdentifyGate spaces gateway identifies: Discord allows one IDENTIFY per
// 5 s per bucket (shard id % max_concurrency), across every process that
// uses the bot token.
type IdentifyGate interface {
	// Wait blocks until this process may identify in bucket (of
	// maxConcurrency buckets), or ctx is done (ctx.Err()).
	Wait(ctx context.Context, bucket, maxConcurrency int) error
}

// ShardStatus is what a replica holds of a sharded gateway.
type ShardStatus struct {
	Sharded bool
	Count   int   // total shards (0 until known)
	Held    []int // the shards this replica holds, sorted
	Ready   []int // the held shards whose session is connected
}

// Shards reports the shards this replica holds. Safe to call at any time.
func (a *Adapter) Shards() ShardStatus {
	if a.cfg.Sharding == nil {
		return ShardStatus{}
	}
	a.shardMu.Lock()
	defer a.shardMu.Unlock()
	st := ShardStatus{Sharded: true, Count: a.shardCount}
	for id, c := range a.shardConns {
		st.Held = append(st.Held, id)
		if c.ready.Load() {
			st.Ready = append(st.Ready, id)
		}
	}
	slices.Sort(st.Held)
	slices.Sort(st.Ready)
	return st
}

// shardsReady: sharded, the adapter is ready once the claimer has made its
// first claim and every shard it holds is connected, holding none
// included: a replica without a shard still serves link pages and the
// other platforms.
func (a *Adapter) shardsReady() bool {
	st := a.Shards()
	a.shardMu.Lock()
	claimed := a.claimed
	a.shardMu.Unlock()
	return claimed && len(st.Ready) == len(st.Held)
}

// shardConn is the gateway session of one shard.
type shardConn struct {
	id           int
	s            *discordgo.Session
	conns        *connTracker
	disconnected chan struct{}
	ready        atomic.Bool
	cancel       context.CancelFunc
	done         chan struct{}
}

// runSharded is Run with Config.Sharding: it learns the shard count and
// max_concurrency, then holds this replica's shards through the claimer
// until ctx is done.
func (a *Adapter) runSharded(ctx context.Context) error {
	sh := a.cfg.Sharding
	count, maxConc, err := a.gatewayBot(ctx)
	if err != nil || ctx.Err() != nil {
		return err
	}
	if sh.Count > 0 {
		count = sh.Count
	}
	a.shardMu.Lock()
	a.shardCount, a.maxConc = count, maxConc
	a.shardMu.Unlock()
	a.log.InfoContext(ctx, "discord sharded gateway", "shards", count, "max_concurrency", maxConc)
	fatal := make(chan error, 1)
	hctx, stop := context.WithCancel(ctx)
	defer stop()
	a.onFatal = func(err error) {
		select {
		case fatal <- err:
		default:
		}
		stop()
	}
	err = sh.Claimer.Hold(hctx, count, a.setShards)
	select {
	case ferr := <-fatal:
		return ferr
	default:
	}
	if err != nil {
		return fmt.Errorf("hold discord shards: %w", err)
	}
	return nil
}

// gatewayBot asks GET /gateway/bot for the recommended shard count and
// max_concurrency, retrying transient failures until ctx is done.
func (a *Adapter) gatewayBot(ctx context.Context) (count, maxConc int, err error) {
	delay := a.backoffMin
	for {
		gb, err := a.s.GatewayBot(restOpts(ctx)...)
		if err == nil {
			return max(gb.Shards, 1), max(gb.SessionStartLimit.MaxConcurrency, 1), nil
		}
		if permanentGatewayError(err) {
			return 0, 0, fmt.Errorf("get discord gateway/bot: %w", apiError("gateway bot", err))
		}
		a.log.WarnContext(ctx, "discord gateway/bot failed, retrying", "error", apiError("gateway bot", err), "retry_in", delay)
		t := time.NewTimer(delay)
		select {
		case <-ctx.Done():
			t.Stop()
			return 0, 0, nil
		case <-t.C:
		}
		delay = min(2*delay, a.backoffMax)
	}
}

// setShards connects the shards of held that have no session and closes
// the sessions of the others (waiting until they are closed).
func (a *Adapter) setShards(held []int) {
	a.shardMu.Lock()
	a.claimed = held != nil
	var stopping []*shardConn
	for id, c := range a.shardConns {
		if !slices.Contains(held, id) {
			stopping = append(stopping, c)
			delete(a.shardConns, id)
		}
	}
	for _, id := range held {
		if _, ok := a.shardConns[id]; ok {
			continue
		}
		c, err := a.newShardConn(id)
		if err != nil {
			a.log.Error("create discord shard session", "shard", id, "error", err)
			continue
		}
		a.shardConns[id] = c
		ctx, cancel := context.WithCancel(a.runCtx)
		c.cancel = cancel
		go a.runShard(ctx, c)
	}
	a.shardMu.Unlock()
	for _, c := range stopping {
		c.cancel()
	}
	for _, c := range stopping {
		<-c.done
		a.log.Info("discord shard released", "shard", c.id)
	}
}

func (a *Adapter) newShardConn(id int) (*shardConn, error) {
	s, _, err := newSession(a.cfg)
	if err != nil {
		return nil, err
	}
	s.LogLevel = a.s.LogLevel
	// One REST client for every shard: its wire gate counts the whole
	// bot's calls against the global limit.
	s.Client = a.s.Client
	s.Identify.Intents = a.intents()
	s.ShardID, s.ShardCount = id, a.shardCount
	s.Identify.Shard = &[2]int{id, a.shardCount}
	// One state for every shard, so that channel and guild lookups see
	// the guilds of all of them.
	s.State = a.s.State
	c := &shardConn{id: id, s: s, conns: &connTracker{}, disconnected: make(chan struct{}, 1), done: make(chan struct{})}
	s.Dialer = c.conns.wrap(s.Dialer)
	s.AddHandler(a.onEvent)
	s.AddHandler(a.onInteractionCreate)
	s.AddHandler(func(_ *discordgo.Session, r *discordgo.Ready) {
		a.onReady(s, r)
	})
	s.AddHandler(func(_ *discordgo.Session, _ *discordgo.Disconnect) {
		c.ready.Store(false)
		select {
		case c.disconnected <- struct{}{}:
		default:
		}
	})
	return c, nil
}

// intents returns the intents of new sessions (without Message Content
// once Discord refused it).
func (a *Adapter) intents() discordgo.Intent {
	if a.noContent.Load() {
		return baseIntents
	}
	return allIntents
}

// runShard keeps the session of shard c connected until ctx is done, then
// closes it.
func (a *Adapter) runShard(ctx context.Context, c *shardConn) {
	defer close(c.done)
	defer func() {
		c.ready.Store(false)
		if err := c.s.Close(); err != nil {
			a.log.Warn("close discord shard session", "shard", c.id, "error", err)
		}
	}()
	err := a.connectShard(ctx, c)
	for err == nil && ctx.Err() == nil {
		select {
		case <-ctx.Done():
		case <-c.disconnected:
			c.ready.Store(false)
			a.log.WarnContext(ctx, "discord shard disconnected, reconnecting", "shard", c.id)
			err = a.connectShard(ctx, c)
		}
	}
	if err != nil && ctx.Err() == nil && a.onFatal != nil {
		a.onFatal(err)
	}
}

// connectShard opens the session of shard c, waiting for the identify gate
// before every attempt, and retries transient failures with backoff until
// ctx is done (then it returns nil).
func (a *Adapter) connectShard(ctx context.Context, c *shardConn) error {
	delay := a.backoffMin
	for {
		wait := jittered(delay)
		if err := a.cfg.Sharding.Gate.Wait(ctx, c.id%max(a.maxConc, 1), max(a.maxConc, 1)); err != nil {
			if ctx.Err() != nil {
				return nil
			}
			a.log.WarnContext(ctx, "discord identify gate failed, retrying", "shard", c.id, "error", err)
		} else {
			octx, cancel := context.WithTimeout(ctx, a.openTimeout)
			stop := context.AfterFunc(octx, c.conns.closeLast)
			err = c.s.Open()
			stop()
			cancel()
			if err == nil || errors.Is(err, discordgo.ErrWSAlreadyOpen) {
				c.ready.Store(true)
				a.log.InfoContext(ctx, "discord shard connected", "shard", c.id, "shards", a.shardCount)
				return nil
			}
			if ctx.Err() != nil {
				return nil
			}
			switch code := closeCode(err); {
			case code == closeDisallowedIntents && c.s.Identify.Intents&discordgo.IntentMessageContent != 0:
				a.log.WarnContext(ctx, "discord message content intent not enabled in the developer portal; continuing without it (mentions, DMs and commands still work)")
				a.noContent.Store(true)
				c.s.Identify.Intents = baseIntents
				continue
			case code == closeShardingRequired:
				return fmt.Errorf("connect discord shard %d of %d: Discord requires more shards (close code 4011); set discord.shards to auto or a larger number", c.id, a.shardCount)
			case code == closeInvalidShard:
				return fmt.Errorf("connect discord shard %d of %d: Discord refused the shard (close code 4010); check discord.shards", c.id, a.shardCount)
			case permanentGatewayError(err):
				return fmt.Errorf("connect discord shard %d: %w", c.id, apiError("open", err))
			}
			a.log.WarnContext(ctx, "discord shard connect failed, retrying", "shard", c.id, "error", apiError("open", err), "retry_in", wait)
		}
		if !sleepCtx(ctx, wait) {
			return nil
		}
		delay = min(2*delay, a.backoffMax)
	}
}

// shardState is the sharded adapter's state (guarded by shardMu).
type shardState struct {
	shardMu    sync.Mutex
	shardCount int
	maxConc    int
	shardConns map[int]*shardConn
	claimed    bool // the claimer has called setShards (not yet with nil)
	noContent  atomic.Bool
	onFatal    func(error)
}

// EnableSharding turns sharding on (see Config.Sharding). It is for
// wiring that builds the claimer after the adapter; call it before Run.
func (a *Adapter) EnableSharding(sh Sharding) error {
	if a.started.Load() {
		return errors.New("enable discord sharding: already running")
	}
	cfg := a.cfg
	cfg.Sharding = &sh
	if err := cfg.validate(true); err != nil {
		return err
	}
	a.cfg = cfg
	return nil
}
