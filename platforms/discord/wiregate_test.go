package discord

import (
	"context"
	"errors"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/secondme-bridge/secondme-bridge/platforms"
	"github.com/secondme-bridge/secondme-bridge/platforms/discord/discordtest"
)

// TestWireGateKeepsABurstWithinTheGlobalLimit: calls that reach the
// transport all at once (granted over more than a second, then delayed:
// the bunching the gate exists for) leave no faster than the global limit,
// and the fake, counting Discord's fixed one-second windows, refuses none.
// Without the gate the fake answers the surplus with 429s.
func TestWireGateKeepsABurstWithinTheGlobalLimit(t *testing.T) {
	t.Parallel()
	const limit, calls = 10, 25
	srv := threadedServer(t, discordtest.WithGlobalLimit(limit))
	a, _ := startAdapter(t, srv, func(c *Config) { c.GlobalRate = limit })
	ctx := waitCtx(t)
	mark := len(srv.Calls())
	start := time.Now()
	var wg sync.WaitGroup
	errs := make(chan error, calls)
	for range calls {
		wg.Go(func() {
			if _, err := a.Send(ctx, platforms.Target{Workspace: guildID, Channel: channelID}, platforms.Message{Text: "burst"}); err != nil {
				errs <- err
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Errorf("send: %v", err)
	}
	if n := srv.GlobalLimited(); n != 0 {
		t.Errorf("the fake answered %d 429s under its global limit of %d/s, want none", n, limit)
	}
	// 25 calls at 10 per 1.1 s: the third window opens 2.2 s after the first.
	if took := time.Since(start); took < 2*(time.Second+wireSlack) {
		t.Errorf("%d calls took %v, want at least %v", calls, took, 2*(time.Second+wireSlack))
	}
	var at []time.Time
	for _, c := range srv.Calls()[mark:] {
		if !discordtest.GlobalExempt(c.Path) {
			at = append(at, c.At)
		}
	}
	if len(at) < calls {
		t.Fatalf("the fake saw %d calls under the global limit, want at least the %d sends", len(at), calls)
	}
	for i := limit; i < len(at); i++ {
		if gap := at[i].Sub(at[i-limit]); gap < time.Second {
			t.Errorf("calls %d and %d arrived %v apart: %d calls within a second", i-limit, i, gap, limit+1)
		}
	}
}

// TestWireGateRoutes: interaction callbacks and webhook calls through a
// token are outside Discord's global limit and never wait; everything else
// under the API base counts, and a URL outside it (a CDN file) does not.
func TestWireGateRoutes(t *testing.T) {
	t.Parallel()
	g := newWireGate(http.DefaultTransport, "/api/v9/", 50)
	for path, want := range map[string]bool{
		"/api/v9/channels/1/messages":               true,
		"/api/v9/channels/1/messages/2":             true,
		"/api/v9/channels/1/typing":                 true,
		"/api/v9/channels/1/webhooks":               true, // the bot's lookup, with its token
		"/api/v9/guilds/1/webhooks":                 true,
		"/api/v9/gateway/bot":                       true,
		"/api/v9/users/@me":                         true,
		"/api/v9/interactions/1/tok/callback":       false,
		"/api/v9/webhooks/1/tok":                    false,
		"/api/v9/webhooks/1/tok/messages/@original": false,
		"/attachments/1/2/a.txt":                    false,
		"/api/v10/channels/1/messages":              false, // another base: not ours
	} {
		r, err := http.NewRequest(http.MethodPost, "http://127.0.0.1"+path, nil)
		mustNoErr(t, err, "request")
		if got := g.counts(r); got != want {
			t.Errorf("counts(%s) = %v, want %v", path, got, want)
		}
	}
}

// TestWireGateWaitEndsWithTheContext: a call waiting for its slot ends
// with its context's error, closes its body and reaches nobody; the calls
// before it went through.
func TestWireGateWaitEndsWithTheContext(t *testing.T) {
	t.Parallel()
	srv := threadedServer(t)
	g := newWireGate(loopbackOnly{}, "/api/v9/", 1)
	client := &http.Client{Transport: g}
	url := srv.APIURL() + "/users/@me"
	first, err := http.NewRequest(http.MethodGet, url, nil)
	mustNoErr(t, err, "request")
	first.Header.Set("Authorization", "Bot "+srv.Token())
	resp, err := client.Do(first)
	mustNoErr(t, err, "first call")
	_ = resp.Body.Close()

	ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
	defer cancel()
	body := &closeCounter{}
	second, err := http.NewRequestWithContext(ctx, http.MethodPost, srv.APIURL()+"/channels/"+channelID+"/messages", body)
	mustNoErr(t, err, "request")
	start := time.Now()
	_, err = client.Do(second)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("second call: err = %v, want the context's deadline", err)
	}
	if took := time.Since(start); took > time.Second {
		t.Errorf("the cancelled call returned after %v, want at its deadline", took)
	}
	if !body.closed() {
		t.Error("the cancelled call's body was not closed")
	}
	if n := srv.CountCalls("POST", "/channels/{id}/messages"); n != 0 {
		t.Errorf("the cancelled call reached the fake (%d calls)", n)
	}
	if g.held.Load() != 1 {
		t.Errorf("held = %d, want 1", g.held.Load())
	}
}

// TestWireGateOff: a gate of 0 calls per second holds nothing.
func TestWireGateOff(t *testing.T) {
	t.Parallel()
	srv := threadedServer(t)
	g := newWireGate(loopbackOnly{}, "/api/v9/", 0)
	client := &http.Client{Transport: g}
	for range 5 {
		r, err := http.NewRequest(http.MethodGet, srv.APIURL()+"/users/@me", nil)
		mustNoErr(t, err, "request")
		r.Header.Set("Authorization", "Bot "+srv.Token())
		resp, err := client.Do(r)
		mustNoErr(t, err, "call")
		_ = resp.Body.Close()
	}
	if g.held.Load() != 0 {
		t.Errorf("held = %d, want 0", g.held.Load())
	}
}

// closeCounter is a request body that records its Close.
type closeCounter struct {
	mu sync.Mutex
	n  int
}

func (c *closeCounter) Read([]byte) (int, error) { return 0, errors.New("read after the gate refused") }

func (c *closeCounter) Close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.n++
	return nil
}

func (c *closeCounter) closed() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.n > 0
}

// The gate places the calls it holds so that no window of its span holds
// more than n (each call a span after the n-th before it), first come
// first served, and keeps only the moments of its last span: a raised
// limit costs memory only as calls come.
func TestWireGatePlacesHeldCalls(t *testing.T) {
	t.Parallel()
	g := newWireGate(loopbackOnly{}, "/api/v9/", 3)
	gone, cancel := context.WithCancel(t.Context())
	cancel() // a held call returns at once; its moment stays placed
	for range 8 {
		r, err := http.NewRequestWithContext(gone, http.MethodPost, "http://127.0.0.1/api/v9/channels/1/messages", nil)
		mustNoErr(t, err, "request")
		_ = g.wait(r)
	}
	if len(g.sent) != 8 {
		t.Fatalf("%d moments kept, want 8", len(g.sent))
	}
	for i := 1; i < len(g.sent); i++ {
		if g.sent[i].Before(g.sent[i-1]) {
			t.Errorf("moment %d before moment %d: not first come, first served", i, i-1)
		}
		if i >= 3 && g.sent[i].Sub(g.sent[i-3]) < g.span {
			t.Errorf("moments %d and %d %v apart: 4 calls within %v", i-3, i, g.sent[i].Sub(g.sent[i-3]), g.span)
		}
	}
	if h := g.held.Load(); h != 5 {
		t.Errorf("held = %d, want the 5 calls after the first 3", h)
	}

	raised := newWireGate(loopbackOnly{}, "/api/v9/", 100000)
	for range 10 {
		r, err := http.NewRequest(http.MethodPost, "http://127.0.0.1/api/v9/channels/1/typing", nil)
		mustNoErr(t, err, "request")
		mustNoErr(t, raised.wait(r), "wait")
	}
	if len(raised.sent) != 10 || cap(raised.sent) > 64 {
		t.Errorf("a gate of 100000/s keeps %d moments in %d, want the 10 calls' only", len(raised.sent), cap(raised.sent))
	}
}
