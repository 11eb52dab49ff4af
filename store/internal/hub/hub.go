package hub

import (
	"context"
	"sync"
)

// Buffer is how many ids a watcher may fall behind before it is told it
// missed some (a "" on its channel).
const Buffer = 64

// Hub delivers published ids to every current watcher. The zero value is
// ready to use; it is safe for concurrent use.
type Hub struct {
	mu   sync.Mutex
	subs map[*watcher]struct{}
}

type watcher struct {
	ch     chan string
	missed bool // an id was dropped: "" goes out before the next one
}

// Watch returns a channel receiving every id published from now until ctx
// is done (then it is closed). It starts with "" (watching began: the
// caller checks what it already runs); "" later says ids were missed
// because the caller fell Buffer ids behind.
func (h *Hub) Watch(ctx context.Context) <-chan string {
	w := &watcher{ch: make(chan string, Buffer)}
	w.ch <- ""
	h.mu.Lock()
	if h.subs == nil {
		h.subs = map[*watcher]struct{}{}
	}
	h.subs[w] = struct{}{}
	h.mu.Unlock()
	go func() {
		<-ctx.Done()
		h.mu.Lock()
		delete(h.subs, w)
		close(w.ch)
		h.mu.Unlock()
	}()
	return w.ch
}

// Publish delivers id to every watcher without blocking.
func (h *Hub) Publish(id string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for w := range h.subs {
		if w.missed {
			select {
			case w.ch <- "":
				w.missed = false
			default:
				continue
			}
		}
		select {
		case w.ch <- id:
		default:
			w.missed = true
		}
	}
}
