package discord

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/secondme-bridge/secondme-bridge/platforms"
	"github.com/secondme-bridge/secondme-bridge/platforms/discord/discordtest"
)

// oneConn is a loopback transport of one connection per host: every call
// reuses the connection the call before it left idle.
func oneConn() http.RoundTripper {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxConnsPerHost, tr.MaxIdleConnsPerHost = 1, 1
	return loopbackOnly{next: tr}
}

// A typing call given up as its answer (204, no body) arrives must not fail
// the call that takes its HTTP/1 connection next. net/http puts an HTTP/1
// connection whose answer has no body back in the pool before the call it
// answered returns; a call given up in that window has the connection
// closed with its own "context canceled", under the next call
// (golang/go#9496's race, still in Go 1.26). The bridge gives up a reply's
// typing call as the reply's first text goes out, and that text (or its
// channel's webhook creation) was the next call: now and then one reply of
// 150 at once went out as the bot in TestE2EWorkerStackStaysSmall. A
// typing call already written on HTTP/1 is now let finish (untilWritten;
// giving it up cannot unsend it). 2–9 sends in 1,000 failed before.
func TestGivingUpTypingFailsNoOtherCall(t *testing.T) {
	t.Parallel()
	// Limits out of the way: the fake's per-route buckets refill every
	// millisecond, the adapter's global rate is out of reach.
	srv := threadedServer(t, discordtest.WithRateLimitWindow(time.Millisecond))
	a, rec := startAdapter(t, srv, func(c *Config) {
		c.HTTPClient = &http.Client{Transport: oneConn(), Timeout: 5 * time.Second}
		c.GlobalRate = 1000000
	})
	ctx := waitCtx(t)
	trigger, err := srv.Mention(guildID, channelID, alice, "hi")
	mustNoErr(t, err, "mention")
	ev := rec.event(t, "msg:"+trigger.ID)
	to := platforms.Target{Workspace: ev.Workspace, Channel: ev.Channel, User: ev.User.ID}
	const rounds = 2000
	failed := 0
	for i := range rounds {
		typingCtx, giveUp := context.WithCancel(ctx)
		var wg sync.WaitGroup
		wg.Go(func() { _ = a.Typing(typingCtx, to) })
		// The reply's text goes out while the typing call is under way
		// (it waits for the one connection), and the typing call is
		// given up about when its answer arrives.
		time.Sleep(time.Duration(rand.IntN(300)) * time.Microsecond)
		sent := make(chan error, 1)
		go func() {
			_, err := a.Send(ctx, to, platforms.Message{Text: fmt.Sprintf("reply %d", i)})
			sent <- err
		}()
		time.Sleep(time.Duration(rand.IntN(500)) * time.Microsecond)
		giveUp()
		if err := <-sent; err != nil {
			failed++
			t.Logf("round %d: send: %v", i, err)
		}
		wg.Wait()
	}
	if failed > 0 {
		t.Errorf("%d of %d sends after a typing call given up failed", failed, rounds)
	}
	// Given up before it is written, a typing call is not made.
	if len(srv.CallsTo(http.MethodPost, "/channels/{id}/typing")) == 0 {
		t.Fatal("no typing call reached the fake: the pattern counts nothing")
	}
	before := len(srv.CallsTo(http.MethodPost, "/channels/{id}/typing"))
	gone, cancel := context.WithCancel(ctx)
	cancel()
	if err := a.Typing(gone, to); err == nil {
		t.Error("a typing call given up before it started succeeded")
	}
	if after := len(srv.CallsTo(http.MethodPost, "/channels/{id}/typing")); after != before {
		t.Errorf("a typing call given up before it started reached Discord (%d calls, then %d)", before, after)
	}
}
