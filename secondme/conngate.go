package secondme

import (
	"net/http"
	"net/http/httptrace"
	"sync"
)

// DefaultNewConnWaiters is how many requests to one HTTP/2 host
// LimitNewConns lets look for a connection at once.
const DefaultNewConnWaiters = 4

// LimitNewConns wraps rt (an *http.Transport) so that a burst of requests
// to a host that speaks HTTP/2 opens a few new connections, not one per
// request.
//
// net/http's HTTP/2 client, once every connection to a host carries the
// most streams the server allows (SETTINGS_MAX_CONCURRENT_STREAMS, 100 to
// 250 in common servers), dials a new connection for each request that
// finds no room, however many arrive together: a thousand streams started
// at once against a 250-stream server opened hundreds of connections, each
// with its TLS handshake, its read loop and its buffers, where four would
// do. Here, against a host seen answering over HTTP/2, at most k requests
// at a time wait for a connection; a request holds its turn only until it
// has one (httptrace GotConn: a stream reserved on a connection, new or
// not), so requests that fit on an open connection pass at once and a
// long stream never holds a turn. A host that answers over HTTP/1 is not
// limited (each of its requests needs a connection of its own); nor is a
// host before its first answer. k <= 0 means DefaultNewConnWaiters.
func LimitNewConns(rt http.RoundTripper, k int) http.RoundTripper {
	if k <= 0 {
		k = DefaultNewConnWaiters
	}
	return &connGate{next: rt, k: k, h2: map[string]chan struct{}{}}
}

type connGate struct {
	next http.RoundTripper
	k    int
	mu   sync.Mutex
	h2   map[string]chan struct{} // host:port seen speaking HTTP/2 → its turns
}

func (g *connGate) RoundTrip(req *http.Request) (*http.Response, error) {
	host := req.URL.Host
	g.mu.Lock()
	turns := g.h2[host]
	g.mu.Unlock()
	if turns == nil {
		resp, err := g.next.RoundTrip(req)
		if err == nil && resp.ProtoMajor == 2 {
			g.mu.Lock()
			if g.h2[host] == nil {
				g.h2[host] = make(chan struct{}, g.k)
			}
			g.mu.Unlock()
		}
		return resp, err
	}
	select {
	case turns <- struct{}{}:
	case <-req.Context().Done():
		if req.Body != nil {
			_ = req.Body.Close()
		}
		return nil, req.Context().Err()
	}
	var once sync.Once
	release := func() { once.Do(func() { <-turns }) }
	ctx := httptrace.WithClientTrace(req.Context(), &httptrace.ClientTrace{
		GotConn: func(httptrace.GotConnInfo) { release() },
	})
	resp, err := g.next.RoundTrip(req.WithContext(ctx))
	release()
	if err == nil && resp.ProtoMajor != 2 {
		// The host went back to HTTP/1 (a new front): no longer limited.
		g.mu.Lock()
		delete(g.h2, host)
		g.mu.Unlock()
	}
	return resp, err
}

// CloseIdleConnections closes the wrapped transport's idle connections.
func (g *connGate) CloseIdleConnections() {
	if c, ok := g.next.(interface{ CloseIdleConnections() }); ok {
		c.CloseIdleConnections()
	}
}
