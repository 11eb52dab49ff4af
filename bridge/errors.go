package bridge

import "errors"

// ErrAlreadyRunning is returned (wrapped) by AddPlatform after Run has
// started, and by Run when called a second time.
var ErrAlreadyRunning = errors.New("bridge: already running")

// errQueueFull is returned by enqueue when the conversation's queue is at
// its bound.
var errQueueFull = errors.New("conversation queue full")

// errShuttingDown is returned by enqueue once Run is stopping.
var errShuttingDown = errors.New("bridge shutting down")
