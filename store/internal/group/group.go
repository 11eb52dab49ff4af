package group

import "sync"

// Group batches calls of type T for one sender.
//
// Add queues a call. When no batch is under way, the calling goroutine
// becomes the leader: it takes every call queued so far (its own among
// them) and passes them to Send; when Send returns and more calls have
// come meanwhile, a new goroutine leads the next batch, so that no caller
// keeps sending for others. One Send runs at a time, and every call added
// is passed to Send exactly once.
//
// Group does not tell a caller that its call was handled: T carries its
// own way back (a channel closed by Send, say). The zero Group is not
// usable; set Send.
type Group[T any] struct {
	// Send handles one batch, in the order the calls were added.
	Send func(batch []T)
	// OwnStack, when set, has every batch sent by a goroutine of its own,
	// the first too: a caller's stack then never holds Send's frames
	// (bbolt's commit runs deep: a conversation's worker leading one
	// would outgrow its 8 KiB stack), for one goroutine started per batch.
	OwnStack bool

	mu      sync.Mutex
	pending []T
	running bool // a goroutine is sending (it picks pending up)
}

// Add queues c and, when no batch is under way, sends the calls queued
// (c among them) before it returns (with OwnStack, has them sent).
func (g *Group[T]) Add(c T) {
	g.mu.Lock()
	g.pending = append(g.pending, c)
	lead := !g.running
	g.running = true
	g.mu.Unlock()
	switch {
	case lead && g.OwnStack:
		go g.lead()
	case lead:
		g.lead()
	}
}

// Pending is how many calls wait for the next batch.
func (g *Group[T]) Pending() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return len(g.pending)
}

// lead sends the calls pending now, then hands on.
func (g *Group[T]) lead() {
	g.mu.Lock()
	batch := g.pending
	g.pending = nil
	g.mu.Unlock()
	g.Send(batch)
	g.mu.Lock()
	defer g.mu.Unlock()
	if len(g.pending) == 0 {
		g.running = false
		return
	}
	go g.lead()
}
