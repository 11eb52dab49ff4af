package discordtest

import (
	"net/http"
	"strings"
)

// AddFile serves body at a CDN-like URL on the fake (as Discord serves
// attachments from cdn.discordapp.com) and returns the URL. Requests to it
// are recorded in CDNHits.
func (s *Server) AddFile(name string, body []byte) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.files == nil {
		s.files = map[string][]byte{}
	}
	path := "/attachments/" + s.newIDLocked() + "/" + name
	s.files[path] = append([]byte(nil), body...)
	return s.srv.URL + path
}

// CDNHost is the host:port of the fake's file URLs (for the adapter's
// attachment host list in tests).
func (s *Server) CDNHost() string { return strings.TrimPrefix(s.srv.URL, "http://") }

// CDNHits returns how many file downloads the fake served or refused.
func (s *Server) CDNHits() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.cdnHits
}

func (s *Server) serveFile(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	s.cdnHits++
	body, ok := s.files[r.URL.Path]
	s.mu.Unlock()
	if !ok || r.Method != http.MethodGet {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Type", "application/octet-stream")
	_, _ = w.Write(body)
}
