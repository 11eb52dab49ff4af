package slack

import "sync"

// maxPendingEvents bounds the events accepted but not yet handed to the
// handler. Beyond it the adapter stops acknowledging, so Slack redelivers
// later instead of the adapter dropping acknowledged work.
const maxPendingEvents = 1024

// dispatcher runs work in order per key (one user in one workspace), each key
// on its own short-lived goroutine, so a slow users.info lookup for one user
// never delays another user's events and one user's messages keep their
// order.
type dispatcher struct {
	mu      sync.Mutex
	queues  map[string][]func()
	pending int
	max     int
	closed  bool
	wg      sync.WaitGroup
}

func newDispatcher(limit int) *dispatcher {
	return &dispatcher{queues: map[string][]func(){}, max: limit}
}

// reserve takes a slot for one piece of work; it reports false when the
// dispatcher is full or closed. A successful reserve must be followed by run.
func (d *dispatcher) reserve() bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.closed || d.pending >= d.max {
		return false
	}
	d.pending++
	d.wg.Add(1)
	return true
}

// run queues fn under key, using a slot taken by reserve.
func (d *dispatcher) run(key string, fn func()) {
	d.mu.Lock()
	defer d.mu.Unlock()
	q, draining := d.queues[key]
	d.queues[key] = append(q, fn)
	if !draining {
		go d.drain(key)
	}
}

func (d *dispatcher) drain(key string) {
	for {
		d.mu.Lock()
		q := d.queues[key]
		if len(q) == 0 {
			delete(d.queues, key)
			d.mu.Unlock()
			return
		}
		fn := q[0]
		d.queues[key] = q[1:]
		d.mu.Unlock()

		fn()

		d.mu.Lock()
		d.pending--
		d.mu.Unlock()
		d.wg.Done()
	}
}

// close refuses new work and waits for the queued work to finish.
func (d *dispatcher) close() {
	d.mu.Lock()
	d.closed = true
	d.mu.Unlock()
	d.wg.Wait()
}
