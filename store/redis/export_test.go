package redis

import (
	"context"

	goredis "github.com/redis/go-redis/v9"

	"github.com/secondme-bridge/secondme-bridge/store"
)

// AddHook adds h to the store's client, to observe its commands.
func AddHook(s *Store, h goredis.Hook) { s.c.AddHook(h) }

// SplitTurnsStore is s with the Cluster fallbacks of Turns (splitTurns)
// and Budgets (splitBudgets)
// forced, so the conformance suite can check it on a single server.
type SplitTurnsStore struct{ *Store }

// Turns returns splitTurns whatever the client.
func (s SplitTurnsStore) Turns() store.Turns { return splitTurns{s.Store} }

// Budgets returns splitBudgets whatever the client.
func (s SplitTurnsStore) Budgets() store.Budgets { return splitBudgets{s.Store} }

// SplitPath reports whether s uses the Cluster fallbacks (the prefix has
// no hash tag on a Cluster client).
func SplitPath(s *Store) bool { return !s.oneSlot() }

// Client returns the store's go-redis client.
func Client(s *Store) goredis.UniversalClient { return s.c }

// Failure is failure: err as the Observer is told it.
var Failure = failure

// PipePending is how many calls wait for the store's next pipeline
// (group.go).
func PipePending(s *Store) int { return s.pipe.calls.Pending() }

// GroupScript runs sc through the store's group pipeline.
func GroupScript(ctx context.Context, s *Store, sc *goredis.Script, keys []string, args ...any) *goredis.Cmd {
	return s.pipe.script(ctx, sc, keys, args...)
}
