package render

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/secondme-bridge/secondme-bridge/platforms"
)

// typing keeps a platform's typing indicator alive until the reply's first
// text: at once, then every interval (once when interval is 0).
type typing struct {
	mu      sync.Mutex // held during a Typing call, so stop waits for it
	stopped bool
	quit    chan struct{}
	once    sync.Once
}

func (t *typing) start(ctx context.Context, tp platforms.Typer, to platforms.Target, interval time.Duration, log *slog.Logger) {
	t.quit = make(chan struct{})
	go func() {
		for {
			t.mu.Lock()
			if t.stopped {
				t.mu.Unlock()
				return
			}
			cctx, cancel := context.WithTimeout(ctx, 5*time.Second)
			if err := tp.Typing(cctx, to); err != nil {
				log.Debug("typing indicator", "error", err)
			}
			cancel()
			t.mu.Unlock()
			if interval <= 0 {
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

// stop ends the refreshes. It waits for a Typing call in progress, so that
// the first text is never overtaken by a late indicator (which would then
// linger). It is idempotent and a no-op when typing never started.
func (t *typing) stop() {
	if t.quit == nil {
		return
	}
	t.once.Do(func() {
		t.mu.Lock()
		t.stopped = true
		t.mu.Unlock()
		close(t.quit)
	})
}
