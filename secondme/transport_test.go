package secondme_test

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
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

// The default transport speaks HTTP/2 when the server offers it (despite
// its own dialer), and health-checks HTTP/2 connections with pings, so
// that a connection dropped on the way is closed instead of holding every
// stream multiplexed on it.
func TestNewTransportHTTP2(t *testing.T) {
	t.Parallel()
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte(r.Proto))
	}))
	srv.EnableHTTP2 = true
	srv.StartTLS()
	t.Cleanup(srv.Close)
	tr := secondme.NewTransport(0)
	t.Cleanup(tr.CloseIdleConnections)
	if tr.HTTP2 == nil || tr.HTTP2.SendPingTimeout <= 0 || tr.HTTP2.PingTimeout <= 0 {
		t.Errorf("HTTP/2 health checks are off: %+v", tr.HTTP2)
	}
	if tr.MaxIdleConnsPerHost != secondme.DefaultMaxIdleConns {
		t.Errorf("MaxIdleConnsPerHost = %d, want %d", tr.MaxIdleConnsPerHost, secondme.DefaultMaxIdleConns)
	}
	tr.TLSClientConfig = srv.Client().Transport.(*http.Transport).TLSClientConfig.Clone()
	resp, err := (&http.Client{Transport: tr}).Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.ProtoMajor != 2 {
		t.Errorf("protocol %s, want HTTP/2", resp.Proto)
	}
}

// A token call redirected to another host is refused before its body (the
// client secret and the refresh token) is sent there; a redirect within
// the API host is followed.
func TestRedirectsStayOnTheHost(t *testing.T) {
	t.Parallel()
	var elsewhere atomic.Int64
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		elsewhere.Add(1)
		w.WriteHeader(http.StatusTeapot)
	}))
	t.Cleanup(other.Close)
	var mode atomic.Value // "other", "same"
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.URL.Query().Get("moved") == "" && mode.Load() == "other":
			http.Redirect(w, r, other.URL+r.URL.Path, http.StatusTemporaryRedirect)
		case r.URL.Query().Get("moved") == "" && mode.Load() == "same":
			http.Redirect(w, r, r.URL.Path+"?moved=1", http.StatusPermanentRedirect)
		default:
			_ = r.ParseForm()
			w.Header().Set("Content-Type", "application/json")
			_, _ = fmt.Fprintf(w, `{"code":0,"data":{"accessToken":"lba_at_new","refreshToken":%q,"expiresIn":7200}}`, r.PostForm.Get("refresh_token"))
		}
	}))
	t.Cleanup(api.Close)
	c, err := secondme.NewClient(secondme.WithBaseURL(api.URL), secondme.WithOAuth("cid", "client-secret", ""))
	if err != nil {
		t.Fatal(err)
	}

	mode.Store("other")
	if _, err := c.RefreshToken(t.Context(), "lba_rt_old"); !errors.Is(err, secondme.ErrCrossHostRedirect) {
		t.Errorf("redirected to another host: err = %v, want ErrCrossHostRedirect", err)
	} else if strings.Contains(err.Error(), "lba_rt_old") || strings.Contains(err.Error(), "client-secret") {
		t.Errorf("error leaks a secret: %v", err)
	}
	if n := elsewhere.Load(); n != 0 {
		t.Errorf("the other host got %d requests, want none", n)
	}

	mode.Store("same")
	tok, err := c.RefreshToken(t.Context(), "lba_rt_old")
	if err != nil || tok.RefreshToken != "lba_rt_old" {
		t.Errorf("redirected within the host: %+v, %v; want the token, with the body re-sent", tok, err)
	}

	// A caller's own client keeps its own policy.
	var followed atomic.Int64
	own := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { followed.Add(1); return nil }}
	c2, err := secondme.NewClient(secondme.WithBaseURL(api.URL), secondme.WithOAuth("cid", "client-secret", ""), secondme.WithHTTPClient(own))
	if err != nil {
		t.Fatal(err)
	}
	mode.Store("other")
	if _, err := c2.RefreshToken(t.Context(), "lba_rt_old"); errors.Is(err, secondme.ErrCrossHostRedirect) || followed.Load() != 1 {
		t.Errorf("own CheckRedirect: err = %v, followed %d, want the caller's policy applied once", err, followed.Load())
	}
}
