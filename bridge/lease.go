package bridge

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/secondme-bridge/secondme-bridge/store"
)

// conv is a conversation as its worker sees it: the store lease that makes
// this replica its only writer, and, while the lease is held without a
// break, the conversation's session id (nobody else may change it then).
type conv struct {
	b   *Bridge
	key store.ConversationKey
	ks  string

	pmu   sync.Mutex // serializes persist, so the last write has the latest session
	mu    sync.Mutex
	held  bool
	lost  bool // an extension found the lease taken over or expired
	lease store.Lease
	timer *time.Timer // extends the lease every leaseTTL/3

	loaded    bool   // sessionID is the stored one
	stored    bool   // a conversation record exists
	sessionID string // "" = start a new session
	lastPut   time.Time
}

func (c *conv) lockKey() string { return "conv:" + c.ks }

// acquire takes the conversation's lease, polling while another replica
// holds it: the work stays queued here (no cross-replica handoff). It gives
// up after leaseWaitMax or when ctx is done.
func (c *conv) acquire(ctx context.Context) error {
	c.mu.Lock()
	held := c.held && !c.lost
	c.mu.Unlock()
	if held {
		return nil
	}
	c.release()
	deadline := time.Now().Add(c.b.leaseWaitMax)
	poll := c.b.leasePoll
	for {
		l, err := c.b.st.Locks().Acquire(ctx, c.lockKey(), c.b.owner, c.b.leaseTTL)
		if err == nil {
			c.mu.Lock()
			c.held, c.lost, c.lease, c.loaded = true, false, l, false
			c.timer = time.AfterFunc(c.b.leaseTTL/3, c.extend)
			c.mu.Unlock()
			return nil
		}
		if !errors.Is(err, store.ErrConflict) {
			return fmt.Errorf("acquire conversation lease: %w", err)
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("acquire conversation lease: held elsewhere for %s: %w", c.b.leaseWaitMax, err)
		}
		wait := poll/2 + rand.N(poll) //nolint:gosec // jitter, not security
		select {
		case <-time.After(wait):
		case <-ctx.Done():
			return fmt.Errorf("acquire conversation lease: %w", ctx.Err())
		}
		poll = min(poll*2, 2*time.Second)
	}
}

// extend runs on the lease timer: it pushes the lease's expiry and re-arms
// the timer, or marks the lease lost.
func (c *conv) extend() {
	c.mu.Lock()
	if !c.held || c.lost {
		c.mu.Unlock()
		return
	}
	l := c.lease
	c.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.WithoutCancel(c.b.work), c.b.leaseTTL/3)
	defer cancel()
	nl, err := c.b.st.Locks().Extend(ctx, l, c.b.leaseTTL)
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.held || c.lease.Fence != l.Fence {
		return
	}
	switch {
	case err == nil:
		c.lease = nl
		c.timer.Reset(c.b.leaseTTL / 3)
	case errors.Is(err, store.ErrStaleFence):
		c.lost = true
		c.b.log.Warn("conversation lease lost", "conversation", c.ks)
	default:
		c.b.log.Warn("extend conversation lease", "conversation", c.ks, "error", err)
		c.timer.Reset(c.b.leaseTTL / 6)
	}
}

// release frees the lease if held. The cached session is forgotten: once
// the lease is gone another replica may change it.
func (c *conv) release() {
	c.mu.Lock()
	if !c.held {
		c.mu.Unlock()
		return
	}
	l, lost := c.lease, c.lost
	c.held, c.lost, c.loaded = false, false, false
	if c.timer != nil {
		c.timer.Stop()
	}
	c.mu.Unlock()
	if lost {
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(c.b.work), 5*time.Second)
	defer cancel()
	if err := c.b.st.Locks().Release(ctx, l); err != nil && !errors.Is(err, store.ErrStaleFence) {
		c.b.log.Warn("release conversation lease", "conversation", c.ks, "error", err)
	}
}

// validate checks, in the store, that the lease is still ours.
func (c *conv) validate(ctx context.Context) error {
	c.mu.Lock()
	ok, l := c.held && !c.lost, c.lease
	c.mu.Unlock()
	if !ok {
		return store.ErrStaleFence
	}
	if err := c.b.st.Locks().Validate(ctx, l); err != nil {
		return fmt.Errorf("validate conversation lease: %w", err)
	}
	return nil
}

// session returns the conversation's SecondMe session id ("" for a new
// session), from the cache while the lease has been held without a break.
func (c *conv) session(ctx context.Context) (string, error) {
	c.mu.Lock()
	if c.loaded {
		defer c.mu.Unlock()
		return c.sessionID, nil
	}
	c.mu.Unlock()
	rec, err := c.b.st.Conversations().GetConversation(ctx, c.key)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return "", fmt.Errorf("get conversation: %w", err)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.loaded, c.stored, c.sessionID, c.lastPut = true, err == nil, rec.SessionID, rec.LastActive
	return rec.SessionID, nil
}

// forget starts a new session. A stored conversation stays, with no
// session id, so that thread follow-ups are still answered.
func (c *conv) forget(ctx context.Context) error {
	if _, err := c.session(ctx); err != nil {
		return err
	}
	c.mu.Lock()
	stored := c.stored
	c.mu.Unlock()
	c.setSession("")
	if !stored {
		return nil
	}
	return c.persist(ctx)
}

// setSession records a session id in the cache ("" forgets it); persist
// writes it.
func (c *conv) setSession(id string) {
	c.mu.Lock()
	c.sessionID, c.loaded = id, true
	c.mu.Unlock()
}

// persist writes the cached session id to the store (TTL SessionTTL from
// now), after checking that the lease is still ours: a stale holder must
// not overwrite a newer session.
func (c *conv) persist(ctx context.Context) error {
	c.pmu.Lock()
	defer c.pmu.Unlock()
	if err := c.validate(ctx); err != nil {
		return err
	}
	now := c.b.now()
	c.mu.Lock()
	rec := store.Conversation{Key: c.key, SessionID: c.sessionID, LastActive: now}
	c.mu.Unlock()
	if err := c.b.st.Conversations().PutConversation(ctx, rec, c.b.cfg.SessionTTL); err != nil {
		return fmt.Errorf("put conversation: %w", err)
	}
	c.mu.Lock()
	c.lastPut, c.stored = now, true
	c.mu.Unlock()
	return nil
}

// touch refreshes the conversation's inactivity TTL at the end of a turn,
// at most every min(SessionTTL/20, 1 h): between two refreshes the stored
// TTL is at most that much shorter than SessionTTL.
func (c *conv) touch(ctx context.Context) error {
	every := min(c.b.cfg.SessionTTL/20, time.Hour)
	c.mu.Lock()
	due := c.loaded && c.sessionID != "" && c.b.now().Sub(c.lastPut) >= every
	c.mu.Unlock()
	if !due {
		return nil
	}
	return c.persist(ctx)
}
