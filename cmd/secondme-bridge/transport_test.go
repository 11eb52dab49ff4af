package main

import (
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// Bursts of platform calls share a bounded pool of kept-alive connections:
// two bursts of 200 concurrent calls open at most platformConns
// connections in all (http.DefaultTransport opened one per concurrent call
// and kept 2).
func TestPlatformTransportBoundsAndKeepsConnections(t *testing.T) {
	t.Parallel()
	var conns atomic.Int64
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(2 * time.Millisecond)
		_, _ = io.WriteString(w, "{}")
	}))
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	srv.Start()
	defer srv.Close()
	c := &http.Client{Transport: platformTransport()}
	defer c.CloseIdleConnections()
	for range 2 {
		var wg sync.WaitGroup
		for range 200 {
			wg.Go(func() {
				resp, err := c.Get(srv.URL)
				if err != nil {
					t.Error(err)
					return
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				_ = resp.Body.Close()
			})
		}
		wg.Wait()
	}
	if n := conns.Load(); n > platformConns {
		t.Fatalf("%d connections for two bursts of 200 calls; want at most %d", n, platformConns)
	}
}
