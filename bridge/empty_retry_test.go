package bridge

import (
	"bufio"
	"context"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/secondme-bridge/secondme-bridge/platforms/platformtest"
	"github.com/secondme-bridge/secondme-bridge/secondme"
	"github.com/secondme-bridge/secondme-bridge/secondme/secondmetest"
)

// An empty or whitespace-only reply gets a visible notice in every mode:
// edits, native streaming, a platform with neither, and an interaction.
func TestEmptyReplyGetsNotice(t *testing.T) {
	t.Parallel()
	modes := map[string]platformtest.Options{
		"edits":       edits(),
		"native":      {},
		"sends only":  {NoEdit: true, NoStream: true},
		"interaction": edits(),
	}
	replies := map[string][]string{
		"empty":      nil,
		"whitespace": {"  ", "\n\t ", " "},
	}
	for mode, opts := range modes {
		for kind, deltas := range replies {
			t.Run(mode+"/"+kind, func(t *testing.T) {
				t.Parallel()
				h := newHarness(t, hopts{platform: opts})
				h.link("u1", "Ada")
				h.sm.QueueStream(secondmetest.Script{Deltas: deltas})
				ev := h.msg("u1", "c1", "", "say nothing")
				if mode == "interaction" {
					ev = h.cmd("u1", "c1", "ask", "say nothing")
				}
				h.deliver(ev)
				h.waitText("(your avatar sent an empty reply)")
				h.settle()
				msgs := h.p.Messages()
				if len(msgs) != 1 || msgs[0].Text != "(your avatar sent an empty reply)" {
					t.Fatalf("want exactly the notice\n%s", h.p.Dump())
				}
				if mode == "interaction" && msgs[0].Target.Interaction != ev.Interaction {
					t.Errorf("the notice did not answer the interaction\n%s", h.p.Dump())
				}
				if n := len(h.p.CallsOf(platformtest.CallStartStream)); n != 0 {
					t.Errorf("%d streams started for whitespace", n)
				}
				h.waitInflight(0)
			})
		}
	}
	t.Run("chinese", func(t *testing.T) {
		t.Parallel()
		h := newHarness(t, hopts{platform: edits()})
		h.link("u1", "Ada")
		h.sm.QueueStream(secondmetest.Script{Deltas: []string{" "}})
		ev := h.msg("u1", "c1", "", "说点什么")
		ev.User.Locale = "zh-CN"
		h.deliver(ev)
		h.waitText("（你的分身返回了空回复）")
	})
}

// The turn is sent again only when SecondMe provably did not take it.
func TestRetryOnlyWhatSecondMeDidNotTake(t *testing.T) {
	t.Parallel()
	const upstreamFailed = "Your avatar couldn't answer just now: please ask again in a minute."
	t.Run("connection refused is retried", func(t *testing.T) {
		t.Parallel()
		sm := secondmetest.New(t)
		closed := closedPort(t)
		var dials atomic.Int64
		tr := &http.Transport{DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			if dials.Add(1) == 1 {
				addr = closed // a real refusal: nothing listens there
			}
			var d net.Dialer
			return d.DialContext(ctx, network, addr)
		}}
		t.Cleanup(tr.CloseIdleConnections)
		h := newHarnessOn(t, hopts{platform: edits(), cfg: func(c *Config) {
			c.SecondMe = sm.Client(secondme.WithHTTPClient(&http.Client{Transport: tr}))
		}}, sm, newStore(t, "bolt"))
		h.link("u1", "Ada")
		h.deliver(h.msg("u1", "c1", "", "hi"))
		h.waitReplies(1)
		if got := h.p.Messages()[0].Text; got != secondmetest.EchoReply("hi") {
			t.Errorf("reply = %q", got)
		}
		if n := len(h.chatCalls()); n != 1 || dials.Load() < 2 {
			t.Errorf("%d chat requests arrived after %d dials; want the refused one retried and one arrival", n, dials.Load())
		}
	})
	t.Run("request that arrived is not retried", func(t *testing.T) {
		t.Parallel()
		// A fake SecondMe that reads the whole request, records that it
		// arrived, and hangs up without answering.
		arrived := hangUpServer(t)
		sm := secondmetest.New(t)
		h := newHarnessOn(t, hopts{platform: edits(), cfg: func(c *Config) {
			c.SecondMe = sm.Client(secondme.WithBaseURL("http://" + arrived.addr))
		}}, sm, newStore(t, "bolt"))
		h.link("u1", "Ada")
		h.deliver(h.msg("u1", "c1", "", "hi"))
		h.waitText(upstreamFailed)
		h.settle()
		if n := arrived.n.Load(); n != 1 {
			t.Errorf("%d requests arrived, want 1: a request SecondMe may have taken is not sent again", n)
		}
	})
	for name, sc := range map[string]secondmetest.Script{
		"stream cut before any text":    {Abort: true},
		"stream error before any text":  {Error: &secondmetest.StreamError{Code: 500, Message: "boom", SubCode: "secondme.stream.error"}},
		"stream of whitespace then cut": {Deltas: []string{" ", "\n"}, Abort: true},
		"500 before the stream":         {Response: ptr(secondmetest.ErrorResponse(500, "internal.error", "boom"))},
	} {
		t.Run(name+" is not retried", func(t *testing.T) {
			t.Parallel()
			h := newHarness(t, hopts{platform: edits()})
			h.link("u1", "Ada")
			h.sm.QueueStream(sc, secondmetest.Script{Deltas: []string{"a second answer"}})
			h.deliver(h.msg("u1", "c1", "", "hi"))
			h.waitText(upstreamFailed)
			h.settle()
			if n := len(h.chatCalls()); n != 1 {
				t.Errorf("%d chat calls, want 1", n)
			}
			if msgs := h.p.Messages(); len(msgs) != 1 {
				t.Errorf("want only the error notice\n%s", h.p.Dump())
			}
		})
	}
}

func ptr[T any](v T) *T { return &v }

// closedPort returns an address on which nothing listens.
func closedPort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	_ = ln.Close()
	return addr
}

type hangUp struct {
	addr string
	n    atomic.Int64
}

// hangUpServer accepts connections, reads one HTTP request from each
// (counting those that arrived whole) and closes the connection.
func hangUpServer(t *testing.T) *hangUp {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ln.Close() })
	h := &hangUp{addr: ln.Addr().String()}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				req, err := http.ReadRequest(bufio.NewReader(c))
				if err != nil {
					return
				}
				var sb strings.Builder
				if _, err := bufio.NewReader(req.Body).WriteTo(&sb); err == nil && strings.Contains(sb.String(), `"message"`) {
					h.n.Add(1)
				}
			}()
		}
	}()
	return h
}
