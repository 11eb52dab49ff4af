package slacktest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// Ack is the answer to one delivered envelope or HTTP request.
type Ack struct {
	EnvelopeID string
	// Payload is the Socket Mode ack payload, or the HTTP response body.
	Payload json.RawMessage
	// HTTPStatus is the adapter's HTTP status (HTTP delivery only).
	HTTPStatus int
	// Latency is the time from sending the envelope to receiving the ack.
	Latency time.Duration
	// ResponseURL is the response_url the delivery carried (commands and
	// shortcuts).
	ResponseURL string
}

type wsConn struct {
	c    *websocket.Conn
	wmu  sync.Mutex
	done chan struct{}
	once sync.Once
}

func (c *wsConn) writeJSON(v any) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	if err := c.c.SetWriteDeadline(time.Now().Add(5 * time.Second)); err != nil {
		return fmt.Errorf("set write deadline: %w", err)
	}
	if err := c.c.WriteJSON(v); err != nil {
		return fmt.Errorf("write websocket frame: %w", err)
	}
	return nil
}

func (c *wsConn) close() {
	c.once.Do(func() {
		close(c.done)
		_ = c.c.Close()
	})
}

func (s *Server) handleLink(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	closed := s.closed
	s.mu.Unlock()
	if closed {
		http.Error(w, "closed", http.StatusServiceUnavailable)
		return
	}
	conn, err := s.upgrader.Upgrade(w, r, nil)
	if err != nil {
		return // Upgrade already answered
	}
	wc := &wsConn{c: conn, done: make(chan struct{})}
	defer s.dropConn(wc)

	hello := map[string]any{
		"type": "hello", "num_connections": 1,
		"connection_info": map[string]any{"app_id": s.opts.AppID},
		"debug_info":      map[string]any{"host": "slacktest", "approximate_connection_time": 3600},
	}
	if wc.writeJSON(hello) != nil {
		return
	}
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return
	}
	s.conns = append(s.conns, wc)
	s.connects++
	s.mu.Unlock()

	go s.ping(wc)
	for {
		_, data, err := conn.ReadMessage()
		if err != nil {
			return
		}
		var res struct {
			EnvelopeID string          `json:"envelope_id"`
			Payload    json.RawMessage `json:"payload"`
		}
		if json.Unmarshal(data, &res) != nil || res.EnvelopeID == "" {
			continue
		}
		s.mu.Lock()
		ch := s.pending[res.EnvelopeID]
		delete(s.pending, res.EnvelopeID)
		s.mu.Unlock()
		if ch != nil {
			ch <- Ack{EnvelopeID: res.EnvelopeID, Payload: res.Payload}
		}
	}
}

func (s *Server) ping(wc *wsConn) {
	t := time.NewTicker(s.opts.PingInterval)
	defer t.Stop()
	for {
		if wc.c.WriteControl(websocket.PingMessage, []byte("ping"), time.Now().Add(time.Second)) != nil {
			return
		}
		select {
		case <-wc.done:
			return
		case <-t.C:
		}
	}
}

func (s *Server) dropConn(wc *wsConn) {
	wc.close()
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, c := range s.conns {
		if c == wc {
			s.conns = append(s.conns[:i], s.conns[i+1:]...)
			break
		}
	}
}

// Connections is how many Socket Mode websockets have been accepted so far.
func (s *Server) Connections() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.connects
}

// ConnectionsOpened is how many times apps.connections.open succeeded.
func (s *Server) ConnectionsOpened() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.opens
}

// LiveConnections is how many websockets are open now.
func (s *Server) LiveConnections() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.conns)
}

// WaitConnections waits until at least n websockets have been accepted and
// one is open, failing t after timeout.
func (s *Server) WaitConnections(t testing.TB, n int, timeout time.Duration) {
	t.Helper()
	waitFor(t, timeout, func() bool {
		s.mu.Lock()
		defer s.mu.Unlock()
		return s.connects >= n && len(s.conns) > 0
	}, func() string { return fmt.Sprintf("want %d socket connections, have %d", n, s.Connections()) })
}

// Disconnect sends {"type":"disconnect"} on every open websocket, as Slack
// does before rotating a connection; the client reconnects through
// apps.connections.open.
func (s *Server) Disconnect() {
	s.mu.Lock()
	conns := append([]*wsConn(nil), s.conns...)
	s.mu.Unlock()
	for _, c := range conns {
		_ = c.writeJSON(map[string]any{
			"type": "disconnect", "reason": "refresh_requested",
			"debug_info": map[string]any{"host": "slacktest"},
		})
	}
}

// DropConnections closes every open websocket without a goodbye.
func (s *Server) DropConnections() {
	s.mu.Lock()
	conns := append([]*wsConn(nil), s.conns...)
	s.mu.Unlock()
	for _, c := range conns {
		c.close()
	}
}

// ErrNoAck is returned when the adapter did not acknowledge an envelope
// before the context ended.
var ErrNoAck = errors.New("slacktest: envelope not acknowledged")

// SendEnvelope sends a raw Socket Mode envelope of type typ ("events_api",
// "slash_commands", "interactive") over the newest open websocket, waiting
// for one if none is open, and waits for the ack.
func (s *Server) SendEnvelope(ctx context.Context, typ string, payload json.RawMessage, retryAttempt int) (Ack, error) {
	var wc *wsConn
	for wc == nil {
		s.mu.Lock()
		if n := len(s.conns); n > 0 {
			wc = s.conns[n-1]
		}
		s.mu.Unlock()
		if wc != nil {
			break
		}
		select {
		case <-ctx.Done():
			return Ack{}, fmt.Errorf("wait for socket connection: %w", ctx.Err())
		case <-time.After(10 * time.Millisecond):
		}
	}
	id := s.nextID("env-")
	ch := make(chan Ack, 1)
	s.mu.Lock()
	s.pending[id] = ch
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		delete(s.pending, id)
		s.mu.Unlock()
	}()
	env := map[string]any{
		"type": typ, "envelope_id": id, "payload": payload,
		"accepts_response_payload": typ != "events_api", "retry_attempt": retryAttempt, "retry_reason": "",
	}
	if retryAttempt > 0 {
		env["retry_reason"] = "timeout"
	}
	start := time.Now()
	if err := wc.writeJSON(env); err != nil {
		return Ack{}, fmt.Errorf("send envelope: %w", err)
	}
	select {
	case a := <-ch:
		a.Latency = time.Since(start)
		return a, nil
	case <-ctx.Done():
		return Ack{EnvelopeID: id}, fmt.Errorf("%w: %s: %w", ErrNoAck, id, ctx.Err())
	}
}
