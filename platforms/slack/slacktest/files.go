package slacktest

import (
	"net/http"
	"strings"
)

// File is a file attached to a message event ("files" of a file_share
// message or an app_mention), as Slack describes it.
type File struct {
	ID         string `json:"id"`
	Name       string `json:"name"`
	Mimetype   string `json:"mimetype,omitempty"`
	Filetype   string `json:"filetype,omitempty"`
	Size       int    `json:"size"`
	URLPrivate string `json:"url_private"`
}

type storedFile struct {
	body []byte
	team string
}

// AddFile stores body as a private file of the default workspace and
// returns it, with a url_private on the fake. Like Slack, downloading it
// needs "Authorization: Bearer <bot token>"; Slack's files.slack.com URL
// first redirects (here: /files-pri/… → /files-dl/…, same host).
func (s *Server) AddFile(name, mimetype string, body []byte) File {
	id := s.nextID("F")
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.files == nil {
		s.files = map[string]storedFile{}
	}
	s.files[id+"/"+name] = storedFile{body: append([]byte(nil), body...), team: s.opts.TeamID}
	return File{ID: id, Name: name, Mimetype: mimetype, Size: len(body), URLPrivate: s.srv.URL + "/files-pri/" + id + "/" + name}
}

// FileHost is the host:port of url_private URLs (for the adapter's file
// host list in tests).
func (s *Server) FileHost() string { return strings.TrimPrefix(s.srv.URL, "http://") }

// FileDownloads returns how many file downloads the fake answered (refused
// ones included).
func (s *Server) FileDownloads() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.fileHits
}

func (s *Server) handleFilePri(w http.ResponseWriter, r *http.Request) {
	http.Redirect(w, r, "/files-dl/"+strings.TrimPrefix(r.URL.Path, "/files-pri/"), http.StatusFound)
}

func (s *Server) handleFileDL(w http.ResponseWriter, r *http.Request) {
	key := strings.TrimPrefix(r.URL.Path, "/files-dl/")
	s.mu.Lock()
	s.fileHits++
	f, ok := s.files[key]
	s.mu.Unlock()
	if r.Header.Get("Authorization") != "Bearer "+s.opts.BotToken {
		// Slack answers an unauthenticated file request with its login
		// page, not the file.
		w.Header().Set("Content-Type", "text/html")
		_, _ = w.Write([]byte("<html>sign in</html>"))
		return
	}
	if !ok {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Type", "application/octet-stream")
	_, _ = w.Write(f.body)
}
