package redis

import (
	goredis "github.com/redis/go-redis/v9"

	"github.com/secondme-bridge/secondme-bridge/store"
)

// AddHook adds h to the store's client, to observe its commands.
func AddHook(s *Store, h goredis.Hook) { s.c.AddHook(h) }

// SplitTurnsStore is s with the Cluster fallback of Turns (splitTurns)
// forced, so the conformance suite can check it on a single server.
type SplitTurnsStore struct{ *Store }

// Turns returns splitTurns whatever the client.
func (s SplitTurnsStore) Turns() store.Turns { return splitTurns{s.Store} }
