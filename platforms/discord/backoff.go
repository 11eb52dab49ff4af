package discord

import (
	"context"
	"math/rand/v2"
	"time"
)

// jittered returns a wait drawn uniformly from [d/2, d] ("equal jitter"):
// replicas (or shards) that lost the gateway at the same moment spread
// their reconnects instead of hitting Discord in step, and the wait still
// grows with d.
func jittered(d time.Duration) time.Duration {
	if d <= 1 {
		return d
	}
	half := d / 2
	return half + rand.N(d-half+1)
}

// sleepCtx waits d, or until ctx is done; it reports whether d passed.
func sleepCtx(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}
