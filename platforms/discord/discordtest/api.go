package discordtest

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"
)

// apiPrefix is the REST base path.
const apiPrefix = "/api/v9"

// Call is one REST request the fake received.
type Call struct {
	Method string
	// Path is relative to the API base ("/channels/1/messages").
	Path  string
	Query url.Values
	// Body is the JSON body decoded into any (maps, slices, float64…), or
	// nil; RawBody is the body as sent.
	Body    any
	RawBody []byte
	Status  int
	At      time.Time
	// Edge is when the call reached the proxy standing for Discord's
	// edge (WithEdgeHeader), zero without one.
	Edge time.Time
}

type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (r *statusRecorder) WriteHeader(code int) {
	if r.status == 0 {
		r.status = code
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *statusRecorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	return r.ResponseWriter.Write(b)
}

// serveAPI records the call, applies injected faults and authentication,
// then routes it.
func (s *Server) serveAPI(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	s.inflight++
	s.lastCall = time.Now()
	s.notifyLocked()
	s.mu.Unlock()
	raw, _ := io.ReadAll(io.LimitReader(r.Body, 8<<20))
	r.Body = io.NopCloser(bytes.NewReader(raw))
	path := strings.TrimPrefix(r.URL.Path, apiPrefix)
	call := Call{Method: r.Method, Path: path, Query: r.URL.Query(), RawBody: raw, At: time.Now()}
	call.Edge = s.edgeAt(r)
	if len(raw) > 0 {
		var v any
		if json.Unmarshal(raw, &v) == nil {
			call.Body = v
		}
	}
	rec := &statusRecorder{ResponseWriter: w}
	defer func() {
		call.Status = rec.status
		s.mu.Lock()
		s.calls = append(s.calls, call)
		s.inflight--
		s.lastCall = time.Now()
		s.notifyLocked()
		s.mu.Unlock()
	}()

	s.mu.Lock()
	status, retryAfter, failed := s.injectedLocked(r.Method, path, call.At)
	globalWait, overGlobal := time.Duration(0), false
	if !failed {
		globalWait, overGlobal = s.overGlobalLocked(path, call)
	}
	s.mu.Unlock()
	if overGlobal {
		writeGlobal429(rec, globalWait)
		return
	}
	if failed {
		writeFault(rec, status, retryAfter, r.Method+" "+path)
		return
	}
	open := strings.HasPrefix(path, "/webhooks/") || strings.HasPrefix(path, "/interactions/") ||
		path == "/gateway"
	if !open && r.Header.Get("Authorization") != "Bot "+s.token {
		writeError(rec, http.StatusUnauthorized, 0, "401: Unauthorized")
		return
	}
	s.route(rec, r, path)
}

// route dispatches to the handlers. Go's ServeMux cannot match "@me" and
// "@original" segments against variables reliably for every method, so the
// routing is explicit.
func (s *Server) route(w http.ResponseWriter, r *http.Request, path string) {
	seg := strings.Split(strings.Trim(path, "/"), "/")
	is := func(method string, pattern ...string) bool {
		if r.Method != method || len(seg) != len(pattern) {
			return false
		}
		for i, p := range pattern {
			if p != "*" && p != seg[i] {
				return false
			}
		}
		return true
	}
	switch {
	case is("GET", "gateway"), is("GET", "gateway", "bot"):
		s.mu.Lock()
		shards, mc := s.shards, s.maxConcurrency
		s.mu.Unlock()
		writeJSON(w, http.StatusOK, map[string]any{
			"url": s.GatewayURL(), "shards": shards,
			"session_start_limit": map[string]any{"total": 1000, "remaining": 1000, "reset_after": 0, "max_concurrency": mc},
		})
	case is("GET", "users", "@me"):
		writeJSON(w, http.StatusOK, map[string]any{"id": s.botID, "username": s.botName, "bot": true, "discriminator": "0"})
	case is("POST", "users", "@me", "channels"):
		s.createDM(w, r)
	case is("GET", "channels", "*"):
		s.getChannel(w, seg[1])
	case is("POST", "channels", "*", "messages"):
		s.createMessage(w, r, seg[1])
	case is("GET", "channels", "*", "messages", "*"):
		s.getMessage(w, seg[1], seg[3])
	case is("PATCH", "channels", "*", "messages", "*"):
		s.editMessage(w, r, seg[1], seg[3])
	case is("DELETE", "channels", "*", "messages", "*"):
		s.deleteMessage(w, seg[1], seg[3])
	case is("POST", "channels", "*", "typing"):
		w.WriteHeader(http.StatusNoContent)
	case is("POST", "channels", "*", "messages", "*", "threads"):
		s.startThread(w, r, seg[1], seg[3])
	case is("POST", "interactions", "*", "*", "callback"):
		s.callback(w, r, seg[1], seg[2])
	case is("POST", "channels", "*", "webhooks"):
		s.createWebhook(w, r, seg[1])
	case is("GET", "channels", "*", "webhooks"):
		s.listWebhooks(w, seg[1])
	case is("GET", "guilds", "*", "webhooks"):
		s.listGuildWebhooks(w, seg[1])
	case is("DELETE", "webhooks", "*"):
		s.deleteWebhookRoute(w, seg[1])
	case is("POST", "webhooks", "*", "*") && seg[1] != s.appID:
		s.executeWebhook(w, r, seg[1], seg[2])
	case is("POST", "webhooks", "*", "*"):
		s.followup(w, r, seg[1], seg[2])
	case (is("GET", "webhooks", "*", "*", "messages", "*") ||
		is("PATCH", "webhooks", "*", "*", "messages", "*") ||
		is("DELETE", "webhooks", "*", "*", "messages", "*")) && seg[1] != s.appID:
		s.hookMessage(w, r, seg[1], seg[2], seg[4])
	case is("GET", "webhooks", "*", "*", "messages", "*"),
		is("PATCH", "webhooks", "*", "*", "messages", "*"),
		is("DELETE", "webhooks", "*", "*", "messages", "*"):
		s.webhookMessage(w, r, seg[1], seg[2], seg[4])
	case is("PUT", "applications", "*", "commands"):
		s.putCommands(w, r, seg[1], "")
	case is("PUT", "applications", "*", "guilds", "*", "commands"):
		s.putCommands(w, r, seg[1], seg[3])
	case is("GET", "applications", "*", "commands"):
		s.getCommands(w, seg[1], "")
	case is("GET", "applications", "*", "guilds", "*", "commands"):
		s.getCommands(w, seg[1], seg[3])
	default:
		writeError(w, http.StatusNotFound, 0, "404: Not Found")
	}
}

// Calls returns every REST call so far, in order.
func (s *Server) Calls() []Call {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.calls)
}

// CallsTo returns the calls matching method ("*" for any) and pathPattern
// (e.g. "/channels/{id}/messages").
func (s *Server) CallsTo(method, pathPattern string) []Call {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Call
	for _, c := range s.calls {
		if matchRoute(method, pathPattern, c.Method, c.Path) {
			out = append(out, c)
		}
	}
	return out
}

// CountCalls counts the calls matching method and pathPattern.
func (s *Server) CountCalls(method, pathPattern string) int {
	return len(s.CallsTo(method, pathPattern))
}
