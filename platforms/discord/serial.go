package discord

import "sync"

// serial runs functions one at a time per key, in submission order, each
// key on its own goroutine that exits when the key's queue is empty. The
// adapter keys gateway messages by channel so that two messages in a row
// reach the bridge in order without blocking the gateway reader.
type serial struct {
	mu     sync.Mutex
	queues map[string][]func()
	wg     sync.WaitGroup
}

// do queues f under key.
func (q *serial) do(key string, f func()) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.queues == nil {
		q.queues = make(map[string][]func())
	}
	pending, running := q.queues[key]
	q.queues[key] = append(pending, f)
	if !running {
		q.wg.Add(1)
		go q.drain(key)
	}
}

func (q *serial) drain(key string) {
	defer q.wg.Done()
	for {
		q.mu.Lock()
		fs := q.queues[key]
		if len(fs) == 0 {
			delete(q.queues, key)
			q.mu.Unlock()
			return
		}
		f := fs[0]
		fs[0] = nil
		q.queues[key] = fs[1:]
		q.mu.Unlock()
		f()
	}
}

// wait blocks until every queued function has run.
func (q *serial) wait() { q.wg.Wait() }
