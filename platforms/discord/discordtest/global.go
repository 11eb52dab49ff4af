package discordtest

import (
	"net/http"
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
	hits   int // 429s answered for it
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

// overGlobalLocked counts a call against the global limit and reports
// whether it is refused, with the rest of the window.
func (s *Server) overGlobalLocked(path string, now time.Time) (time.Duration, bool) {
	g := s.global
	if g == nil || GlobalExempt(path) {
		return 0, false
	}
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

// writeGlobal429 answers a call refused by the global limit.
func writeGlobal429(w http.ResponseWriter, retryAfter time.Duration) {
	secs := retryAfter.Seconds()
	h := w.Header()
	h.Set("X-RateLimit-Global", "true")
	h.Set("X-RateLimit-Scope", "global")
	h.Set("Retry-After", "1")
	writeJSON(w, http.StatusTooManyRequests, map[string]any{"message": "You are being rate limited.", "retry_after": secs, "global": true})
}
