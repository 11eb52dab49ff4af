package main

import (
	"net/http"

	"github.com/secondme-bridge/secondme-bridge/secondme"
)

// platformConns bounds the connections the bridge keeps, and opens, to one
// platform host (Discord's or Slack's API).
const platformConns = 64

// platformTransport is the platforms' REST transport: net/http's default
// one, except that it keeps up to platformConns connections per host idle
// instead of 2, and never opens more than that. With the default, a burst
// of replies (every final of a busy minute, a bot with a raised global
// limit) opened a connection per concurrent call and closed all but two
// of them after it: a TCP (and TLS) handshake per call and a connection's
// buffers per reply in flight. Calls beyond platformConns wait for a
// connection (HTTP/1) or share them (HTTP/2, behind the same gate on new
// connections as SecondMe's, secondme.LimitNewConns).
func platformTransport() http.RoundTripper {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConns = 2 * platformConns
	tr.MaxIdleConnsPerHost = platformConns
	tr.MaxConnsPerHost = platformConns
	return secondme.LimitNewConns(tr, 0)
}
