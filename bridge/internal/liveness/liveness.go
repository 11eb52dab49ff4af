package liveness

import (
	"context"
	"log/slog"
	"strings"
	"time"

	"github.com/secondme-bridge/secondme-bridge/store"
)

// Store is where the liveness records live (a store.Store).
type Store interface {
	Liveness() store.Liveness
}

// Tracker keeps this process's liveness record and tells live owners from
// dead ones.
type Tracker struct {
	store     Store
	owner     string // this process: instance id + "/" + boot id
	instance  string // the instance id
	log       *slog.Logger
	beatEvery time.Duration
	liveTTL   time.Duration
}

// Deps are what a Tracker needs. BeatEvery and LiveTTL default to the
// constants above.
type Deps struct {
	Store              Store
	Owner, Instance    string
	Log                *slog.Logger
	BeatEvery, LiveTTL time.Duration
}

// New returns the Tracker of the process d.Owner.
func New(d Deps) *Tracker {
	t := &Tracker{store: d.Store, owner: d.Owner, instance: d.Instance, log: d.Log, beatEvery: d.BeatEvery, liveTTL: d.LiveTTL}
	if t.beatEvery <= 0 {
		t.beatEvery = BeatEvery
	}
	if t.liveTTL <= 0 {
		t.liveTTL = LiveTTL
	}
	if t.log == nil {
		t.log = slog.New(slog.DiscardHandler)
	}
	return t
}

// Liveness: every process beats a liveness record in the store every
// beatEvery, with a TTL of liveTTL, and leaves it at the end of a graceful
// stop. Every orphanEvery each process reads the live records, and when
// an owner has vanished since the last read, runs the recovery sweep
// (package bridge, recovery.go), which treats the in-flight replies, inbox entries and
// conversation leases of owners without a live record as orphans (the
// sweep also runs at start-up and every minute). So a replica that dies is taken over within liveTTL
// + orphanEvery (+ the work of finalizing), under the 20 s the README
// promises; on bolt, whose file one process holds at a time, every record
// of an earlier process is dropped when the file is opened, so a restart
// finalizes its predecessor's orphans in its first sweep.
const (
	LiveTTL     = 10 * time.Second
	BeatEvery   = 3 * time.Second
	OrphanEvery = 3 * time.Second
)

// Beat writes this process's liveness record and reports success.
func (t *Tracker) Beat(ctx context.Context) bool {
	ctx, cancel := context.WithTimeout(ctx, t.beatEvery)
	defer cancel()
	if err := t.store.Liveness().Beat(ctx, t.owner, t.liveTTL); err != nil {
		if ctx.Err() == nil {
			t.log.Warn("beat liveness record", "error", err)
		}
		return false
	}
	return true
}

// BeatLoop refreshes the liveness record every beatEvery until ctx is
// done. The record is left by Leave, once the work has stopped.
func (t *Tracker) BeatLoop(ctx context.Context) {
	tick := time.NewTicker(t.beatEvery)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
			t.Beat(ctx)
		}
	}
}

// Leave deletes the liveness record at the end of a graceful stop, so that
// the other replicas take over the messages still in this process's inbox
// at once.
func (t *Tracker) Leave() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := t.store.Liveness().Leave(ctx, t.owner); err != nil {
		t.log.Warn("leave liveness record", "error", err)
	}
}

// AliveSet returns the owners with a live liveness record.
func (t *Tracker) AliveSet(ctx context.Context) (map[string]bool, error) {
	live, err := t.store.Liveness().Alive(ctx)
	if err != nil {
		if ctx.Err() == nil {
			t.log.Warn("list live processes", "error", err)
		}
		return nil, err
	}
	alive := make(map[string]bool, len(live))
	for _, o := range live {
		alive[o] = true
	}
	return alive, nil
}

// DeadOwners returns the test for dead owners: not this process, and an
// earlier boot of this instance id or without a live liveness record.
// When the liveness records cannot be read, only the first rule applies.
func (t *Tracker) DeadOwners(ctx context.Context) func(owner string) bool {
	instance := t.instance + "/"
	alive, err := t.AliveSet(ctx)
	return func(owner string) bool {
		switch {
		case owner == t.owner:
			return false
		case strings.HasPrefix(owner, instance):
			return true // this instance restarted: that boot is gone
		default:
			return err == nil && !alive[owner]
		}
	}
}

// EarlierBoot reports whether owner is an earlier boot of this instance id.
func (t *Tracker) EarlierBoot(owner string) bool {
	return owner != t.owner && strings.HasPrefix(owner, t.instance+"/")
}
