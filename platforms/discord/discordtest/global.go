package discordtest

import (
	"net/http"
	"strconv"
	"strings"
	"time"
)

// globalLimit is Discord's bot-wide limit on REST calls (WithGlobalLimit):
// n per window (WithRateLimitWindow, default 1 s), fixed windows.
// Interaction callbacks and webhook calls through an interaction token are
// exempt, as on Discord.
type globalLimit struct {
	n      int
	window window
	// atEdge counts the calls stamped by an edge (WithEdgeHeader) per
	// window aligned to the clock (the edge moment divided by the window).
	atEdge map[int64]int
	hits   int // 429s answered for it
}

// WithEdgeHeader names a request header in which a proxy standing in
// front of the fake as Discord's edge gives the moment a call reached it,
// in Unix nanoseconds. The global limit then counts each call in the
// fixed window its edge moment falls in (windows aligned to the clock,
// WithRateLimitWindow long), as Discord counts calls where they arrive,
// whatever order the proxy hands them over in and however late the
// fake's handler gets to them; a call without the header, or with a
// malformed one, is counted when the handler runs. Call.Edge records the
// moment. Empty (the default): no such header.
func WithEdgeHeader(name string) Option { return func(s *Server) { s.edgeHeader = name } }

// edgeAt is when r reached Discord's edge: the edge header's moment
// (WithEdgeHeader) if it has a well-formed one, else zero.
func (s *Server) edgeAt(r *http.Request) time.Time {
	if s.edgeHeader == "" {
		return time.Time{}
	}
	ns, err := strconv.ParseInt(r.Header.Get(s.edgeHeader), 10, 64)
	if err != nil || ns <= 0 {
		return time.Time{}
	}
	return time.Unix(0, ns)
}

// WithGlobalLimit enforces a global limit of n REST calls per window
// (default 1 s; Discord's is 50 per second): calls over it get a 429 with
// "global": true and X-RateLimit-Global. n <= 0 disables it.
func WithGlobalLimit(n int) Option { return func(s *Server) { s.setGlobalLocked(n) } }

// SetGlobalLimit changes the global limit (see WithGlobalLimit) while the
// server runs; n <= 0 disables it. Its 429 count starts again.
func (s *Server) SetGlobalLimit(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.setGlobalLocked(n)
}

func (s *Server) setGlobalLocked(n int) {
	s.global = nil
	if n > 0 {
		s.global = &globalLimit{n: n}
	}
}

// GlobalLimited returns how many calls the global limit refused since it
// was last set.
func (s *Server) GlobalLimited() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.global == nil {
		return 0
	}
	return s.global.hits
}

// GlobalExempt reports whether a call to path (relative to the API base)
// is outside the global limit: an interaction callback or a webhook call
// (interaction follow-ups and edits).
func GlobalExempt(path string) bool {
	return strings.HasPrefix(path, "/interactions/") || strings.HasPrefix(path, "/webhooks/")
}

// overGlobalLocked counts call c (to path) against the global limit and
// reports whether it is refused, with the rest of its window.
func (s *Server) overGlobalLocked(path string, c Call) (time.Duration, bool) {
	g := s.global
	if g == nil || GlobalExempt(path) {
		return 0, false
	}
	if !c.Edge.IsZero() {
		return g.overAtEdge(c.Edge, s.window)
	}
	now := c.At
	// A window starts with the first call after the last one ended.
	if now.Sub(g.window.start) >= s.window {
		g.window = window{start: now}
	}
	g.window.count++
	if g.window.count <= g.n {
		return 0, false
	}
	g.hits++
	return max(g.window.start.Add(s.window).Sub(now), time.Millisecond), true
}

// overAtEdge counts a call that reached the edge at `at` in its aligned
// window of length w and reports whether it is refused, with the rest of
// the window. Windows more than 16 behind it are forgotten.
func (g *globalLimit) overAtEdge(at time.Time, w time.Duration) (time.Duration, bool) {
	k := at.UnixNano() / int64(w)
	if g.atEdge == nil {
		g.atEdge = map[int64]int{}
	}
	for old := range g.atEdge {
		if old < k-16 {
			delete(g.atEdge, old)
		}
	}
	g.atEdge[k]++
	if g.atEdge[k] <= g.n {
		return 0, false
	}
	g.hits++
	return max(time.Unix(0, (k+1)*int64(w)).Sub(at), time.Millisecond), true
}

// writeGlobal429 answers a call refused by the global limit.
func writeGlobal429(w http.ResponseWriter, retryAfter time.Duration) {
	secs := retryAfter.Seconds()
	h := w.Header()
	h.Set("X-RateLimit-Global", "true")
	h.Set("X-RateLimit-Scope", "global")
	h.Set("Retry-After", "1")
	writeJSON(w, http.StatusTooManyRequests, map[string]any{"message": "You are being rate limited.", "retry_after": secs, "global": true})
}
