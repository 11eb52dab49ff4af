package secondme_test

import (
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/secondme-bridge/secondme-bridge/secondme"
)

// streamServer answers every request but the first (the warm-up) only
// when release is closed, like long streams, and counts its connections.
func streamServer(t *testing.T, h2 bool, maxStreams int) (srv *httptest.Server, conns *atomic.Int64, started chan struct{}, release chan struct{}) {
	conns = new(atomic.Int64)
	started, release = make(chan struct{}, 1000), make(chan struct{})
	var n atomic.Int64
	srv = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if n.Add(1) > 1 {
			started <- struct{}{}
			<-release
		}
		_, _ = w.Write([]byte(r.Proto))
	}))
	srv.Config.ConnState = func(_ net.Conn, st http.ConnState) {
		if st == http.StateNew {
			conns.Add(1)
		}
	}
	if h2 {
		srv.EnableHTTP2 = true
		srv.Config.HTTP2 = &http.HTTP2Config{MaxConcurrentStreams: maxStreams}
		srv.StartTLS()
	} else {
		srv.Start()
	}
	t.Cleanup(srv.Close)
	t.Cleanup(func() {
		select {
		case <-release:
		default:
			close(release)
		}
	})
	return srv, conns, started, release
}

// burst sends n concurrent requests through c and waits until the server
// holds all of them; then it releases them and checks their answers.
func burst(t *testing.T, c *http.Client, url string, n int, started, release chan struct{}) {
	t.Helper()
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for range n {
		wg.Go(func() {
			resp, err := c.Get(url)
			if err != nil {
				errs <- err
				return
			}
			resp.Body.Close()
		})
	}
	for range n {
		<-started
	}
	close(release)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

// A burst of long requests to an HTTP/2 host whose connections are full
// opens a few connections (what the streams need, plus at most the
// waiters' own), not one per request, and every request is answered.
func TestLimitNewConnsHTTP2(t *testing.T) {
	t.Parallel()
	const n, perConn = 1000, 250 // 250: Go's and common servers' default
	srv, conns, started, release := streamServer(t, true, perConn)
	tr := secondme.NewTransport(0)
	tr.TLSClientConfig = srv.Client().Transport.(*http.Transport).TLSClientConfig.Clone()
	t.Cleanup(tr.CloseIdleConnections)
	c := &http.Client{Transport: secondme.LimitNewConns(tr, 0)}
	resp, err := c.Get(srv.URL) // the warm-up: the host is seen speaking HTTP/2
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.ProtoMajor != 2 {
		t.Fatalf("protocol %s, want HTTP/2", resp.Proto)
	}
	burst(t, c, srv.URL, n, started, release)
	// n/perConn connections carry the streams; each overflow may open up
	// to DefaultNewConnWaiters at once, and a new connection's first
	// requests may run ahead of the server's limit and be refused (then
	// retried): a few more. Without the limit the burst opened about one
	// connection per request (1,491 for these 1,000 here).
	if got, most := conns.Load(), int64(n/20); got > most {
		t.Errorf("%d connections for %d streams of at most %d per connection, want at most %d", got, n, perConn, most)
	}
}

// An HTTP/1 host is not limited: every long request gets a connection of
// its own at once (the burst would hang otherwise).
func TestLimitNewConnsHTTP1(t *testing.T) {
	t.Parallel()
	const n = 30
	srv, conns, started, release := streamServer(t, false, 0)
	tr := secondme.NewTransport(0)
	t.Cleanup(tr.CloseIdleConnections)
	c := &http.Client{Transport: secondme.LimitNewConns(tr, 1)}
	resp, err := c.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	burst(t, c, srv.URL, n, started, release)
	if got := conns.Load(); got < n {
		t.Errorf("%d connections for %d concurrent HTTP/1 requests", got, n)
	}
}
