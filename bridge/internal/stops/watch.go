package stops

import (
	"context"
	"log/slog"
	"time"

	"github.com/secondme-bridge/secondme-bridge/store"
)

// maxWatchBackoff bounds the wait between two failed watches.
const maxWatchBackoff = 30 * time.Second

// WatchDeps is what Watch needs.
type WatchDeps struct {
	Cancels  store.Cancels
	Registry *Registry
	Log      *slog.Logger
	// RetryDelay is the first wait after a failed watch (doubled up to
	// 30 s while it keeps failing).
	RetryDelay time.Duration
}

// Request asks every replica, through the store, to stop the reply (or
// the conversation's reply, for a native stop) named by id; the request
// lasts ttl. A failure is logged: the person who asked can press again.
func (d WatchDeps) Request(ctx context.Context, platform, id string, ttl time.Duration) {
	first, err := d.Cancels.Request(ctx, id, ttl)
	switch {
	case err != nil:
		d.Log.Warn("request a stop through the store", "platform", platform, "error", err)
	case first:
		d.Log.Info("stop requested for a reply on another replica (or one that ended)", "platform", platform)
	}
}

// Watch stops the replies of this process that other replicas were asked
// to stop, until ctx is done: one watch of the store (restarted when it
// ends), and, whenever it (re)starts, one check of each reply running here
// (Requested), for the requests it may have missed.
func Watch(ctx context.Context, d WatchDeps) {
	backoff := d.RetryDelay
	for ctx.Err() == nil {
		ch, err := d.Cancels.Watch(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			d.Log.Warn("watch stop requests; retrying", "error", err, "in", backoff)
			select {
			case <-time.After(backoff):
			case <-ctx.Done():
				return
			}
			backoff = min(2*backoff, maxWatchBackoff)
			continue
		}
		backoff = d.RetryDelay
		for id := range ch {
			if id == "" {
				CatchUp(ctx, d)
				d.Registry.watching.Store(true)
				continue
			}
			if d.Registry.Stop(id) {
				d.Log.Info("reply stopped from another replica")
			}
		}
		d.Registry.watching.Store(false)
	}
}

// CatchUp stops the running replies whose stop was requested while the
// watch was down.
func CatchUp(ctx context.Context, d WatchDeps) {
	for _, id := range d.Registry.IDs() {
		on, err := d.Cancels.Requested(ctx, id)
		if err != nil {
			d.Log.Warn("check a stop request", "error", err)
			continue
		}
		if on {
			d.Registry.Stop(id)
		}
	}
}
