package codec

import (
	"fmt"
	"math"
	"time"

	"github.com/secondme-bridge/secondme-bridge/store"
)

// TTL checks that ttl is positive; op names the operation ("put state").
func TTL(op string, ttl time.Duration) error {
	if ttl <= 0 {
		return fmt.Errorf("%s: ttl must be positive, got %s", op, ttl)
	}
	return nil
}

// NonEmpty checks that an id or key is not empty, without printing it
// (ids such as OAuth states are secrets).
func NonEmpty(op, what, v string) error {
	if v == "" {
		return fmt.Errorf("%s: empty %s", op, what)
	}
	return nil
}

// Lock checks the arguments of taking a lock (Locks.Acquire, Turns.Begin):
// a key, an owner and a positive ttl; op names the operation.
func Lock(op, key, owner string, ttl time.Duration) error {
	if err := NonEmpty(op, "key", key); err != nil {
		return err
	}
	if err := NonEmpty(op, "owner", owner); err != nil {
		return err
	}
	return TTL(op, ttl)
}

// Take checks the arguments of Budgets.Take: a finite positive rate, a
// positive burst, and 1 <= n <= burst (more than burst could never be
// granted).
func Take(l store.Limit, n int) error {
	switch {
	case math.IsNaN(l.Rate) || math.IsInf(l.Rate, 0) || l.Rate <= 0:
		return fmt.Errorf("take budget: rate must be a positive number, got %v", l.Rate)
	case l.Burst < 1:
		return fmt.Errorf("take budget: burst must be at least 1, got %d", l.Burst)
	case n < 1:
		return fmt.Errorf("take budget: n must be at least 1, got %d", n)
	case n > l.Burst:
		return fmt.Errorf("take budget: n (%d) exceeds burst (%d) and could never be granted", n, l.Burst)
	}
	return nil
}

// Lease checks that a lease names a key and an owner and has a fence. Such
// a lease can never be current, so the error wraps store.ErrStaleFence.
func Lease(op string, l store.Lease) error {
	if l.Key == "" || l.Owner == "" || l.Fence == 0 {
		return fmt.Errorf("%s: lease has no key, owner or fence: %w", op, store.ErrStaleFence)
	}
	return nil
}

// MaxReserveSpan bounds after and Burst/Rate in Budgets.Reserve. A
// bucket's theoretical arrival time then stays within twice that of now,
// so it fits bolt's unix-nanosecond expiries, a Redis PX and a Wait
// (beyond, bolt's expiry overflowed and forgot the bucket, granting again,
// and Redis refused the PX halfway through a script).
const MaxReserveSpan = 10 * 365 * 24 * time.Hour

// Reserve checks the arguments of Budgets.Reserve: every bucket named once
// with a valid limit (as Take with n = 1) whose Burst/Rate is at most
// MaxReserveSpan, and after neither negative nor over MaxReserveSpan.
func Reserve(buckets []store.Bucket, after time.Duration) error {
	if after < 0 || after > MaxReserveSpan {
		return fmt.Errorf("reserve budgets: after must be between 0 and %s, got %s", MaxReserveSpan, after)
	}
	seen := make(map[string]struct{}, len(buckets))
	for i, b := range buckets {
		if b.Key == "" {
			return fmt.Errorf("reserve budgets: bucket %d has an empty key", i)
		}
		if _, dup := seen[b.Key]; dup {
			return fmt.Errorf("reserve budgets: bucket %q listed twice", b.Key)
		}
		seen[b.Key] = struct{}{}
		if err := Take(b.Limit, 1); err != nil {
			return fmt.Errorf("reserve budgets: bucket %q: %w", b.Key, err)
		}
		if float64(b.Limit.Burst)/b.Limit.Rate > MaxReserveSpan.Seconds() {
			return fmt.Errorf("reserve budgets: bucket %q: burst/rate must be at most %s", b.Key, MaxReserveSpan)
		}
		if b.Grace < 0 || b.Grace.Seconds() > float64(b.Limit.Burst-1)/b.Limit.Rate {
			return fmt.Errorf("reserve budgets: bucket %q: grace must be between 0 and (burst-1)/rate", b.Key)
		}
	}
	return nil
}

// GCRA returns, for reservation bucket b, the emission interval (1/Rate)
// and the tolerance a grant must fit in (Burst/Rate less b.Grace), in
// microseconds, as Redis, bolt and memory all compute them. The grace is
// not rounded to whole microseconds: truncated, it would keep up to a
// microsecond less in hand than callers spend late.
func GCRA(b store.Bucket) (interval, tolerance float64) {
	interval = 1e6 / b.Limit.Rate
	tolerance = float64(b.Limit.Burst)*interval - Micros(b.Grace)
	return interval, tolerance
}

// Micros returns d in microseconds, with its fraction: a due moment `after`
// from now must not come up to a microsecond early, as truncating would.
func Micros(d time.Duration) float64 { return float64(d) / 1e3 }

// Expiring checks the arguments of a write with a TTL under a name (a
// state id, an event id, an owner): the name not empty, the ttl positive.
func Expiring(op, what, name string, ttl time.Duration) error {
	if err := NonEmpty(op, what, name); err != nil {
		return err
	}
	return TTL(op, ttl)
}

// CancelRequest checks the arguments of Cancels.Request: a valid reply
// id (CancelID) and a positive ttl.
func CancelRequest(op, id string, ttl time.Duration) error {
	if err := CancelID(op, id); err != nil {
		return err
	}
	return TTL(op, ttl)
}

// CancelID checks a reply id handed to store.Cancels: 1..MaxCancelIDLen
// bytes of [A-Za-z0-9._-]. It arrives in a platform button's payload, so
// anything else is refused before it names a key.
func CancelID(op, id string) error {
	if id == "" {
		return fmt.Errorf("%s: empty reply id", op)
	}
	if len(id) > store.MaxCancelIDLen {
		return fmt.Errorf("%s: reply id longer than %d bytes", op, store.MaxCancelIDLen)
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '.' || c == '_' || c == '-') {
			return fmt.Errorf("%s: reply id has a character outside [A-Za-z0-9._-] at byte %d", op, i)
		}
	}
	return nil
}

// MaxLease bounds want in Budgets.Lease and n in Budgets.Return: a batch
// of more tokens than this is a caller's bug, not a budget.
const MaxLease = 1 << 20

// LeaseArgs checks the arguments of Budgets.Lease (op "lease budget") and
// Budgets.Return (op "return budget"): a bucket Reserve would accept (a
// key, a valid limit of at most MaxReserveSpan, a valid grace), and a count
// between 1 and the burst.
func LeaseArgs(op string, b store.Bucket, n int) error {
	if b.Key == "" {
		return fmt.Errorf("%s: empty key", op)
	}
	if err := Reserve([]store.Bucket{b}, 0); err != nil {
		return fmt.Errorf("%s: %w", op, err)
	}
	if n < 1 || n > b.Limit.Burst || n > MaxLease {
		return fmt.Errorf("%s: count must be between 1 and the burst (%d), got %d", op, min(b.Limit.Burst, MaxLease), n)
	}
	return nil
}

// ReserveEach checks the arguments of Budgets.ReserveEach: every request
// as Reserve checks its own, naming the request at fault. It reports
// whether any request has buckets (a round trip is needed).
func ReserveEach(reqs []store.Reservation) (bool, error) {
	need := false
	for i, r := range reqs {
		if err := Reserve(r.Buckets, r.After); err != nil {
			return false, fmt.Errorf("request %d: %w", i, err)
		}
		if r.Within < 0 || r.Within > MaxReserveSpan-r.After {
			return false, fmt.Errorf("request %d: reserve budgets: within must be between 0 and %s less after, got %s", i, MaxReserveSpan, r.Within)
		}
		need = need || len(r.Buckets) > 0
	}
	return need, nil
}

// GrantAll returns the grants of reqs when no request has buckets:
// ReserveEach's answer without a round trip (each due at its After).
func GrantAll(reqs []store.Reservation) []store.Grant {
	gs := make([]store.Grant, len(reqs))
	for i := range gs {
		gs[i] = store.Grant{OK: true, At: reqs[i].After}
	}
	return gs
}
