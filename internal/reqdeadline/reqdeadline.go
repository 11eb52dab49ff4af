package reqdeadline

import (
	"context"
	"io"
	"net/http"
	"sync"
	"time"
)

// Client returns a copy of c whose Timeout is enforced by its transport:
// every request (each redirect hop is one) runs under a context deadline
// of c.Timeout, which lasts until its response body is closed (or the
// request failed), as with Client.Timeout, and the copy's Timeout is 0.
// A nil transport is http.DefaultTransport; c is returned unchanged when
// its Timeout is 0.
func Client(c *http.Client) *http.Client {
	if c == nil || c.Timeout <= 0 {
		return c
	}
	cp := *c
	cp.Transport = Transport(c.Transport, c.Timeout)
	cp.Timeout = 0
	return &cp
}

// Transport returns next (http.DefaultTransport when nil) with every
// request under a context deadline of d that ends when its response body
// is closed. d ≤ 0 returns next.
func Transport(next http.RoundTripper, d time.Duration) http.RoundTripper {
	if next == nil {
		next = http.DefaultTransport
	}
	if d <= 0 {
		return next
	}
	return &transport{next: next, d: d}
}

type transport struct {
	next http.RoundTripper
	d    time.Duration
}

func (t *transport) RoundTrip(req *http.Request) (*http.Response, error) {
	ctx, cancel := context.WithTimeout(req.Context(), t.d)
	resp, err := t.next.RoundTrip(req.WithContext(ctx))
	if err != nil {
		cancel()
		return nil, err
	}
	resp.Body = &body{ReadCloser: resp.Body, cancel: cancel}
	return resp, nil
}

// CloseIdleConnections closes next's idle connections (http.Client calls
// it through the transport).
func (t *transport) CloseIdleConnections() {
	if c, ok := t.next.(interface{ CloseIdleConnections() }); ok {
		c.CloseIdleConnections()
	}
}

// body releases its request's deadline when closed.
type body struct {
	io.ReadCloser
	once   sync.Once
	cancel context.CancelFunc
}

func (b *body) Close() error {
	err := b.ReadCloser.Close()
	b.once.Do(b.cancel)
	return err
}

// Timeout returns the whole-request timeout c enforces: its Timeout, or
// the deadline its transport gives every request (Client, Transport).
func Timeout(c *http.Client) time.Duration {
	if c == nil {
		return 0
	}
	if t, ok := c.Transport.(*transport); ok {
		return max(c.Timeout, t.d)
	}
	return c.Timeout
}
