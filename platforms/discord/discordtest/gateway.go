package discordtest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/bwmarrin/discordgo"
	"github.com/gorilla/websocket"
)

// ErrNoGateway is returned by dispatches when no gateway session is ready.
var ErrNoGateway = errors.New("discordtest: no gateway session is ready")

// Identify is a recorded IDENTIFY.
type Identify struct {
	Token   string
	Intents discordgo.Intent
	At      time.Time
	// Shard and ShardCount are the IDENTIFY's shard array (Sharded false
	// when it had none).
	Sharded           bool
	Shard, ShardCount int
}

// gwConn is one gateway connection.
type gwConn struct {
	ws  *websocket.Conn
	wmu sync.Mutex // serializes writes (and sequence numbers)

	// Guarded by Server.mu.
	session string
	intents discordgo.Intent
	seq     int64
	ready   bool
	// shard and shardCount route guild events (shardCount 0: every event).
	shard, shardCount int
}

func (c *gwConn) write(v any) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	return c.ws.WriteJSON(v)
}

// closeWith sends a close frame with code and closes the connection.
func (c *gwConn) closeWith(code int, text string) {
	c.wmu.Lock()
	_ = c.ws.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(code, text), time.Now().Add(time.Second))
	c.wmu.Unlock()
	_ = c.ws.Close()
}

// kill drops the connection without a close frame.
func (c *gwConn) kill() { _ = c.ws.UnderlyingConn().Close() }

type frame struct {
	Op int             `json:"op"`
	D  json.RawMessage `json:"d"`
	S  *int64          `json:"s,omitempty"`
	T  string          `json:"t,omitempty"`
}

func (s *Server) serveGateway(w http.ResponseWriter, r *http.Request) {
	up := websocket.Upgrader{CheckOrigin: func(*http.Request) bool { return true }}
	ws, err := up.Upgrade(w, r, nil)
	if err != nil {
		return
	}
	ws.SetReadLimit(1 << 20)
	c := &gwConn{ws: ws}
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		_ = ws.Close()
		return
	}
	s.conns[c] = true
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		delete(s.conns, c)
		s.notifyLocked()
		s.mu.Unlock()
		_ = ws.Close()
	}()
	if c.write(map[string]any{"op": 10, "d": map[string]any{"heartbeat_interval": s.heartbeat.Milliseconds()}}) != nil {
		return
	}
	for {
		var f frame
		if err := ws.ReadJSON(&f); err != nil {
			return
		}
		switch f.Op {
		case 1:
			s.mu.Lock()
			s.heartbeats++
			s.mu.Unlock()
			_ = c.write(map[string]any{"op": 11})
		case 2:
			if !s.identify(c, f.D) {
				return
			}
		case 6:
			if !s.resume(c, f.D) {
				return
			}
		}
	}
}

// identify answers an IDENTIFY with READY and GUILD_CREATEs, or closes the
// connection like Discord (4004 bad token, 4005 twice, 4014 disallowed
// intents). It reports whether the connection stays open.
func (s *Server) identify(c *gwConn, raw json.RawMessage) bool {
	var d struct {
		Token   string           `json:"token"`
		Intents discordgo.Intent `json:"intents"`
		Shard   *[2]int          `json:"shard"`
	}
	if json.Unmarshal(raw, &d) != nil {
		c.closeWith(4002, "Decode error.")
		return false
	}
	id := Identify{Token: d.Token, Intents: d.Intents, At: time.Now()}
	if d.Shard != nil {
		id.Sharded, id.Shard, id.ShardCount = true, d.Shard[0], d.Shard[1]
	}
	s.mu.Lock()
	s.recordIdentifyLocked(id)
	already, noContent := c.session != "", s.noContent
	shardErr := s.shardErrorLocked(id)
	s.mu.Unlock()
	switch {
	case shardErr == closeShardingRequired:
		c.closeWith(closeShardingRequired, "Sharding required.")
		return false
	case shardErr == closeInvalidShard:
		c.closeWith(closeInvalidShard, "Invalid shard.")
		return false
	case already:
		c.closeWith(4005, "Already authenticated.")
		return false
	case strings.TrimPrefix(d.Token, "Bot ") != s.token:
		c.closeWith(4004, "Authentication failed.")
		return false
	case noContent && d.Intents&discordgo.IntentMessageContent != 0:
		c.closeWith(4014, "Disallowed intent(s).")
		return false
	}

	c.wmu.Lock()
	defer c.wmu.Unlock()
	s.mu.Lock()
	session := fmt.Sprintf("fake-session-%s", s.newIDLocked())
	c.session, c.intents, c.seq = session, d.Intents, 1
	if id.Sharded {
		c.shard, c.shardCount = id.Shard, id.ShardCount
	}
	s.sessions[session] = 1
	s.sessionIntents[session] = d.Intents
	s.sessionShards[session] = [2]int{c.shard, c.shardCount}
	var guilds []Guild
	for _, g := range s.guilds {
		if c.receives(g.ID) {
			guilds = append(guilds, g)
		}
	}
	s.mu.Unlock()

	unavailable := make([]any, 0, len(guilds))
	for _, g := range guilds {
		unavailable = append(unavailable, map[string]any{"id": g.ID, "unavailable": true})
	}
	seq := int64(1)
	frames := []map[string]any{{"op": 0, "s": seq, "t": "READY", "d": map[string]any{
		"v": 9, "session_id": session, "resume_gateway_url": s.GatewayURL(),
		"user":        map[string]any{"id": s.botID, "username": s.botName, "bot": true, "discriminator": "0"},
		"application": map[string]any{"id": s.appID, "flags": 0},
		"guilds":      unavailable, "private_channels": []any{},
	}}}
	for _, g := range guilds {
		channels, threads := []any{}, []any{}
		for i := range g.Channels {
			ch := s.channelWire(&g.Channels[i])
			if g.Channels[i].ParentID != "" && g.Channels[i].Type >= discordgo.ChannelTypeGuildNewsThread &&
				g.Channels[i].Type <= discordgo.ChannelTypeGuildPrivateThread {
				threads = append(threads, ch)
			} else {
				channels = append(channels, ch)
			}
		}
		seq++
		frames = append(frames, map[string]any{"op": 0, "s": seq, "t": "GUILD_CREATE", "d": map[string]any{
			"id": g.ID, "name": g.Name, "preferred_locale": g.PreferredLocale, "unavailable": false,
			"channels": channels, "threads": threads, "members": []any{}, "roles": []any{},
		}})
	}
	// The session is ready before its frames are written: c.wmu is held
	// until they are, so a dispatch (which takes c.wmu) is ordered after
	// them, and a client that has read GUILD_CREATE can be dispatched to
	// at once. (Marking it ready after the writes raced with exactly that.)
	s.mu.Lock()
	c.seq = seq
	s.sessions[session] = seq
	c.ready = true
	s.notifyLocked()
	s.mu.Unlock()
	for _, f := range frames {
		if c.ws.WriteJSON(f) != nil {
			return false
		}
	}
	return true
}

// resume answers a RESUME with RESUMED for a known session, or with an
// invalid session (op 9) otherwise.
func (s *Server) resume(c *gwConn, raw json.RawMessage) bool {
	var d struct {
		Token     string `json:"token"`
		SessionID string `json:"session_id"`
		Seq       int64  `json:"seq"`
	}
	if json.Unmarshal(raw, &d) != nil {
		c.closeWith(4002, "Decode error.")
		return false
	}
	if strings.TrimPrefix(d.Token, "Bot ") != s.token {
		c.closeWith(4004, "Authentication failed.")
		return false
	}
	c.wmu.Lock()
	defer c.wmu.Unlock()
	s.mu.Lock()
	seq, known := s.sessions[d.SessionID]
	if !known {
		s.mu.Unlock()
		return c.ws.WriteJSON(map[string]any{"op": 9, "d": false}) == nil
	}
	seq++
	c.session, c.seq, c.ready, c.intents = d.SessionID, seq, true, s.sessionIntents[d.SessionID]
	c.shard, c.shardCount = s.sessionShards[d.SessionID][0], s.sessionShards[d.SessionID][1]
	s.sessions[d.SessionID] = seq
	s.resumes++
	s.notifyLocked()
	s.mu.Unlock()
	return c.ws.WriteJSON(map[string]any{"op": 0, "s": seq, "t": "RESUMED", "d": map[string]any{}}) == nil
}

// readyConnsLocked returns the connections with a ready session.
func (s *Server) readyConnsLocked() []*gwConn {
	var conns []*gwConn
	for c := range s.conns {
		if c.ready {
			conns = append(conns, c)
		}
	}
	return conns
}

// Dispatch sends an event (op 0) with the next sequence number to every
// ready gateway session and returns how many got it. data is marshaled to
// JSON as is.
func (s *Server) Dispatch(eventType string, data any) (int, error) {
	return s.dispatch(eventType, func(*gwConn) any { return data })
}

// dispatch sends an event built per connection.
func (s *Server) dispatch(eventType string, build func(c *gwConn) any) (int, error) {
	s.mu.Lock()
	conns := s.readyConnsLocked()
	s.mu.Unlock()
	sent := 0
	for _, c := range conns {
		c.wmu.Lock()
		s.mu.Lock()
		d := build(c)
		if !c.receives(guildOf(d)) {
			s.mu.Unlock()
			c.wmu.Unlock()
			continue
		}
		c.seq++
		seq := c.seq
		s.sessions[c.session] = seq
		s.mu.Unlock()
		if c.ws.WriteJSON(map[string]any{"op": 0, "s": seq, "t": eventType, "d": d}) == nil {
			sent++
		}
		c.wmu.Unlock()
	}
	if sent == 0 {
		return 0, ErrNoGateway
	}
	return sent, nil
}

// SendRawFrame writes an arbitrary text frame to every ready session (for
// malformed-payload tests).
func (s *Server) SendRawFrame(b []byte) error {
	s.mu.Lock()
	conns := s.readyConnsLocked()
	s.mu.Unlock()
	if len(conns) == 0 {
		return ErrNoGateway
	}
	for _, c := range conns {
		c.wmu.Lock()
		err := c.ws.WriteMessage(websocket.TextMessage, b)
		c.wmu.Unlock()
		if err != nil {
			return fmt.Errorf("write raw frame: %w", err)
		}
	}
	return nil
}

// DropConnections cuts every gateway connection without a close frame,
// like a network failure; a client then reconnects and RESUMEs.
func (s *Server) DropConnections() {
	s.mu.Lock()
	var conns []*gwConn
	for c := range s.conns {
		conns = append(conns, c)
		c.ready = false
	}
	s.mu.Unlock()
	for _, c := range conns {
		c.kill()
	}
}

// WaitReady waits until a gateway session is ready: its READY (with the
// GUILD_CREATEs) or RESUMED is written or being written, and any dispatch
// from now on is ordered after those frames.
func (s *Server) WaitReady(ctx context.Context) error {
	return s.wait(ctx, func() bool { return len(s.readyConnsLocked()) > 0 })
}

// Identifies returns every IDENTIFY received.
func (s *Server) Identifies() []Identify {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Identify(nil), s.identifies...)
}

// Resumes counts the sessions resumed with RESUMED.
func (s *Server) Resumes() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.resumes
}

// Heartbeats counts the heartbeats received (each was ACKed).
func (s *Server) Heartbeats() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.heartbeats
}
