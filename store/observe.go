package store

import "time"

// Observer is told of every round trip a store backend makes (a Redis
// command or pipeline, a bolt transaction): op names it ("get",
// "evalsha", "pipeline"; "view", "update"), took is its duration, err its
// failure (nil on success; a key that is simply missing is no failure).
// It is called on the caller's goroutine, synchronously, and must be
// cheap and safe for concurrent use: metrics, not logging.
type Observer func(op string, took time.Duration, err error)
