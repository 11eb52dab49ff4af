package budget

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/secondme-bridge/secondme-bridge/platforms"
)

// finalAttempts is how many times a final update is tried on errors other
// than 429 (which are retried until the deadline).
const finalAttempts = 3

// Deliver runs op, an update that must happen (a final edit, a send, the
// end of a stream), until it succeeds or ctx ends: it takes a token from
// every budget first (waiting for them, with priority over intermediate
// updates), retries 429s after their RetryAfter for as long as ctx allows,
// and retries other errors a few times with a growing pause.
// platforms.ErrStreamUnsupported and platforms.ErrTooLong are returned at
// once.
func (p *Pacer) Deliver(ctx context.Context, platform string, budgets []platforms.Budget, op func(context.Context) error) error {
	failures := 0
	for {
		if err := p.TakeFinal(ctx, budgets); err != nil {
			return err
		}
		err := op(ctx)
		if err == nil {
			return nil
		}
		if errors.Is(err, platforms.ErrStreamUnsupported) || errors.Is(err, platforms.ErrTooLong) {
			return err
		}
		var wait time.Duration
		var rl *platforms.RateLimitError
		if errors.As(err, &rl) {
			p.rateLimited(platform)
			wait = max(rl.RetryAfter, 100*time.Millisecond)
		} else {
			failures++
			if failures >= finalAttempts {
				return err
			}
			wait = time.Duration(failures) * 500 * time.Millisecond
		}
		select {
		case <-time.After(wait):
		case <-ctx.Done():
			return fmt.Errorf("deliver update: %w (last error: %w)", ctx.Err(), err)
		}
	}
}
