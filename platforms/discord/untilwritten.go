package discord

import (
	"context"
	"crypto/tls"
	"net/http/httptrace"
	"sync/atomic"
)

// untilWritten returns a context for one REST call that parent's end
// cancels only until the call's request is written on an HTTP/1
// connection; done releases it. net/http puts an HTTP/1 connection whose
// answer has no body (typing's 204) back in its pool before the call it
// answered returns: a call given up in that window has the connection
// closed, with its "context canceled", under the next call to take it
// (golang/go#9496's race, still in Go 1.26). The bridge gives up a
// reply's typing call as the reply's text goes out, so that text, or its
// channel's webhook creation, failed so now and then behind an HTTP/1
// front (a proxy at discord.api_url; TestGivingUpTypingFailsNoOtherCall).
// Written, the call cannot be unsent anyway; it is let finish, within
// parent's deadline. On HTTP/2 (Discord's own API) giving up resets only
// the call's own stream, and is honoured at once.
func untilWritten(parent context.Context) (ctx context.Context, done func()) {
	base, releaseDeadline := context.WithoutCancel(parent), context.CancelFunc(func() {})
	if dl, ok := parent.Deadline(); ok {
		// The caller's time limit holds, written or not.
		base, releaseDeadline = context.WithDeadline(base, dl)
	}
	ctx, cancel := context.WithCancelCause(base)
	var written, h2 atomic.Bool
	ctx = httptrace.WithClientTrace(ctx, &httptrace.ClientTrace{
		GotConn: func(info httptrace.GotConnInfo) {
			if tc, ok := info.Conn.(*tls.Conn); ok && tc.ConnectionState().NegotiatedProtocol == "h2" {
				h2.Store(true)
			}
		},
		WroteRequest: func(httptrace.WroteRequestInfo) { written.Store(true) },
	})
	if parent.Err() != nil {
		cancel(context.Cause(parent)) // AfterFunc would, but later
	}
	stop := context.AfterFunc(parent, func() {
		if !written.Load() || h2.Load() {
			cancel(context.Cause(parent))
		}
	})
	return ctx, func() {
		stop()
		cancel(nil)
		releaseDeadline()
	}
}
