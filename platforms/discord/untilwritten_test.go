package discord

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

// untilWritten lets a call written on an HTTP/1 connection finish when
// its caller gives up (the connection could otherwise be closed under the
// next call: TestGivingUpTypingFailsNoOtherCall), and gives up one on
// HTTP/2, where that resets only the call's own stream, at once.
func TestUntilWritten(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name     string
		h2       bool
		finishes bool
	}{{"http1", false, true}, {"http2", true, false}} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			dl, cancelDL := context.WithTimeout(t.Context(), time.Hour)
			defer cancelDL()
			if ctx, done := untilWritten(dl); func() bool {
				defer done()
				d1, _ := dl.Deadline()
				d2, ok := ctx.Deadline()
				return !ok || !d1.Equal(d2)
			}() {
				t.Fatal("the caller's deadline is lost")
			}
			got, release := make(chan int, 1), make(chan struct{})
			srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				got <- r.ProtoMajor
				select {
				case <-release:
				case <-r.Context().Done():
				}
				w.WriteHeader(http.StatusNoContent)
			}))
			if tc.h2 {
				srv.EnableHTTP2 = true
				srv.StartTLS()
			} else {
				srv.Start()
			}
			defer srv.Close()
			defer close(release)
			parent, giveUp := context.WithCancel(t.Context())
			ctx, done := untilWritten(parent)
			defer done()
			req, err := http.NewRequestWithContext(ctx, http.MethodPost, srv.URL+"/channels/1/typing", nil)
			if err != nil {
				t.Fatal(err)
			}
			answered := make(chan error, 1)
			go func() {
				resp, err := srv.Client().Do(req)
				if err == nil {
					resp.Body.Close()
				}
				answered <- err
			}()
			if proto := <-got; proto != map[bool]int{false: 1, true: 2}[tc.h2] {
				t.Fatalf("the call came over HTTP/%d", proto)
			}
			giveUp() // written: the server has it
			select {
			case err := <-answered:
				if tc.finishes {
					t.Fatalf("a call written on HTTP/1 returned when given up (%v), before its answer", err)
				}
				if !errors.Is(err, context.Canceled) {
					t.Errorf("given up on HTTP/2: %v, want context canceled", err)
				}
				return
			case <-time.After(100 * time.Millisecond):
				if !tc.finishes {
					t.Fatal("a call on HTTP/2 was not given up at once")
				}
			}
			release <- struct{}{}
			if err := <-answered; err != nil {
				t.Errorf("the call written on HTTP/1 failed: %v", err)
			}
		})
	}
}
