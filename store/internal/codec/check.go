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
