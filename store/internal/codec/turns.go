package codec

import (
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/secondme-bridge/secondme-bridge/store"
)

// Admit checks the arguments of Turns.Admit and returns ids without
// repeats, in their first order (an id listed twice is one claim, not a
// duplicate of itself). An empty list is allowed: nothing to claim.
func Admit(ids []string, claimTTL time.Duration, rate store.Limit) ([]string, error) {
	if err := TTL("admit turn", claimTTL); err != nil {
		return nil, err
	}
	if err := Take(rate, 1); err != nil {
		return nil, fmt.Errorf("admit turn: %w", err)
	}
	out := make([]string, 0, len(ids))
	for _, id := range ids {
		if err := NonEmpty("admit turn", "id", id); err != nil {
			return nil, err
		}
		if !slices.Contains(out, id) {
			out = append(out, id)
		}
	}
	return out, nil
}

// Begin checks the arguments of Turns.Begin (as Lock).
func Begin(key, owner string, ttl time.Duration) error {
	return Lock("begin turn", key, owner, ttl)
}

// Finish checks the arguments of Turns.Finish: a lease that can be
// current and, when c is given, a positive ttl.
func Finish(l store.Lease, c *store.Conversation, ttl time.Duration) error {
	if err := Lease("finish turn", l); err != nil {
		return err
	}
	if c != nil {
		return TTL("finish turn", ttl)
	}
	return nil
}

// BeginLink turns the error of reading a turn's link into Turns.Begin's
// HasLink: an absent or unreadable link (store.ErrNotFound) is no link;
// any other error stands. (A link read with an error is zero.)
func BeginLink(err error) (bool, error) {
	switch {
	case errors.Is(err, store.ErrNotFound):
		return false, nil
	case err != nil:
		return false, err
	}
	return true, nil
}
