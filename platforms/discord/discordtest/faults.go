package discordtest

import (
	"fmt"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// fault is a one-shot failure injected with FailNext.
type fault struct {
	method, pattern string
	status, left    int
}

// limit is a per-route fixed-window rate limit set with RateLimit.
type limit struct {
	method, pattern string
	n               int
	windows         map[string]*window // per concrete route
}

type window struct {
	start time.Time
	count int
}

// FailRetryAfter is the retry_after of a 429 injected with FailNext.
const FailRetryAfter = 200 * time.Millisecond

// RateLimit allows n requests per window (WithRateLimitWindow, default 1 s)
// on each concrete route matching route, "METHOD /path/{var}/…" relative to
// the API base (e.g. "PATCH /channels/{id}/messages/{mid}"; a method of "*"
// matches any). Requests over the limit get a 429 with a JSON retry_after
// (the rest of the window) and X-RateLimit headers; success responses carry
// no rate-limit headers, so discordgo does not throttle ahead of the 429.
func (s *Server) RateLimit(route string, n int) {
	method, pattern, _ := strings.Cut(route, " ")
	s.mu.Lock()
	defer s.mu.Unlock()
	s.limits = append(s.limits, &limit{method: method, pattern: pattern, n: n, windows: make(map[string]*window)})
}

// FailNext makes the next n requests matching method and pathPattern (see
// RateLimit; method "*" matches any) fail with status. A 429 carries
// retry_after FailRetryAfter; other statuses a Discord JSON error.
func (s *Server) FailNext(method, pathPattern string, status, n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = append(s.faults, &fault{method: method, pattern: pathPattern, status: status, left: n})
}

// ClearFaults removes every RateLimit and FailNext.
func (s *Server) ClearFaults() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults, s.limits = nil, nil
}

// matchRoute reports whether method and path match a pattern.
func matchRoute(wantMethod, pattern, method, path string) bool {
	if wantMethod != "*" && wantMethod != "" && !strings.EqualFold(wantMethod, method) {
		return false
	}
	ps := strings.Split(strings.Trim(pattern, "/"), "/")
	xs := strings.Split(strings.Trim(path, "/"), "/")
	if len(ps) != len(xs) {
		return false
	}
	for i, p := range ps {
		if strings.HasPrefix(p, "{") && strings.HasSuffix(p, "}") {
			continue
		}
		if p != xs[i] {
			return false
		}
	}
	return true
}

// injectedLocked returns the failure to answer with, if any: status and
// retry-after (for 429s).
func (s *Server) injectedLocked(method, path string, now time.Time) (int, time.Duration, bool) {
	for _, f := range s.faults {
		if f.left > 0 && matchRoute(f.method, f.pattern, method, path) {
			f.left--
			return f.status, FailRetryAfter, true
		}
	}
	for _, l := range s.limits {
		if !matchRoute(l.method, l.pattern, method, path) {
			continue
		}
		key := method + " " + path
		w := l.windows[key]
		if w == nil || now.Sub(w.start) >= s.window {
			w = &window{start: now}
			l.windows[key] = w
		}
		w.count++
		if w.count > l.n {
			return http.StatusTooManyRequests, max(w.start.Add(s.window).Sub(now), time.Millisecond), true
		}
	}
	return 0, 0, false
}

// writeFault answers an injected failure.
func writeFault(w http.ResponseWriter, status int, retryAfter time.Duration, route string) {
	if status != http.StatusTooManyRequests {
		writeError(w, status, 0, fmt.Sprintf("fake failure (%d)", status))
		return
	}
	secs := retryAfter.Seconds()
	h := w.Header()
	h.Set("Retry-After", strconv.Itoa(int(math.Ceil(secs))))
	h.Set("X-RateLimit-Limit", "5")
	h.Set("X-RateLimit-Remaining", "0")
	h.Set("X-RateLimit-Reset-After", strconv.FormatFloat(secs, 'f', 3, 64))
	h.Set("X-RateLimit-Bucket", fmt.Sprintf("fake-%x", len(route)))
	h.Set("X-RateLimit-Scope", "user")
	writeJSON(w, status, map[string]any{"message": "You are being rate limited.", "retry_after": secs, "global": false})
}
