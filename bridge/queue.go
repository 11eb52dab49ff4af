package bridge

import (
	"context"
	"slices"
	"sync"
	"time"

	"github.com/secondme-bridge/secondme-bridge/bridge/internal/keys"
	"github.com/secondme-bridge/secondme-bridge/bridge/internal/lease"
	"github.com/secondme-bridge/secondme-bridge/bridge/text"
	"github.com/secondme-bridge/secondme-bridge/platforms"
	"github.com/secondme-bridge/secondme-bridge/store"
)

// itemKind says what a queued item does.
type itemKind int

const (
	itemChat itemKind = iota // ask the avatar and stream the reply
	itemNew                  // forget the session (/new)
)

// workItem is one queued piece of work of a conversation.
type workItem struct {
	kind     itemKind
	p        platforms.Platform
	ev       platforms.Event
	key      store.ConversationKey
	target   platforms.Target
	text     string // the message to the avatar
	lang     text.Lang
	received time.Time
	// entryID is the item's inbox entry (and in-flight reply) id; durable
	// is set once the entry is in the store, adopted when it was taken
	// over from a stopped process.
	entryID string
	durable bool
	adopted bool
}

// queues are the conversations' queues of this process.
type queues struct {
	mu      sync.Mutex
	byKey   map[string]*convQueue // by keys.Conv
	closing bool                  // shutdown began: no new work
}

// convQueue is the ordered queue of one conversation. Its fields are
// guarded by queues.mu, except wake.
type convQueue struct {
	key     store.ConversationKey
	ks      string
	items   []*workItem
	running bool
	wake    chan struct{} // capacity 1: "items were added or shutdown began"
}

func (q *convQueue) signal() {
	select {
	case q.wake <- struct{}{}:
	default:
	}
}

// enqueue appends it to its conversation's queue, starting the
// conversation's worker if none runs. It never blocks. Errors:
// errQueueFull when QueueSize items already wait, errShuttingDown once Run
// is stopping.
func (b *Bridge) enqueue(it *workItem) error {
	ks := keys.Conv(it.key)
	b.q.mu.Lock()
	defer b.q.mu.Unlock()
	if b.q.closing {
		return errShuttingDown
	}
	q := b.q.byKey[ks]
	if q == nil {
		q = &convQueue{key: it.key, ks: ks, wake: make(chan struct{}, 1)}
		b.q.byKey[ks] = q
	}
	if len(q.items) >= b.tunables().QueueSize && !it.adopted {
		return errQueueFull
	}
	if it.adopted {
		// Admitted before anything this process admitted: it goes before
		// the newer items, after the adopted ones already queued.
		i := 0
		for i < len(q.items) && q.items[i].adopted {
			i++
		}
		q.items = slices.Insert(q.items, i, it)
	} else {
		q.items = append(q.items, it)
	}
	b.met.QueueDepth.Inc()
	if !q.running {
		q.running = true
		b.workers.Add(1)
		go b.drain(q)
	} else {
		q.signal()
	}
	return nil
}

// hasQueue reports whether the conversation has work queued or running in
// this process.
func (b *Bridge) hasQueue(k store.ConversationKey) bool {
	b.q.mu.Lock()
	defer b.q.mu.Unlock()
	_, ok := b.q.byKey[keys.Conv(k)]
	return ok
}

// next takes the queue's next item. It returns nil when the queue is empty,
// and also when shutdown has begun, after answering every waiting item that
// is not in the store's inbox with the restart notice (those in the inbox
// are answered by the next process).
func (b *Bridge) next(q *convQueue) *workItem {
	b.q.mu.Lock()
	if b.q.closing && len(q.items) > 0 {
		dropped := q.items
		q.items = nil
		b.met.QueueDepth.Sub(float64(len(dropped)))
		b.q.mu.Unlock()
		for _, it := range dropped {
			if !it.durable {
				b.tellRestart(it)
			}
		}
		return nil
	}
	defer b.q.mu.Unlock()
	if len(q.items) == 0 {
		return nil
	}
	it := q.items[0]
	q.items[0] = nil
	q.items = q.items[1:]
	b.met.QueueDepth.Dec()
	return it
}

func (b *Bridge) isClosing() bool {
	b.q.mu.Lock()
	defer b.q.mu.Unlock()
	return b.q.closing
}

// retire removes q if it is still empty; otherwise it reports false and the
// worker goes on.
func (b *Bridge) retire(q *convQueue) bool {
	b.q.mu.Lock()
	defer b.q.mu.Unlock()
	if len(q.items) > 0 && !b.q.closing {
		return false
	}
	q.running = false
	delete(b.q.byKey, q.ks)
	return true
}

// drain is the conversation's worker goroutine: it runs the items in order,
// holding the conversation's lease while there is work, and exits after
// queueIdle without work (or at shutdown).
func (b *Bridge) drain(q *convQueue) {
	defer b.workers.Done()
	c := lease.New(b.leaseDeps(), q.key, q.ks)
	defer c.Release()
	idle := time.NewTimer(b.tim.queueIdle)
	defer idle.Stop()
	for {
		if it := b.next(q); it != nil {
			b.run(c, it)
			continue
		}
		// Nothing to do: let other replicas have the conversation.
		c.Release()
		if b.isClosing() && b.retire(q) {
			return
		}
		if !idle.Stop() {
			select {
			case <-idle.C:
			default:
			}
		}
		idle.Reset(b.tim.queueIdle)
		select {
		case <-q.wake:
			continue
		case <-idle.C:
		case <-b.work.Done():
		}
		if b.retire(q) {
			// Items that raced in after shutdown began are answered by
			// next; nothing is left behind.
			return
		}
	}
}

// run executes one item on the conversation c.
func (b *Bridge) run(c *lease.Conv, it *workItem) {
	ctx := b.work
	switch it.kind {
	case itemNew:
		b.runNew(ctx, c, it)
	default:
		b.runChat(ctx, c, it)
	}
}

// tellRestart answers an item dropped at shutdown.
func (b *Bridge) tellRestart(it *workItem) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(b.work), 5*time.Second)
	defer cancel()
	b.out.Reply(ctx, it.p, it.target, text.T(it.lang, text.MsgRestarted))
}
