package secondme

import (
	"net"
	"net/http"
	"time"
)

// NewTransport returns the HTTP transport a client uses by default, tuned
// for a bridge: many concurrent streams to one API host.
//
// http.DefaultTransport keeps two idle connections per host, so with more
// concurrent streams than that most connections are closed when their
// stream ends and the next stream pays a new TCP and TLS handshake; this
// transport keeps up to maxIdle of them (HTTP/2, when the server offers it,
// multiplexes the streams over few connections anyway). Its write buffer is
// small (requests are a few KiB at most, larger writes bypass it), which
// saves memory on every open connection.
func NewTransport(maxIdle int) *http.Transport {
	if maxIdle <= 0 {
		maxIdle = DefaultMaxIdleConns
	}
	return &http.Transport{
		Proxy: http.ProxyFromEnvironment,
		DialContext: (&net.Dialer{
			Timeout:   10 * time.Second,
			KeepAlive: 30 * time.Second,
		}).DialContext,
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          maxIdle,
		MaxIdleConnsPerHost:   maxIdle,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   10 * time.Second,
		ExpectContinueTimeout: time.Second,
		WriteBufferSize:       1 << 10,
	}
}

// DefaultMaxIdleConns is how many idle connections NewTransport keeps.
const DefaultMaxIdleConns = 256
