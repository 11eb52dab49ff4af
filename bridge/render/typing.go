package render

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/secondme-bridge/secondme-bridge/platforms"
)

// typing keeps a platform's typing indicator alive until the reply's first
// text is shown: at once, then every interval (once when interval is 0),
// also while the first text waits for its budget. Every call takes its
// tokens first (take: the platform's typing budgets, at budget.ClassTyping,
// below final parts and first texts), waiting for them as long as it takes
// (the indicator is renewed as soon as they come).
type typing struct {
	mu      sync.Mutex // held during a Typing call, so stop waits for it
	stopped bool
	quit    chan struct{}
	cancel  context.CancelFunc // ends a wait for tokens
	once    sync.Once
}

// typingCall is one typing renewal: take its tokens (waiting until ctx
// ends), then call the platform.
type typingCall struct {
	tp   platforms.Typer
	to   platforms.Target
	take func(ctx context.Context) error
}

func (t *typing) start(ctx context.Context, c typingCall, interval time.Duration, log *slog.Logger) {
	t.quit = make(chan struct{})
	ctx, t.cancel = context.WithCancel(ctx)
	go func() {
		defer t.cancel()
		for {
			// The wait for tokens ends with stop: the first text shown.
			if err := c.take(ctx); err != nil || !t.call(ctx, c, log) || interval <= 0 {
				return
			}
			select {
			case <-time.After(interval):
			case <-t.quit:
				return
			case <-ctx.Done():
				return
			}
		}
	}()
}

// call makes one Typing call unless typing stopped; it reports whether
// typing goes on.
func (t *typing) call(ctx context.Context, c typingCall, log *slog.Logger) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.stopped {
		return false
	}
	cctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := c.tp.Typing(cctx, c.to); err != nil {
		log.Debug("typing indicator", "error", err)
	}
	return true
}

// stop ends the refreshes. It waits for a Typing call in progress, so that
// the first text is never overtaken by a late indicator (which would then
// linger). It is idempotent and a no-op when typing never started.
func (t *typing) stop() {
	if t.quit == nil {
		return
	}
	t.once.Do(func() {
		t.cancel()
		t.mu.Lock()
		t.stopped = true
		t.mu.Unlock()
		close(t.quit)
	})
}
