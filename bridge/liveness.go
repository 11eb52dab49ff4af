package bridge

import (
	"context"
	"time"
)

// Liveness: every process beats a liveness record in the store every
// beatEvery, with a TTL of liveTTL, and leaves it at the end of a graceful
// stop. Every orphanEvery each process reads the live records, and when
// an owner has vanished since the last read, runs the recovery sweep
// (recovery.go), which treats the in-flight replies, inbox entries and
// conversation leases of owners without a live record as orphans (the
// sweep also runs at start-up and every minute). So a replica that dies is taken over within liveTTL
// + orphanEvery (+ the work of finalizing), under the 20 s the README
// promises; on bolt, whose file one process holds at a time, every record
// of an earlier process is dropped when the file is opened, so a restart
// finalizes its predecessor's orphans in its first sweep.
const (
	liveTTL     = 10 * time.Second
	beatEvery   = 3 * time.Second
	orphanEvery = 3 * time.Second
)

// beat writes this process's liveness record and reports success.
func (b *Bridge) beat(ctx context.Context) bool {
	ctx, cancel := context.WithTimeout(ctx, b.tim.beatEvery)
	defer cancel()
	if err := b.st.Liveness().Beat(ctx, b.owner, b.tim.liveTTL); err != nil {
		if ctx.Err() == nil {
			b.log.Warn("beat liveness record", "error", err)
		}
		return false
	}
	return true
}

// beatLoop refreshes the liveness record every beatEvery until ctx is
// done. The record is left by leave, once the work has stopped.
func (b *Bridge) beatLoop(ctx context.Context) {
	t := time.NewTicker(b.tim.beatEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			b.beat(ctx)
		}
	}
}

// leave deletes the liveness record at the end of a graceful stop, so that
// the other replicas take over the messages still in this process's inbox
// at once.
func (b *Bridge) leave() {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(b.work), 5*time.Second)
	defer cancel()
	if err := b.st.Liveness().Leave(ctx, b.owner); err != nil {
		b.log.Warn("leave liveness record", "error", err)
	}
}
