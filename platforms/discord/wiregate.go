package discord

import (
	"fmt"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// wireSlack is how much longer than Discord's one second the wire gate's
// window is: calls written within it may reach Discord's counter up to that
// much more unevenly than they left (a connection busy, a scheduler that
// ran the writing goroutine late) and still fall into different seconds.
// The bot budget's steady rate (DefaultGlobalRate: 44/s) stays below the
// gate's (50 per 1.1 s: 45.5/s), so the gate only holds calls bunched
// after their grant.
const wireSlack = 100 * time.Millisecond

// wireGate keeps the calls that count against Discord's global limit
// within it as they leave the process: at most n of them are handed to the
// transport in any window of one second plus wireSlack.
//
// The bot budget (botBudget) already grants calls at that pace, by the
// clock of its scheduler. Between a grant and the write lie a goroutine
// woken late, discordgo, and a connection that may be busy; on a saturated
// machine calls granted over more than a second can leave within one, and
// Discord answers the surplus with 429s. The gate measures where Discord
// does, at the wire, and delays a call (first come, first served) to the
// first moment it fits. Calls outside the global limit (interaction
// callbacks and webhook calls through a token) pass at once, as do all
// calls when n <= 0.
//
// A call waiting in the gate ends with its context's error when the
// context ends first; the slot it was given stays spent, which can only
// make the gate stricter.
type wireGate struct {
	next http.RoundTripper
	base string // the API base path ("/api/v9/"), to find a call's route
	n    int    // calls per span; <= 0: no gate
	span time.Duration

	mu sync.Mutex
	// sent are the moments the counted calls of the last span were (or,
	// held, will be) let through, in order: at most n per span, so a
	// raised limit costs memory only as calls come.
	sent []time.Time

	held atomic.Int64 // calls the gate delayed
}

// newWireGate returns a gate of n calls per second plus wireSlack over
// next, for calls under the API base path base.
func newWireGate(next http.RoundTripper, base string, n int) *wireGate {
	return &wireGate{next: next, base: base, n: n, span: time.Second + wireSlack}
}

// RoundTrip implements http.RoundTripper.
func (g *wireGate) RoundTrip(r *http.Request) (*http.Response, error) {
	if g.n > 0 && g.counts(r) {
		if err := g.wait(r); err != nil {
			if r.Body != nil {
				_ = r.Body.Close()
			}
			return nil, err
		}
	}
	return g.next.RoundTrip(r)
}

// counts reports whether r counts against the global limit: every call to
// the API but interaction callbacks and webhook calls through a token
// (GlobalExempt in discordtest follows the same rule).
func (g *wireGate) counts(r *http.Request) bool {
	route, ok := strings.CutPrefix(r.URL.Path, g.base)
	if !ok {
		return false // not an API call (a CDN file)
	}
	return !strings.HasPrefix(route, "interactions/") && !strings.HasPrefix(route, "webhooks/")
}

// wait gives r the first moment at which it is at most the n-th call in
// any window of g.span (the n-th call before it was that long before), and
// sleeps until then.
func (g *wireGate) wait(r *http.Request) error {
	g.mu.Lock()
	now := time.Now()
	// Moments a span or more ago constrain no call from now on.
	drop := 0
	for drop < len(g.sent) && !g.sent[drop].Add(g.span).After(now) {
		drop++
	}
	g.sent = g.sent[drop:]
	at := now
	if k := len(g.sent) - g.n; k >= 0 {
		at = maxTime(at, g.sent[k].Add(g.span))
	}
	g.sent = append(g.sent, at)
	g.mu.Unlock()
	d := at.Sub(now)
	if d <= 0 {
		return nil
	}
	g.held.Add(1)
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-r.Context().Done():
		return fmt.Errorf("discord: wait for the global limit: %w", r.Context().Err())
	}
}

// GlobalHeld is how many REST calls the adapter held back so far so that
// no more than Config.GlobalRate of them leave the process in any second
// plus wireSlack (see wireGate): calls granted by the bot budget that
// reached the transport bunched. A steady rise means the process runs late
// between a grant and its call (saturated cores).
func (a *Adapter) GlobalHeld() int64 { return a.wire.held.Load() }

func maxTime(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}
