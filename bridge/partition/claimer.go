package partition

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"time"

	"github.com/secondme-bridge/secondme-bridge/store"
)

// DefaultTTL is the lease TTL when Config leaves it zero.
const DefaultTTL = 15 * time.Second

// Config configures a Claimer.
type Config struct {
	// Locks holds the leases (shared by the replicas). Required.
	Locks store.Locks
	// Name namespaces the lock keys ("discord:shard"). Required.
	Name string
	// Owner identifies this replica (its instance id). Required.
	Owner string
	// TTL is the lease TTL: a dead replica's partitions are taken over
	// within about TTL + TTL/4. Default DefaultTTL; at least 1 s.
	TTL    time.Duration
	Logger *slog.Logger
}

// Claimer claims a replica's share of a set of partitions. Create it with
// New; Hold is called once at a time.
type Claimer struct {
	cfg Config
	log *slog.Logger
}

// New validates cfg.
func New(cfg Config) (*Claimer, error) {
	switch {
	case cfg.Locks == nil:
		return nil, errors.New("new partition claimer: nil locks")
	case cfg.Name == "" || cfg.Owner == "":
		return nil, errors.New("new partition claimer: name and owner are required")
	case cfg.TTL == 0:
		cfg.TTL = DefaultTTL
	case cfg.TTL < time.Second:
		return nil, fmt.Errorf("new partition claimer: ttl %v: want at least 1s", cfg.TTL)
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	return &Claimer{cfg: cfg, log: cfg.Logger.With("partitions", cfg.Name)}, nil
}

// held is a lease and when it must be given up if it cannot be renewed.
type held struct {
	lease store.Lease
	until time.Time // local clock: renewal time + TTL - margin
}

// round is one Hold's state.
type round struct {
	c       *Claimer
	count   int
	set     func([]int)
	member  int // slot, -1 when none
	mlease  held
	parts   map[int]held
	applied []int
	// prevWant is the share computed at the previous round: partitions
	// are given up only when two rounds agree, so one odd census (two
	// probes crossing) does not move connections.
	prevWant []int
	// settled is false until a round after the member slot was taken, so
	// that replicas starting together see each other before claiming.
	settled bool
}

// Hold claims this replica's share of count partitions until ctx is done
// (see discord.ShardClaimer): set is called with the held partitions after
// a gain and before a loss; at return set(nil) has been called and every
// lease released. Store errors are logged and retried; a lease that cannot
// be renewed is given up before it expires.
func (c *Claimer) Hold(ctx context.Context, count int, set func(held []int)) error {
	if count < 1 {
		return fmt.Errorf("hold partitions: count %d: want at least 1", count)
	}
	r := &round{c: c, count: count, set: set, member: -1, parts: map[int]held{}}
	defer r.releaseAll()
	every := c.cfg.TTL / 4
	for {
		r.step(ctx)
		wait := every
		if !r.settled && r.member >= 0 {
			// The settling pause: long enough for replicas started
			// together to take their member slots.
			wait = c.cfg.TTL / 2
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil
		case <-t.C:
		}
	}
}

func (c *Claimer) memberKey(k int) string { return c.cfg.Name + ":member:" + strconv.Itoa(k) }
func (c *Claimer) partKey(i int) string   { return c.cfg.Name + ":" + strconv.Itoa(i) }

// margin is how long before a lease's expiry an unrenewed lease is given
// up, to cover clock skew and the store round trip.
func (c *Claimer) margin() time.Duration { return c.cfg.TTL / 5 }

func (c *Claimer) hold(l store.Lease, at time.Time) held {
	return held{lease: l, until: at.Add(c.cfg.TTL - c.margin())}
}

// step is one round: renew or take a member slot, count the members, then
// adjust the held partitions to this replica's share.
func (r *round) step(ctx context.Context) {
	c := r.c
	locks, ttl, owner := c.cfg.Locks, c.cfg.TTL, c.cfg.Owner
	now := time.Now()
	// Drop what can no longer be renewed in time.
	for i, h := range r.parts {
		if now.After(h.until) {
			c.log.WarnContext(ctx, "partition lease not renewed in time; giving it up", "partition", i)
			delete(r.parts, i)
		}
	}
	if r.member >= 0 && now.After(r.mlease.until) {
		r.member = -1
	}
	r.apply(ctx)

	// Member slot: renew, or take the lowest free one; move down when a
	// lower slot is free, so the slots stay dense.
	if r.member >= 0 {
		l, err := locks.Extend(ctx, r.mlease.lease, ttl)
		switch {
		case err == nil:
			r.mlease = c.hold(l, now)
		case errors.Is(err, store.ErrStaleFence):
			r.member = -1
		default:
			c.log.WarnContext(ctx, "renew partition member lease", "error", err)
		}
	}
	limit := r.count
	if r.member >= 0 {
		limit = r.member
	}
	for k := 0; k < limit; k++ {
		l, err := locks.Acquire(ctx, c.memberKey(k), owner, ttl)
		if err != nil {
			if !errors.Is(err, store.ErrConflict) {
				c.log.WarnContext(ctx, "acquire partition member lease", "error", err)
				return
			}
			continue
		}
		if r.member >= 0 {
			_ = locks.Release(ctx, r.mlease.lease)
		}
		r.member, r.mlease = k, c.hold(l, now)
		break
	}
	if r.member < 0 {
		// More replicas than partitions, or the store is failing.
		r.settled = true
		r.shrinkTo(ctx, nil)
		r.apply(ctx)
		return
	}

	// Count the live members and this replica's rank among them.
	members, rank, ok := r.census(ctx)
	if !ok {
		r.renewParts(ctx, now)
		return
	}
	if !r.settled {
		r.settled = true
		return
	}
	want := share(r.count, members, rank)
	if slices.Equal(want, r.prevWant) {
		r.shrinkTo(ctx, want)
	}
	r.prevWant = want
	r.renewParts(ctx, now)
	for _, i := range want {
		if _, ok := r.parts[i]; ok {
			continue
		}
		l, err := locks.Acquire(ctx, c.partKey(i), owner, ttl)
		switch {
		case err == nil:
			r.parts[i] = c.hold(l, now)
			c.log.InfoContext(ctx, "partition claimed", "partition", i, "members", members)
		case errors.Is(err, store.ErrConflict):
			// Its holder gives it up at its next round, or dies and the
			// lease expires.
		default:
			c.log.WarnContext(ctx, "acquire partition lease", "partition", i, "error", err)
		}
	}
	r.apply(ctx)
}

// census probes every member slot but this replica's: a slot held by
// another owner is a live member. A free slot is taken for a moment by
// the probe (and released at once).
func (r *round) census(ctx context.Context) (members, rank int, ok bool) {
	c := r.c
	members = 1
	for k := 0; k < r.count; k++ {
		if k == r.member {
			continue
		}
		l, err := c.cfg.Locks.Acquire(ctx, c.memberKey(k), c.cfg.Owner+"/probe", time.Second)
		switch {
		case errors.Is(err, store.ErrConflict):
			members++
			if k < r.member {
				rank++
			}
		case err != nil:
			c.log.WarnContext(ctx, "probe partition members", "error", err)
			return 0, 0, false
		default:
			_ = c.cfg.Locks.Release(ctx, l)
		}
	}
	return members, rank, true
}

// renewParts extends every held partition lease; a lease found stale is
// dropped at once.
func (r *round) renewParts(ctx context.Context, now time.Time) {
	c := r.c
	for i, h := range r.parts {
		l, err := c.cfg.Locks.Extend(ctx, h.lease, c.cfg.TTL)
		switch {
		case err == nil:
			r.parts[i] = c.hold(l, now)
		case errors.Is(err, store.ErrStaleFence):
			c.log.WarnContext(ctx, "partition lease lost", "partition", i)
			delete(r.parts, i)
		default:
			c.log.WarnContext(ctx, "renew partition lease", "partition", i, "error", err)
		}
	}
	r.apply(ctx)
}

// shrinkTo gives up the held partitions not in want: their connections
// are closed (set) before their leases are released.
func (r *round) shrinkTo(ctx context.Context, want []int) {
	var drop []held
	for i, h := range r.parts {
		if !slices.Contains(want, i) {
			drop = append(drop, h)
			delete(r.parts, i)
		}
	}
	if len(drop) == 0 {
		return
	}
	r.apply(ctx)
	for _, h := range drop {
		if err := r.c.cfg.Locks.Release(ctx, h.lease); err != nil && !errors.Is(err, store.ErrStaleFence) {
			r.c.log.WarnContext(ctx, "release partition lease", "error", err)
		}
	}
}

// apply calls set when the held partitions changed since the last call,
// and once the first time after the settling round, whatever they are.
func (r *round) apply(context.Context) {
	if !r.settled {
		return
	}
	now := make([]int, 0, len(r.parts))
	for i := range r.parts {
		now = append(now, i)
	}
	slices.Sort(now)
	if slices.Equal(now, r.applied) && r.applied != nil {
		return
	}
	r.applied = now
	r.set(now)
}

// releaseAll gives everything up at the end of Hold, on a fresh context
// (Hold's is done).
func (r *round) releaseAll() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	r.shrinkTo(ctx, nil)
	r.applied = nil
	r.set(nil)
	if r.member >= 0 {
		_ = r.c.cfg.Locks.Release(ctx, r.mlease.lease)
	}
}

// share returns the partitions of the member of rank among members:
// a contiguous block, the blocks of count partitions as even as can be
// (sizes differ by at most one). Contiguous, because Discord's identify
// buckets are shard id % max_concurrency: consecutive shards are in
// different buckets, so a replica taking over a block identifies its
// shards in parallel.
func share(count, members, rank int) []int {
	from, to := rank*count/members, (rank+1)*count/members
	out := make([]int, 0, to-from)
	for i := from; i < to; i++ {
		out = append(out, i)
	}
	return out
}
