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

// The default transport keeps the connections of concurrent streams for the
// next ones: two rounds of 16 concurrent streams open 16 connections, not
// 30 (http.DefaultTransport keeps 2 idle per host).
func TestDefaultTransportReusesStreamConnections(t *testing.T) {
	t.Parallel()
	var opened atomic.Int64
	var inFlight sync.WaitGroup
	release := make(chan struct{})
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		w.WriteHeader(http.StatusOK)
		http.NewResponseController(w).Flush()
		inFlight.Done()
		<-release
		_, _ = w.Write([]byte("data: {\"choices\":[{\"delta\":{\"content\":\"hi\"}}]}\n\ndata: [DONE]\n\n"))
	}))
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			opened.Add(1)
		}
	}
	srv.Start()
	t.Cleanup(srv.Close)
	c, err := secondme.NewClient(secondme.WithBaseURL(srv.URL))
	if err != nil {
		t.Fatal(err)
	}
	const streams = 16
	for round := range 2 {
		release = make(chan struct{})
		inFlight.Add(streams)
		var wg sync.WaitGroup
		errs := make(chan error, streams)
		for range streams {
			wg.Go(func() {
				st, err := c.ChatStream(t.Context(), "lba_ak_test", secondme.ChatRequest{Message: "hi"})
				if err != nil {
					errs <- err
					return
				}
				defer st.Close()
				for st.Next() {
				}
				if err := st.Err(); err != nil {
					errs <- err
				}
			})
		}
		inFlight.Wait() // all 16 streams are open at once
		close(release)
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatalf("round %d: %v", round+1, err)
		}
	}
	if n := opened.Load(); n != streams {
		t.Errorf("two rounds of %d concurrent streams opened %d connections, want %d", streams, n, streams)
	}
}
