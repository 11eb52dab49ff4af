package reqdeadline_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/secondme-bridge/secondme-bridge/internal/reqdeadline"
)

// wrapped is a transport net/http does not know (like the bridge's
// metrics transport and API URL rewriter).
type wrapped struct{ next http.RoundTripper }

func (w wrapped) RoundTrip(r *http.Request) (*http.Response, error) { return w.next.RoundTrip(r) }

// A request past its deadline fails with the context's deadline error,
// whether the server is slow to answer or slow to send the body.
func TestDeadlineEnforced(t *testing.T) {
	t.Parallel()
	release := make(chan struct{})
	defer close(release)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/body" {
			w.WriteHeader(http.StatusOK)
			w.(http.Flusher).Flush()
		}
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer srv.Close()
	c := reqdeadline.Client(&http.Client{Transport: wrapped{srv.Client().Transport}, Timeout: 100 * time.Millisecond})
	if c.Timeout != 0 {
		t.Fatalf("Client kept Timeout %s; want it moved to the transport", c.Timeout)
	}
	if got := reqdeadline.Timeout(c); got != 100*time.Millisecond {
		t.Fatalf("Timeout = %s, want 100ms", got)
	}
	if _, err := c.Get(srv.URL + "/head"); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("slow answer: err = %v, want the deadline", err)
	}
	resp, err := c.Get(srv.URL + "/body")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if _, err := io.ReadAll(resp.Body); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("slow body: err = %v, want the deadline", err)
	}
}

// A response read and closed in time is whole, and the same client serves
// requests one after another (the deadline of one does not end the next).
func TestResponseWithinDeadline(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, "hello")
	}))
	defer srv.Close()
	c := reqdeadline.Client(&http.Client{Transport: wrapped{srv.Client().Transport}, Timeout: time.Minute})
	for range 3 {
		resp, err := c.Get(srv.URL)
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(resp.Body)
		_ = resp.Body.Close()
		if err != nil || string(b) != "hello" {
			t.Fatalf("body %q, %v", b, err)
		}
	}
	if got := reqdeadline.Client(&http.Client{}); got.Timeout != 0 || got.Transport != nil {
		t.Fatalf("a client without Timeout changed: %+v", got)
	}
	if reqdeadline.Client(nil) != nil || reqdeadline.Timeout(nil) != 0 {
		t.Fatal("nil client not handed back")
	}
}

// The point of the package: requests in flight cost no goroutines beyond
// the transport's own, where Client.Timeout over a wrapped transport costs
// two per request.
func TestNoGoroutinePerRequest(t *testing.T) {
	const n = 40
	extra := func(c *http.Client, url string, release chan struct{}, arrived *sync.WaitGroup) int {
		base := runtime.NumGoroutine()
		var wg sync.WaitGroup
		arrived.Add(n)
		for range n {
			wg.Go(func() {
				resp, err := c.Get(url)
				if err == nil {
					_, _ = io.Copy(io.Discard, resp.Body)
					_ = resp.Body.Close()
				}
			})
		}
		arrived.Wait()
		time.Sleep(50 * time.Millisecond) // let the client side settle
		got := runtime.NumGoroutine() - base
		close(release)
		wg.Wait()
		return got
	}
	run := func(wrap func(*http.Client) *http.Client) int {
		release := make(chan struct{})
		var arrived sync.WaitGroup
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			arrived.Done()
			<-release
		}))
		defer srv.Close()
		tr := srv.Client().Transport.(*http.Transport).Clone()
		tr.MaxIdleConnsPerHost = n
		defer tr.CloseIdleConnections()
		return extra(wrap(&http.Client{Transport: wrapped{tr}, Timeout: time.Minute}), srv.URL, release, &arrived)
	}
	legacy := run(func(c *http.Client) *http.Client { return c })
	ours := run(reqdeadline.Client)
	// Each request: its caller, and (the test server being in this
	// process) the server's connection goroutine and the client
	// connection's read and write loops.
	if legacy-ours < 2*n-n/4 {
		t.Fatalf("goroutines for %d requests in flight: %d with Client.Timeout, %d with reqdeadline; want about %d fewer", n, legacy, ours, 2*n)
	}
}
