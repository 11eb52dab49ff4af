package secondmetest

import (
	"bytes"
	"cmp"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/secondme-bridge/secondme-bridge/secondme"
)

// Paths served by the fake, relative to the base path (PathAuthorize is
// relative to the server root).
const (
	PathAuthorize       = "/oauth/"
	PathTokenCode       = "/api/oauth/token/code"
	PathTokenRefresh    = "/api/oauth/token/refresh"
	PathUserInfo        = "/api/secondme/user/info"
	PathUserShades      = "/api/secondme/user/shades"
	PathKeyMemorySearch = "/api/secondme/memory/key/search"
	PathSoftMemory      = "/api/secondme/user/softmemory"
	PathNoteAdd         = "/api/secondme/note/add"
	PathKeyMemory       = "/api/secondme/memory/key"
	PathChatStream      = "/api/secondme/chat/stream"
	PathSessionList     = "/api/secondme/chat/session/list"
	PathSessionMessages = "/api/secondme/chat/session/messages"
	PathAuthMe          = "/api/auth/me"
)

// Defaults of Options.
const (
	DefaultClientID     = "test-client-id"
	DefaultClientSecret = "test-client-secret"
	// DefaultUserID is the user created on demand when an authorization or
	// IssueToken names no (or an unknown) user.
	DefaultUserID = "10001"
)

// DefaultScopes are granted to users added without scopes.
var DefaultScopes = []string{"userinfo", "memory.read", "chat.read", "chat.write", "note.write"}

// Options configures NewServer. The zero value is usable.
type Options struct {
	ClientID     string   // default DefaultClientID
	ClientSecret string   // default DefaultClientSecret
	RedirectURIs []string // registered redirect URIs; empty accepts any absolute http(s) URI
	BasePath     string   // API prefix such as "/gate/lab"; default "" (API at URL)

	AccessTTL           time.Duration // default 2h
	RefreshTTL          time.Duration // default 365 days
	RotateRefreshTokens bool          // refresh issues a new refresh token and invalidates the old one
	SnakeCaseTokens     bool          // token replies use snake_case keys
	LegacyErrorField    bool          // errors carry "error_code" instead of "subCode"
}

// Server is the fake SecondMe. Create it with New or NewServer.
type Server struct {
	// URL is the server root, e.g. "http://127.0.0.1:41234".
	URL string

	srv       *httptest.Server
	t         testing.TB
	opts      Options // AccessTTL and RotateRefreshTokens are guarded by mu (setters)
	base      string
	mux       *http.ServeMux
	done      chan struct{}
	closeOnce sync.Once

	mu            sync.Mutex
	offset        time.Duration
	users         map[string]*userState
	codes         map[string]*codeState
	access        map[string]*accessState
	refresh       map[string]*refreshState
	apiKeys       map[string]*accessState
	authDefault   AuthorizeDecision
	authQueue     []AuthorizeDecision
	refreshCount  int
	exchangeCount int
	streamCount   int
	responses     map[string][]Response
	delays        map[string]time.Duration
	scripts       []Script
	streamHandler func(ChatCall) Script
	sessions      map[string]*sessionState
	seq           int64
	requests      []Request
}

// New starts a fake with default Options, closed by t.Cleanup.
func New(t testing.TB) *Server { return NewServer(t, Options{}) }

// NewServer starts a fake configured by o. With a non-nil t it is closed
// by t.Cleanup; with a nil t the caller must Close it. It fails t (or
// panics, with a nil t) if no port can be bound; Start returns that error.
func NewServer(t testing.TB, o Options) *Server {
	if t != nil {
		t.Helper()
	}
	s, err := Start(o)
	if err != nil {
		if t != nil {
			t.Fatalf("secondmetest: %v", err)
		}
		panic(err)
	}
	if t != nil {
		s.t = t
		t.Cleanup(s.Close)
	}
	return s
}

// Start starts a fake configured by o on 127.0.0.1 outside a test (the
// demo command uses it). The caller must Close it. It fails only when no
// port can be bound.
func Start(o Options) (*Server, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("start fake secondme: %w", err)
	}
	if o.ClientID == "" {
		o.ClientID = DefaultClientID
	}
	if o.ClientSecret == "" {
		o.ClientSecret = DefaultClientSecret
	}
	if o.AccessTTL <= 0 {
		o.AccessTTL = 2 * time.Hour
	}
	if o.RefreshTTL <= 0 {
		o.RefreshTTL = 365 * 24 * time.Hour
	}
	s := &Server{
		opts:      o,
		base:      strings.TrimRight(o.BasePath, "/"),
		done:      make(chan struct{}),
		users:     map[string]*userState{},
		codes:     map[string]*codeState{},
		access:    map[string]*accessState{},
		refresh:   map[string]*refreshState{},
		apiKeys:   map[string]*accessState{},
		responses: map[string][]Response{},
		delays:    map[string]time.Duration{},
		sessions:  map[string]*sessionState{},
	}
	s.mux = http.NewServeMux()
	s.routes()
	s.srv = &httptest.Server{Listener: ln, Config: &http.Server{Handler: http.HandlerFunc(s.serve), ReadHeaderTimeout: 10 * time.Second}}
	s.srv.Start()
	s.URL = s.srv.URL
	return s, nil
}

// Close stops the server, ending held and hanging streams. Idempotent.
func (s *Server) Close() {
	s.closeOnce.Do(func() {
		close(s.done)
		s.srv.CloseClientConnections()
		s.srv.Close()
	})
}

// BaseURL is the API base URL (URL + BasePath) for secondme.WithBaseURL.
func (s *Server) BaseURL() string { return s.URL + s.base }

// AuthorizeURL is the authorize page URL (URL + "/oauth/").
func (s *Server) AuthorizeURL() string { return s.URL + PathAuthorize }

// ClientID returns the OAuth client ID the fake accepts.
func (s *Server) ClientID() string { return s.opts.ClientID }

// ClientSecret returns the OAuth client secret the fake accepts.
func (s *Server) ClientSecret() string { return s.opts.ClientSecret }

// HTTPClient returns an HTTP client for the fake; it is closed with it.
func (s *Server) HTTPClient() *http.Client { return s.srv.Client() }

// Client returns a secondme.Client preset with the base URL, OAuth
// credentials, authorize URL and HTTPClient; opts are applied after them.
func (s *Server) Client(opts ...secondme.Option) *secondme.Client {
	all := append([]secondme.Option{
		secondme.WithBaseURL(s.BaseURL()),
		secondme.WithOAuth(s.opts.ClientID, s.opts.ClientSecret, s.AuthorizeURL()),
		secondme.WithHTTPClient(s.srv.Client()),
	}, opts...)
	c, err := secondme.NewClient(all...)
	if err != nil {
		if s.t != nil {
			s.t.Fatalf("secondmetest: new client: %v", err)
		}
		panic(err)
	}
	return c
}

// Now returns the fake clock: real time plus everything passed to Advance.
func (s *Server) Now() time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.nowLocked()
}

func (s *Server) nowLocked() time.Time { return time.Now().Add(s.offset).UTC().Round(0) }

// Advance moves the fake clock forward (code and token expiry).
func (s *Server) Advance(d time.Duration) {
	s.mu.Lock()
	s.offset += d
	s.mu.Unlock()
}

// Response is a canned reply for QueueResponse or Script.Response.
type Response struct {
	Status      int         // default 200
	Body        string      // sent verbatim
	ContentType string      // default "application/json"
	RetryAfter  string      // Retry-After header, if set
	Header      http.Header // extra headers; a Content-Type of "" here sends none
}

// ErrorResponse is the documented error envelope
// {"code":status,"message":message,"subCode":subCode}.
func ErrorResponse(status int, subCode, message string) Response {
	return JSONResponse(status, map[string]any{"code": status, "message": message, "subCode": subCode})
}

// LegacyErrorResponse is the older envelope with "error_code".
func LegacyErrorResponse(status int, errorCode, message string) Response {
	return JSONResponse(status, map[string]any{"code": status, "message": message, "error_code": errorCode})
}

// DetailResponse is a FastAPI-style {"detail": detail}.
func DetailResponse(status int, detail any) Response {
	return JSONResponse(status, map[string]any{"detail": detail})
}

// JSONResponse encodes v as the body.
func JSONResponse(status int, v any) Response {
	b, err := json.Marshal(v)
	if err != nil {
		panic("secondmetest: encode response: " + err.Error())
	}
	return Response{Status: status, Body: string(b)}
}

func (r Response) write(w http.ResponseWriter) {
	for k, vs := range r.Header {
		for _, v := range vs {
			w.Header().Add(k, v)
		}
	}
	if cts, ok := r.Header["Content-Type"]; ok && (len(cts) == 0 || cts[0] == "") {
		w.Header()["Content-Type"] = nil // no Content-Type, and no sniffing
	} else if !ok {
		w.Header().Set("Content-Type", cmp.Or(r.ContentType, "application/json"))
	}
	if r.RetryAfter != "" {
		w.Header().Set("Retry-After", r.RetryAfter)
	}
	status := r.Status
	if status == 0 {
		status = http.StatusOK
	}
	w.WriteHeader(status)
	_, _ = io.WriteString(w, r.Body)
}

// QueueResponse makes the next request to path (relative to BasePath, e.g.
// PathUserInfo) get r instead of normal handling, bypassing auth. Queued
// responses are used first in, first out.
func (s *Server) QueueResponse(path string, r Response) {
	s.mu.Lock()
	s.responses[path] = append(s.responses[path], r)
	s.mu.Unlock()
}

// SetDelay delays the handling of every request to path by d (0 removes).
func (s *Server) SetDelay(path string, d time.Duration) {
	s.mu.Lock()
	s.delays[path] = d
	s.mu.Unlock()
}

// serve records the request, applies delays and queued responses, and
// dispatches to the mux.
func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(io.LimitReader(r.Body, 64<<20))
	r.Body = io.NopCloser(bytes.NewReader(body))
	rel := r.URL.Path
	if s.base != "" && strings.HasPrefix(rel, s.base+"/") {
		rel = strings.TrimPrefix(rel, s.base)
	}
	rec := Request{
		Method: r.Method, Path: rel, URLPath: r.URL.Path, Query: r.URL.Query(),
		Header: r.Header.Clone(), Body: body,
	}
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	switch mt {
	case "application/x-www-form-urlencoded":
		rec.Form, _ = url.ParseQuery(string(body))
	case "application/json":
		var m map[string]any
		if json.Unmarshal(body, &m) == nil {
			rec.JSON = m
		}
	}
	s.mu.Lock()
	if tok, ok := bearer(r); ok {
		if st := s.lookupLocked(tok); st != nil && s.validLocked(st) == "" {
			rec.UserID = st.userID
		}
	}
	s.requests = append(s.requests, rec)
	delay := s.delays[rel]
	var queued *Response
	if q := s.responses[rel]; len(q) > 0 {
		queued = &q[0]
		s.responses[rel] = q[1:]
	}
	s.mu.Unlock()
	if delay > 0 && !s.sleep(r, delay) {
		return
	}
	if queued != nil {
		queued.write(w)
		return
	}
	s.mux.ServeHTTP(w, r)
}

// sleep waits d, or less if the client goes away or the server closes; it
// reports whether the full time elapsed.
func (s *Server) sleep(r *http.Request, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-r.Context().Done():
	case <-s.done:
	}
	return false
}

func (s *Server) routes() {
	b := s.base
	handle := func(method, path string, h http.HandlerFunc) {
		s.mux.HandleFunc(method+" "+b+path, h)
		s.mux.HandleFunc(b+path, func(w http.ResponseWriter, _ *http.Request) {
			writeJSON(w, http.StatusMethodNotAllowed, map[string]any{"detail": "Method Not Allowed"})
		})
	}
	s.mux.HandleFunc("GET "+PathAuthorize+"{$}", s.handleAuthorize)
	handle("POST", PathTokenCode, s.handleTokenCode)
	handle("POST", PathTokenRefresh, s.handleTokenRefresh)
	handle("GET", PathUserInfo, s.handleUserInfo)
	handle("GET", PathUserShades, s.handleUserShades)
	handle("GET", PathKeyMemorySearch, s.handleKeyMemorySearch)
	handle("GET", PathSoftMemory, s.handleSoftMemory)
	handle("POST", PathNoteAdd, s.handleNoteAdd)
	handle("POST", PathKeyMemory, s.handleKeyMemoryAdd)
	handle("POST", PathChatStream, s.handleChatStream)
	handle("GET", PathSessionList, s.handleSessionList)
	handle("GET", PathSessionMessages, s.handleSessionMessages)
	handle("GET", PathAuthMe, s.handleAuthMe)
	s.mux.HandleFunc("/", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusNotFound, map[string]any{"detail": "Not Found"})
	})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// writeOK writes the success envelope around data.
func writeOK(w http.ResponseWriter, data any) {
	writeJSON(w, http.StatusOK, map[string]any{"code": 0, "message": "success", "data": data})
}

// writeErr writes the error envelope with subCode (or error_code).
func (s *Server) writeErr(w http.ResponseWriter, status int, subCode, message string) {
	field := "subCode"
	if s.opts.LegacyErrorField {
		field = "error_code"
	}
	writeJSON(w, status, map[string]any{"code": status, "message": message, field: subCode})
}

// writeMissing writes a FastAPI 422 for missing body fields.
func writeMissing(w http.ResponseWriter, fields ...string) {
	items := make([]map[string]any, 0, len(fields))
	for _, f := range fields {
		items = append(items, map[string]any{"type": "missing", "loc": []string{"body", f}, "msg": "Field required", "input": nil})
	}
	writeJSON(w, http.StatusUnprocessableEntity, map[string]any{"detail": items})
}

func randToken(prefix string) string {
	b := make([]byte, 18)
	_, _ = rand.Read(b)
	return prefix + hex.EncodeToString(b)
}

// nextID returns a process-unique sequence number; s.mu must be held.
func (s *Server) nextID() int64 {
	s.seq++
	return s.seq
}
