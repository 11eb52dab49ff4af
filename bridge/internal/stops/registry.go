package stops

import (
	"context"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
)

// ErrStopped is the cause of a reply's stream context when its owner
// stopped it.
var ErrStopped = errors.New("stopped by the person who asked")

// Running is a reply streaming in this process, as stops find it.
type Running struct {
	StopID string // its Stop button's id ("" when it has none)
	ConvID string // its conversation's stop id (ConvID)
	Cancel context.CancelCauseFunc
}

// Registry is the replies streaming in this process, by stop id and by
// conversation stop id. The zero value is ready; it is safe for
// concurrent use.
type Registry struct {
	mu       sync.Mutex
	byStop   map[string]*Running
	byConv   map[string]*Running
	watching atomic.Bool // Watch holds a live subscription
}

// Watching reports whether Watch holds a live subscription of the store's
// stop announcements (a stop made elsewhere reaches this process at once).
func (s *Registry) Watching() bool { return s.watching.Load() }

// Add registers r until the returned function is called.
func (s *Registry) Add(r *Running) (remove func()) {
	s.mu.Lock()
	if s.byStop == nil {
		s.byStop, s.byConv = map[string]*Running{}, map[string]*Running{}
	}
	if r.StopID != "" {
		s.byStop[r.StopID] = r
	}
	s.byConv[r.ConvID] = r
	s.mu.Unlock()
	return func() {
		s.mu.Lock()
		if s.byStop[r.StopID] == r {
			delete(s.byStop, r.StopID)
		}
		if s.byConv[r.ConvID] == r {
			delete(s.byConv, r.ConvID)
		}
		s.mu.Unlock()
	}
}

// Stop cancels the running reply named by id (a stop id, or a
// conversation stop id with or without its unique suffix) with ErrStopped
// and reports whether one runs here.
func (s *Registry) Stop(id string) bool {
	s.mu.Lock()
	r := s.byStop[id]
	if r == nil && strings.HasPrefix(id, convPrefix) {
		r = s.byConv[id[:min(len(id), len(convPrefix)+convHashLen)]]
	}
	s.mu.Unlock()
	if r == nil {
		return false
	}
	r.Cancel(ErrStopped)
	return true
}

// IDs returns the stop ids of the replies running now.
func (s *Registry) IDs() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]string, 0, len(s.byStop))
	for id := range s.byStop {
		out = append(out, id)
	}
	return out
}
