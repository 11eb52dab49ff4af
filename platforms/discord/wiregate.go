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
	span time.Duration

	mu   sync.Mutex
	ring []time.Time // when the last n counted calls were (or will be) let through
	at   int         // the oldest entry of ring

	held atomic.Int64 // calls the gate delayed
}

// newWireGate returns a gate of n calls per second plus wireSlack over
// next, for calls under the API base path base.
func newWireGate(next http.RoundTripper, base string, n int) *wireGate {
	g := &wireGate{next: next, base: base, span: time.Second + wireSlack}
	if n > 0 {
		g.ring = make([]time.Time, n)
	}
	return g
}

// RoundTrip implements http.RoundTripper.
func (g *wireGate) RoundTrip(r *http.Request) (*http.Response, error) {
	if len(g.ring) > 0 && g.counts(r) {
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

// wait gives r the first moment at which it is at most the n-th call in a
// window of g.span, and sleeps until then.
func (g *wireGate) wait(r *http.Request) error {
	g.mu.Lock()
	now := time.Now()
	at := now
	if oldest := g.ring[g.at]; !oldest.IsZero() && oldest.Add(g.span).After(now) {
		at = oldest.Add(g.span)
	}
	g.ring[g.at] = at
	g.at = (g.at + 1) % len(g.ring)
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
