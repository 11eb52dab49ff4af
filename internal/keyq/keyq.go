package keyq

import (
	"context"
	"errors"
	"fmt"
	"sync"
)

// Sentinel errors of Submit and TrySubmit.
var (
	// ErrFull is returned by TrySubmit when the queue holds its bound of
	// unfinished functions.
	ErrFull = errors.New("keyq: queue full")
	// ErrClosed is returned after Close.
	ErrClosed = errors.New("keyq: queue closed")
)

// Queue runs functions one at a time per key. Its methods are safe for
// concurrent use. Functions submitted by one goroutine under one key run in
// the order submitted. A function must not submit to its own queue with
// Submit (at the bound it would wait for itself) and should not panic (as
// in any goroutine, a panic ends the process).
type Queue struct {
	mu      sync.Mutex
	queues  map[string][]func() // keys with a running goroutine
	pending int                 // functions submitted and not finished
	limit   int
	closed  bool
	room    chan struct{} // closed (and replaced) when a slot frees or on Close
	wg      sync.WaitGroup
}

// New returns a queue that holds at most limit unfinished functions
// (limit < 1 counts as 1).
func New(limit int) *Queue {
	return &Queue{queues: map[string][]func(){}, limit: max(limit, 1), room: make(chan struct{})}
}

// Submit queues fn under key, waiting while the queue is full. It returns
// nil once fn is queued, ErrClosed after Close, or ctx's error (wrapped)
// when ctx ends first; fn is then not queued.
func (q *Queue) Submit(ctx context.Context, key string, fn func()) error {
	for {
		q.mu.Lock()
		err := q.tryLocked(key, fn)
		room := q.room
		q.mu.Unlock()
		if !errors.Is(err, ErrFull) {
			return err
		}
		select {
		case <-room:
		case <-ctx.Done():
			return fmt.Errorf("submit to keyed queue: %w", ctx.Err())
		}
	}
}

// TrySubmit queues fn under key without waiting: ErrFull when the queue is
// full, ErrClosed after Close.
func (q *Queue) TrySubmit(key string, fn func()) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.tryLocked(key, fn)
}

func (q *Queue) tryLocked(key string, fn func()) error {
	switch {
	case q.closed:
		return ErrClosed
	case q.pending >= q.limit:
		return ErrFull
	}
	q.pending++
	q.wg.Add(1)
	fs, running := q.queues[key]
	q.queues[key] = append(fs, fn)
	if !running {
		go q.drain(key)
	}
	return nil
}

// drain runs key's functions until its queue is empty.
func (q *Queue) drain(key string) {
	for {
		q.mu.Lock()
		fs := q.queues[key]
		if len(fs) == 0 {
			delete(q.queues, key)
			q.mu.Unlock()
			return
		}
		fn := fs[0]
		fs[0] = nil
		q.queues[key] = fs[1:]
		q.mu.Unlock()

		fn()

		q.mu.Lock()
		if q.pending == q.limit {
			q.wakeLocked()
		}
		q.pending--
		q.mu.Unlock()
		q.wg.Done()
	}
}

// wakeLocked wakes every waiting Submit.
func (q *Queue) wakeLocked() {
	close(q.room)
	q.room = make(chan struct{})
}

// Close refuses new functions, makes waiting Submit calls return
// ErrClosed, and blocks until every queued function has finished. It may
// be called more than once.
func (q *Queue) Close() {
	q.mu.Lock()
	if !q.closed {
		q.closed = true
		q.wakeLocked()
	}
	q.mu.Unlock()
	q.wg.Wait()
}

// Len returns how many functions are queued or running.
func (q *Queue) Len() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.pending
}
