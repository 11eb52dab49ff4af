package discord

import (
	"context"
	"errors"
	"net"
	"net/http"
	"sync"

	"github.com/bwmarrin/discordgo"
	"github.com/gorilla/websocket"
)

// Gateway close codes (https://discord.com/developers/docs/topics/opcodes-and-status-codes).
const (
	closeAuthenticationFailed = 4004
	closeInvalidShard         = 4010
	closeShardingRequired     = 4011
	closeInvalidAPIVersion    = 4012
	closeInvalidIntents       = 4013
	closeDisallowedIntents    = 4014
)

// closeCode returns the websocket close code in err, or 0.
func closeCode(err error) int {
	var ce *websocket.CloseError
	if errors.As(err, &ce) {
		return ce.Code
	}
	return 0
}

// permanentGatewayError reports whether retrying cannot help: Discord
// refused the token, the intents or the shard settings.
func permanentGatewayError(err error) bool {
	switch closeCode(err) {
	case closeAuthenticationFailed, closeInvalidShard, closeShardingRequired,
		closeInvalidAPIVersion, closeInvalidIntents, closeDisallowedIntents:
		return true
	}
	if errors.Is(err, discordgo.ErrWSShardBounds) {
		return true
	}
	switch restStatus(err) {
	case http.StatusUnauthorized, http.StatusForbidden:
		return true
	}
	return false
}

// connTracker remembers the last network connection the gateway dialer
// opened, so that a stuck Session.Open can be unblocked by closing it.
type connTracker struct {
	mu   sync.Mutex
	last net.Conn
}

type dialFunc = func(ctx context.Context, network, addr string) (net.Conn, error)

// wrap returns a copy of d whose dials are tracked.
func (t *connTracker) wrap(d *websocket.Dialer) *websocket.Dialer {
	if d == nil {
		d = websocket.DefaultDialer
	}
	cp := *d
	base := cp.NetDialContext
	if base == nil && cp.NetDial != nil {
		nd := cp.NetDial
		base = func(_ context.Context, network, addr string) (net.Conn, error) { return nd(network, addr) }
	}
	if base == nil {
		base = (&net.Dialer{}).DialContext
	}
	cp.NetDial = nil
	cp.NetDialContext = t.track(base)
	if cp.NetDialTLSContext != nil {
		cp.NetDialTLSContext = t.track(cp.NetDialTLSContext)
	}
	return &cp
}

func (t *connTracker) track(dial dialFunc) dialFunc {
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		c, err := dial(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		t.mu.Lock()
		t.last = c
		t.mu.Unlock()
		return c, nil
	}
}

// closeLast closes the last dialed connection.
func (t *connTracker) closeLast() {
	t.mu.Lock()
	c := t.last
	t.last = nil
	t.mu.Unlock()
	if c != nil {
		_ = c.Close()
	}
}
