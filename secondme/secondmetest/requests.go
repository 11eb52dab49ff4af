package secondmetest

import (
	"net/http"
	"net/url"
	"slices"
)

// Request is one request received by the fake, recorded before handling.
type Request struct {
	Method  string
	Path    string // relative to BasePath (e.g. PathUserInfo); root paths as is
	URLPath string // the full path as received
	Query   url.Values
	Header  http.Header // complete, Authorization included
	Body    []byte
	Form    url.Values     // parsed body of form posts
	JSON    map[string]any // parsed body of JSON object posts
	UserID  string         // owner of a currently valid Bearer token, if any
}

// Requests returns every request received so far, in arrival order.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.requests)
}

// RequestsTo returns the requests whose Path equals path.
func (s *Server) RequestsTo(path string) []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Request
	for _, r := range s.requests {
		if r.Path == path {
			out = append(out, r)
		}
	}
	return out
}
