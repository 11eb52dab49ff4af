package secondme_test

import (
	"bufio"
	"net"
	"net/http"
	"testing"

	"github.com/secondme-bridge/secondme-bridge/secondme"
	"github.com/secondme-bridge/secondme-bridge/secondme/secondmetest"
)

// NotSent is true only when the request provably never reached the
// server.
func TestNotSent(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := ln.Addr().String()
	_ = ln.Close()

	// A server that reads the whole request, then hangs up.
	hang, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = hang.Close() })
	go func() {
		for {
			c, err := hang.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				_, _ = http.ReadRequest(bufio.NewReader(c))
			}()
		}
	}()
	sm := secondmetest.New(t)
	busy := secondmetest.ErrorResponse(503, "connection.error", "later")
	sm.QueueStream(secondmetest.Script{Response: &busy})

	for name, tc := range map[string]struct {
		base string
		want bool
	}{
		"connection refused":     {"http://" + closed, true},
		"hung up after the read": {"http://" + hang.Addr().String(), false},
		"503 answer":             {sm.BaseURL(), false},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			c := sm.Client(secondme.WithBaseURL(tc.base))
			_, err := c.ChatStream(t.Context(), "tok", secondme.ChatRequest{Message: "hi"})
			if err == nil {
				t.Fatal("ChatStream succeeded")
			}
			if got := secondme.NotSent(err); got != tc.want {
				t.Errorf("NotSent(%v) = %v, want %v", err, got, tc.want)
			}
		})
	}
	if secondme.NotSent(nil) {
		t.Error("NotSent(nil)")
	}
}
