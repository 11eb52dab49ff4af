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

// Reserve checks the arguments of Budgets.Reserve: every bucket named once
// with a valid limit (as Take with n = 1), and after not negative.
func Reserve(buckets []store.Bucket, after time.Duration) error {
	if after < 0 {
		return fmt.Errorf("reserve budgets: after must not be negative, got %s", after)
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
	}
	return nil
}

// GCRA returns, for a reservation bucket under l, the emission interval
// (1/Rate) and the tolerance a grant must fit in (Burst/Rate less the
// spend grace), in microseconds, as Redis and bolt both compute them.
func GCRA(l store.Limit) (interval, tolerance float64) {
	interval = 1e6 / l.Rate
	tolerance = float64(l.Burst)*interval - float64(store.SpendGrace(l).Microseconds())
	return interval, tolerance
}
