package lease

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/secondme-bridge/secondme-bridge/store"
)

// Deps are what a conversation's lease needs; the engine fills them in
// when a conversation's worker starts (tests shorten the durations).
type Deps struct {
	Store store.Store
	Owner string // this process: the lease owner
	Log   *slog.Logger
	// Work is the engine's work context (its values; lease clean-up
	// outlives its cancellation).
	Work       context.Context
	SessionTTL time.Duration // how long a stored conversation lasts
	TTL        time.Duration // the lease's lifetime, extended every TTL/3
	Poll       time.Duration // first poll interval while the lease is held elsewhere
	WaitMax    time.Duration // longest wait for a lease held elsewhere
}

// Conv is a conversation as its worker sees it: the store lease that makes
// this replica its only writer for the length of one turn. A turn costs
// two round trips to the store, whatever it involves: Turns.Begin (take the
// lease, read the conversation and the user's link) and Turns.Finish (save
// the session, drop the in-flight reply record and free the lease, fenced).
type Conv struct {
	d   *Deps
	key store.ConversationKey
	ks  string

	mu    sync.Mutex
	held  bool
	lost  bool // an extension found the lease taken over or expired
	lease store.Lease
	timer *time.Timer // extends the lease every leaseTTL/3
}

// New returns the conversation key's lease handle (not held); ks is the
// key as a string (the lock's name).
func New(d *Deps, key store.ConversationKey, ks string) *Conv {
	return &Conv{d: d, key: key, ks: ks}
}

// LockKey is the name of the lock of the conversation whose key string is
// ks.
func LockKey(ks string) string { return "conv:" + ks }

func (c *Conv) lockKey() string { return LockKey(c.ks) }

// Begin takes the conversation's lease and reads what the turn needs under
// it, polling while another replica holds the lease: the work stays queued
// here (no cross-replica handoff). onWait, if not nil, is called once when
// the lease is found held elsewhere. It gives up after leaseWaitMax or when
// ctx is done.
func (c *Conv) Begin(ctx context.Context, onWait func()) (*store.TurnStart, error) {
	c.Release() // a lease left over by a turn that did not finish
	deadline := time.Now().Add(c.d.WaitMax)
	poll := c.d.Poll
	for {
		ts, err := c.d.Store.Turns().Begin(ctx, c.lockKey(), c.d.Owner, c.d.TTL, c.key)
		if err == nil {
			c.mu.Lock()
			c.held, c.lost, c.lease = true, false, ts.Lease
			c.timer = time.AfterFunc(c.d.TTL/3, c.extend)
			c.mu.Unlock()
			return ts, nil
		}
		if !errors.Is(err, store.ErrConflict) {
			return nil, fmt.Errorf("begin turn: %w", err)
		}
		if onWait != nil {
			onWait()
			onWait = nil
		}
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("begin turn: lease held elsewhere for %s: %w", c.d.WaitMax, err)
		}
		wait := poll/2 + rand.N(poll) //nolint:gosec // jitter, not security
		select {
		case <-time.After(wait):
		case <-ctx.Done():
			return nil, fmt.Errorf("begin turn: %w", ctx.Err())
		}
		poll = min(poll*2, 2*time.Second)
	}
}

// extend runs on the lease timer: it pushes the lease's expiry and re-arms
// the timer, or marks the lease lost.
func (c *Conv) extend() {
	c.mu.Lock()
	if !c.held || c.lost {
		c.mu.Unlock()
		return
	}
	l := c.lease
	c.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.WithoutCancel(c.d.Work), c.d.TTL/3)
	defer cancel()
	nl, err := c.d.Store.Locks().Extend(ctx, l, c.d.TTL)
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.held || c.lease.Fence != l.Fence {
		return
	}
	switch {
	case err == nil:
		c.lease = nl
		c.timer.Reset(c.d.TTL / 3)
	case errors.Is(err, store.ErrStaleFence):
		c.lost = true
		c.d.Log.Warn("conversation lease lost", "conversation", c.ks)
	default:
		c.d.Log.Warn("extend conversation lease", "conversation", c.ks, "error", err)
		c.timer.Reset(c.d.TTL / 6)
	}
}

// Finish ends the turn in one round trip: if the lease is still ours, rec
// is stored (when not nil, for SessionTTL), the in-flight reply record
// replyID is deleted (when not empty) and the lease is freed, atomically.
// Otherwise nothing is stored and the error wraps store.ErrStaleFence: a
// stale holder must not overwrite a newer session. Whatever happens, the
// reply record does not outlive the turn (the reply is final), and the
// lease is no longer held here.
func (c *Conv) Finish(ctx context.Context, rec *store.Conversation, replyID string) error {
	c.mu.Lock()
	l, held, lost := c.lease, c.held, c.lost
	c.held, c.lost = false, false
	if c.timer != nil {
		c.timer.Stop()
	}
	c.mu.Unlock()
	if !held || lost {
		c.dropReply(ctx, replyID)
		return fmt.Errorf("finish turn: %w", store.ErrStaleFence)
	}
	err := c.d.Store.Turns().Finish(ctx, l, rec, c.d.SessionTTL, replyID)
	if err == nil {
		return nil
	}
	// Nothing was written (or, after a transport error, maybe it was):
	// drop the record and the lease one by one.
	c.dropReply(ctx, replyID)
	if !errors.Is(err, store.ErrStaleFence) {
		if rerr := c.d.Store.Locks().Release(ctx, l); rerr != nil && !errors.Is(rerr, store.ErrStaleFence) {
			c.d.Log.Warn("release conversation lease", "conversation", c.ks, "error", rerr)
		}
	}
	return fmt.Errorf("finish turn: %w", err)
}

// dropReply deletes the in-flight record and the inbox entry of a finished
// reply, on the paths where Turns.Finish did not.
func (c *Conv) dropReply(ctx context.Context, replyID string) {
	if replyID == "" {
		return
	}
	if err := c.d.Store.Replies().DeleteReply(ctx, replyID); err != nil && !errors.Is(err, store.ErrNotFound) {
		c.d.Log.Warn("delete in-flight reply record", "conversation", c.ks, "error", err)
	}
	if err := c.d.Store.Inbox().Remove(ctx, replyID); err != nil && !errors.Is(err, store.ErrNotFound) {
		c.d.Log.Warn("remove inbox entry", "conversation", c.ks, "error", err)
	}
}

// Release frees the lease if a turn left it held (every turn normally ends
// with Finish, which frees it).
func (c *Conv) Release() {
	c.mu.Lock()
	if !c.held {
		c.mu.Unlock()
		return
	}
	l, lost := c.lease, c.lost
	c.held, c.lost = false, false
	if c.timer != nil {
		c.timer.Stop()
	}
	c.mu.Unlock()
	if lost {
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(c.d.Work), 5*time.Second)
	defer cancel()
	if err := c.d.Store.Locks().Release(ctx, l); err != nil && !errors.Is(err, store.ErrStaleFence) {
		c.d.Log.Warn("release conversation lease", "conversation", c.ks, "error", err)
	}
}

// FinishCtx is a bounded context for the end of a turn, usable after the
// work context was cancelled at shutdown.
func FinishCtx(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
}

// Key returns the conversation's key string.
func (c *Conv) Key() string { return c.ks }
