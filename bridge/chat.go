package bridge

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/secondme-bridge/secondme-bridge/bridge/linking"
	"github.com/secondme-bridge/secondme-bridge/secondme"
	"github.com/secondme-bridge/secondme-bridge/store"
)

// runChat answers one message: it gets the user's token, shows the typing
// indicator, takes the conversation's lease, streams the avatar's reply
// and leaves it in a final state whatever happens.
func (b *Bridge) runChat(ctx context.Context, c *conv, it *workItem) {
	log := b.log.With("platform", it.key.Platform, "conversation", c.ks)
	link, err := b.tokens.get(ctx, it.key.UserKey())
	if err != nil {
		b.tellTokenError(ctx, it, err, log)
		return
	}
	r := b.newRenderer(it)
	if err := c.acquire(ctx); err != nil {
		log.Error("take conversation lease", "error", err)
		r.fail(newUserError(kindStore, msgInternal, err))
		return
	}
	session, err := c.session(ctx)
	if err != nil {
		log.Error("read conversation", "error", err)
		r.fail(newUserError(kindStore, msgInternal, err))
		return
	}
	var persisting sync.WaitGroup
	persist := func() {
		persisting.Go(func() {
			if err := c.persist(ctx); err != nil {
				log.Warn("save conversation session", "error", err)
			}
		})
	}
	t := &turn{b: b, c: c, it: it, r: r, log: log, link: link, session: session, persist: persist}
	t.converse(ctx)
	persisting.Wait()
	if err := c.touch(ctx); err != nil {
		log.Warn("refresh conversation", "error", err)
	}
}

// turn is one question to the avatar and its reply, with its retries.
type turn struct {
	b       *Bridge
	c       *conv
	it      *workItem
	r       *renderer
	log     *slog.Logger
	link    store.Link
	session string
	persist func()

	newSession, refreshed, retried bool
}

// converse streams the reply, retrying before any text: once with a new
// session when the stored one is gone, once with a refreshed token when the
// token was refused, once for a transient failure.
func (t *turn) converse(ctx context.Context) {
	b := t.b
	sctx, cancel := context.WithTimeout(ctx, b.cfg.StreamTimeout)
	defer cancel()
	for {
		req := secondme.ChatRequest{
			Message:   t.it.text,
			SessionID: t.session,
			AppID:     b.cfg.AppID,
			Model:     b.cfg.Model,
			MaxTokens: b.cfg.MaxTokens,
		}
		if t.session == "" {
			req.SystemPrompt = b.cfg.SystemPrompt
		}
		stream, err := b.sm.ChatStream(sctx, t.link.Token.AccessToken, req)
		if err == nil {
			t.r.begin()
			err = t.consume(stream)
			t.r.end()
			if err == nil {
				t.r.finish("")
				return
			}
			if t.r.hasText() {
				t.interrupted(ctx, sctx, err)
				return
			}
			t.r.reset()
		}
		if !t.again(ctx, sctx, err) {
			return
		}
	}
}

// consume reads the stream into the renderer and returns its error (nil
// when it completed).
func (t *turn) consume(stream *secondme.Stream) error {
	defer stream.Close()
	for stream.Next() {
		ev := stream.Current()
		switch ev.Type {
		case secondme.EventSession:
			if ev.SessionID != "" && ev.SessionID != t.session {
				t.session = ev.SessionID
				t.c.setSession(ev.SessionID)
				t.persist()
			}
		case secondme.EventDelta:
			t.r.add(ev.Text)
		}
	}
	return stream.Err()
}

// interrupted finishes a reply whose stream failed after text was shown:
// the text stays, with a notice.
func (t *turn) interrupted(ctx, sctx context.Context, err error) {
	notice := msgInterrupted
	switch {
	case ctx.Err() != nil:
		notice = msgRestarted
	case sctx.Err() != nil:
		t.log.Warn("reply hit the stream timeout", "timeout", t.b.cfg.StreamTimeout)
	default:
		t.log.Warn("reply interrupted upstream", "error", err)
	}
	t.b.met.errors.WithLabelValues(kindInterrupted).Inc()
	t.r.finish(notice)
}

// again decides, after a failure before any text, whether to try once more
// (and prepares the retry), or tells the user and reports false.
func (t *turn) again(ctx, sctx context.Context, err error) bool {
	b := t.b
	switch {
	case ctx.Err() != nil:
		t.r.fail(newUserError(kindInterrupted, msgRestarted, err))
		return false
	case secondme.IsSessionInvalid(err) && !t.newSession:
		t.newSession = true
		t.log.Info("stored session is gone; starting a new one", "error", err)
		t.session = ""
		t.c.setSession("")
		t.persist()
		return true
	case secondme.IsTokenInvalid(err) && !t.refreshed:
		t.refreshed = true
		link, rerr := b.tokens.refresh(ctx, t.it.key.UserKey(), t.link.Token.AccessToken)
		if rerr != nil {
			t.report(rerr)
			return false
		}
		t.link = link
		return true
	}
	if _, limited := secondme.RetryAfter(err); !limited && secondme.IsRetryable(err) && !t.retried && sctx.Err() == nil {
		t.retried = true
		t.log.Info("retrying the avatar after a transient failure", "error", err)
		select {
		case <-time.After(b.retryDelay):
			return true
		case <-ctx.Done():
			t.r.fail(newUserError(kindInterrupted, msgRestarted, ctx.Err()))
			return false
		}
	}
	t.report(err)
	return false
}

// report logs err at the right level and tells the user.
func (t *turn) report(err error) {
	ue := classify(err)
	switch ue.kind {
	case kindOperator, kindInternal:
		t.log.Error("avatar request failed", "kind", ue.kind, "error", err)
	case kindMissingScope:
		t.log.Warn("user's link lacks a scope", "error", err)
	default:
		t.log.Warn("avatar request failed", "kind", ue.kind, "error", err)
	}
	if errors.Is(err, linking.ErrLinkBroken) || ue.kind == kindLinkBroken {
		t.b.tokens.forget(t.it.key.UserKey())
	}
	t.r.fail(ue)
}
