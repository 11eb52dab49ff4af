package secondme

import (
	"errors"
	"fmt"
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
// multiplexes the streams over few connections anyway). maxIdle <= 0 means
// DefaultMaxIdleConns. Its write buffer is small (requests are a few KiB at
// most, larger writes bypass it), and so is its read buffer (a response
// head is read line by line whatever its length, and a stream's body goes
// through the Stream's own buffer): every live stream holds an open
// connection, so each KiB here is a KiB per conversation.
//
// An HTTP/2 connection that receives no frame for 30 s is pinged, and
// closed when the ping goes unanswered for 15 s: otherwise a connection
// silently dropped on the way (a NAT or load balancer forgetting it) would
// keep taking new streams and requests, each failing only at its own
// timeout, until TCP gives up on it many minutes later.
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
		ReadBufferSize:        1 << 10,
		HTTP2: &http.HTTP2Config{
			SendPingTimeout: 30 * time.Second,
			PingTimeout:     15 * time.Second,
		},
	}
}

// DefaultMaxIdleConns is how many idle connections NewTransport keeps.
const DefaultMaxIdleConns = 256

// ErrCrossHostRedirect is the cause of a request error when the server
// redirected to another host (see SameHostRedirects).
var ErrCrossHostRedirect = errors.New("secondme: refused a redirect to another host")

// SameHostRedirects is an http.Client CheckRedirect policy that follows
// redirects only within the host (and port) of the first request, at most
// 10 of them. A 307 or 308 re-sends the request body, and a token call's
// body holds the client secret and the user's refresh token or code: it
// must not go to a host nobody configured. The API redirects nowhere, so
// a redirect off the host is an error, not a reply. A Client uses it
// unless its HTTP client (WithHTTPClient) has a policy of its own.
func SameHostRedirects(req *http.Request, via []*http.Request) error {
	if len(via) >= 10 {
		return errors.New("secondme: stopped after 10 redirects")
	}
	if first := via[0].URL; req.URL.Scheme != first.Scheme || req.URL.Host != first.Host {
		return fmt.Errorf("%w (%s)", ErrCrossHostRedirect, req.URL.Host)
	}
	return nil
}
