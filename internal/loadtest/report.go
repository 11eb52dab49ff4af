package loadtest

import (
	"cmp"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/secondme-bridge/secondme-bridge/platforms/discord/discordtest"
)

// Report is the outcome of a run.
type Report struct {
	N          int
	Store      string
	GlobalRate int
	// TLS: the fakes were behind the HTTPS front; BridgeFront and
	// RelayFront are what it served the bridge over the load and the relay.
	// Front is what it served over the whole run (the linking and the
	// gateway's connection included).
	TLS                     bool
	ReplyAs                 string // the bridge's bridge.reply_as ("": its default, avatar)
	BridgeFront, RelayFront FrontCounts
	Front                   FrontCounts

	CPU                time.Duration // the bridge's user + system time over the load
	CPUPerDelta        time.Duration
	RelayCPUPerDelta   time.Duration // the bare relay's, same run
	RelayErrors        []string
	PreRSS, PeakRSS    int64
	RSSPerConversation int64
	// RSSAnonPerConversation and RSSFilePerConversation split it, at the
	// peak against before the load, into anonymous memory (heaps, stacks)
	// and file-backed pages (the bolt store's memory-mapped file, page
	// cache the kernel can reclaim); either may be negative.
	RSSAnonPerConversation, RSSFilePerConversation int64
	RelayRSSPerStream                              int64 // the bare relay's peak less its pre-load RSS, per stream
	RelayPreRSS                                    int64 // the bare relay's RSS before its streams
	RelayPeakRSS                                   int64 // and its highest during them
	// The bare bot's (barebot.go), same run: CPU per delta, peak less
	// pre-load RSS per reply, its Discord calls (typing included) and
	// first texts. (Run fails when any of its replies failed or was not
	// exact.)
	BareCPUPerDelta       time.Duration
	BareRSSPerReply       int64
	BareCalls, BareTyping int
	BareFirstText         Quantiles // mention → first text shown

	FirstText  Quantiles // mention → first text shown
	DoneFinal  Quantiles // [DONE] flushed by the fake → final text shown
	Requests   int       // Discord REST calls in the conversations' channels, their webhooks' included
	Webhooks   int       // channel webhooks in the conversations' channels at the end (the avatar's)
	Typing     int       // of which typing
	Limited429 int       // 429s answered (any bucket, the global one included)
	// Limited429By counts them by route ("POST /channels/{id}/messages").
	Limited429By map[string]int
	// BusiestSecond is the most calls under Discord's global limit (any
	// route but interaction callbacks and webhooks) the fake received in
	// any one second (a sliding window, by arrival), the load's.
	BusiestSecond int
	// EdgeBusiestSecond is the same count by arrival at the fake's edge
	// (its own process, edge.go), where the fake's global limit counts
	// calls, and EdgeBusiestAfter when that second began, from the first
	// mention.
	EdgeBusiestSecond int
	EdgeBusiestAfter  time.Duration
	Exact             int // replies whose final text equals the streamed text

	// The bridge's own counters over the load (its /metrics): store round
	// trips made for budgets, platform calls granted their budgets, calls
	// woken past their tokens' grace that asked again (lapsed) and, of
	// them, those woken late again that spent their tokens late.
	BudgetRoundTrips, BudgetCalls  int64
	BudgetLapsed, BudgetLateSpends int64
	// WireHeld is how many of its calls the bridge held back as they left
	// the process, for the global limit (secondme_bridge_discord_global_held_total).
	WireHeld int64
	// StoreRoundTrips are the bridge's store round trips of every kind over
	// the load (secondme_bridge_store_round_trip_seconds_count; a Redis
	// pipeline is one).
	StoreRoundTrips int64
}

// RoundTripsPerCall is the bridge's budget round trips to the store per
// platform call granted its budgets.
func (r *Report) RoundTripsPerCall() float64 {
	if r.BudgetCalls == 0 {
		return 0
	}
	return float64(r.BudgetRoundTrips) / float64(r.BudgetCalls)
}

// Quantiles are p50 and p99 of a latency.
type Quantiles struct{ P50, P99 time.Duration }

func quantiles(xs []time.Duration) Quantiles {
	if len(xs) == 0 {
		return Quantiles{}
	}
	slices.Sort(xs)
	at := func(q float64) time.Duration { return xs[min(len(xs)-1, int(q*float64(len(xs))))] }
	return Quantiles{P50: at(0.50), P99: at(0.99)}
}

// Ratio is the bridge's CPU per delta over the bare relay's.
func (r *Report) Ratio() float64 {
	if r.RelayCPUPerDelta == 0 {
		return 0
	}
	return float64(r.CPUPerDelta) / float64(r.RelayCPUPerDelta)
}

// BareRatio is the bridge's CPU per delta over the bare bot's.
func (r *Report) BareRatio() float64 {
	if r.BareCPUPerDelta == 0 {
		return 0
	}
	return float64(r.CPUPerDelta) / float64(r.BareCPUPerDelta)
}

// measure reads the fake Discord's calls after mark and the messages.
func measure(f *fakes, cfg Config, mark int, fired []time.Time, want string) *Report {
	rep := &Report{N: cfg.N, Store: cfg.Store, GlobalRate: cfg.GlobalRate, TLS: cfg.TLS, ReplyAs: cfg.ReplyAs}
	byChannel := map[string]int{}
	for i := range cfg.N {
		byChannel[channelID(i)] = i
	}
	// The avatar's messages go through its channel's webhook
	// (/webhooks/{id}/{token}…): counted with the channel.
	hooks := map[string]bool{}
	for ch := range byChannel {
		for _, h := range f.dc.Webhooks(ch) {
			hooks[h.ID] = true
			rep.Webhooks++
		}
	}
	var limited, atEdge []time.Time
	for _, c := range f.dc.Calls()[mark:] {
		if !discordtest.GlobalExempt(c.Path) {
			limited = append(limited, c.At)
			if !c.Edge.IsZero() {
				atEdge = append(atEdge, c.Edge)
			}
		}
		if c.Status == 429 {
			rep.Limited429++
			if rep.Limited429By == nil {
				rep.Limited429By = map[string]int{}
			}
			rep.Limited429By[c.Method+" "+routeOf(c.Path)]++
		}
		if strings.HasPrefix(c.Path, "/guilds/") && strings.HasSuffix(c.Path, "/webhooks") {
			// The guild's webhook listing serves every channel's avatar
			// replies: counted with them.
			rep.Requests++
			continue
		}
		if rest, ok := strings.CutPrefix(c.Path, "/webhooks/"); ok {
			if id, _, _ := strings.Cut(rest, "/"); hooks[id] {
				rep.Requests++
			}
			continue
		}
		rest, ok := strings.CutPrefix(c.Path, "/channels/")
		if !ok {
			continue
		}
		ch, tail, _ := strings.Cut(rest, "/")
		if _, ok := byChannel[ch]; !ok {
			continue
		}
		rep.Requests++
		if tail == "typing" {
			rep.Typing++
		}
	}
	rep.BusiestSecond = busiest(limited)
	var edgeAt time.Time
	rep.EdgeBusiestSecond, edgeAt = busiestAt(atEdge)
	if !edgeAt.IsZero() && len(fired) > 0 {
		rep.EdgeBusiestAfter = edgeAt.Sub(slices.MinFunc(fired, func(a, b time.Time) int { return a.Compare(b) }))
	}
	first := make([]time.Time, cfg.N)
	final := make([]time.Time, cfg.N)
	for _, m := range f.dc.Messages() {
		i, ok := byChannel[m.ChannelID]
		if !ok || m.Deleted || m.InteractionID != "" {
			continue
		}
		if first[i].IsZero() || m.Created.Before(first[i]) {
			first[i] = m.Created
		}
		last := m.Created
		if m.Updated.After(last) {
			last = m.Updated
		}
		if last.After(final[i]) {
			final[i] = last
		}
	}
	var firsts, finals []time.Duration
	for i := range cfg.N {
		if !first[i].IsZero() {
			firsts = append(firsts, first[i].Sub(fired[i]))
		}
		if done, ok := f.doneAt(fmt.Sprintf("load %d", i)); ok && !final[i].IsZero() {
			finals = append(finals, max(0, final[i].Sub(done)))
		}
	}
	rep.FirstText, rep.DoneFinal = quantiles(firsts), quantiles(finals)
	return rep
}

// Print writes the report as the README's table rows expect it.
func (r *Report) Print(w io.Writer) {
	global := "off"
	if r.GlobalRate > 0 {
		global = fmt.Sprintf("%d/s", r.GlobalRate)
	}
	front := "plain HTTP/1.1"
	if r.TLS {
		front = "TLS front (HTTP/2)"
	}
	replyAs := cmp.Or(r.ReplyAs, "avatar")
	fmt.Fprintf(w, "loadtest n=%d store=%s global=%s fakes=%s reply_as=%s\n", r.N, r.Store, global, front, replyAs)
	fmt.Fprintf(w, "  cpu per delta      %6.1f µs (bridge %v over %d deltas)\n", us(r.CPUPerDelta), r.CPU, r.N*Deltas)
	fmt.Fprintf(w, "  bare relay         %6.1f µs per delta; bridge/relay = %.2f×\n", us(r.RelayCPUPerDelta), r.Ratio())
	fmt.Fprintf(w, "  bare bot           %6.1f µs per delta; bridge/bare bot = %.2f× (%.2f calls per reply, %d typing; %.1f KiB per reply;\n",
		us(r.BareCPUPerDelta), r.BareRatio(), float64(r.BareCalls)/float64(max(1, r.N)), r.BareTyping, float64(r.BareRSSPerReply)/1024)
	fmt.Fprintf(w, "                     first text p50 %v p99 %v)\n", r.BareFirstText.P50.Round(time.Millisecond), r.BareFirstText.P99.Round(time.Millisecond))
	fmt.Fprintf(w, "  rss per conv       %6.1f KiB (peak %.1f MiB - pre-load %.1f MiB; anonymous %.1f KiB, file-backed %.1f KiB); bare relay %.1f KiB per stream\n",
		float64(r.RSSPerConversation)/1024, float64(r.PeakRSS)/(1<<20), float64(r.PreRSS)/(1<<20),
		float64(r.RSSAnonPerConversation)/1024, float64(r.RSSFilePerConversation)/1024, float64(r.RelayRSSPerStream)/1024)
	fmt.Fprintf(w, "  first text         p50 %v  p99 %v\n", r.FirstText.P50.Round(time.Millisecond), r.FirstText.P99.Round(time.Millisecond))
	fmt.Fprintf(w, "  [DONE]→final       p50 %v  p99 %v\n", r.DoneFinal.P50.Round(time.Millisecond), r.DoneFinal.P99.Round(time.Millisecond))
	fmt.Fprintf(w, "  requests per reply %6.2f (%d typing; %d channel webhooks)\n", float64(r.Requests)/float64(r.N), r.Typing, r.Webhooks)
	inProcess := ""
	if r.Store == "bolt" {
		// bolt decides budgets in memory (store.LocalBudgets): each
		// decision is asked for at once, none is a round trip.
		inProcess = "; on bolt in-process decisions, not round trips"
	}
	fmt.Fprintf(w, "  budget round trips %6.3f per platform call (%d for %d calls; %d woke past their tokens' grace and asked again, %d of them spent late%s)\n",
		r.RoundTripsPerCall(), r.BudgetRoundTrips, r.BudgetCalls, r.BudgetLapsed, r.BudgetLateSpends, inProcess)
	fmt.Fprintf(w, "  store round trips  %6.2f per reply (%d, budgets included)\n", float64(r.StoreRoundTrips)/float64(max(1, r.N)), r.StoreRoundTrips)
	fmt.Fprintf(w, "  429s               %d (the busiest second held %d calls under the global limit at the edge, from %v after the first mention;\n",
		r.Limited429, r.EdgeBusiestSecond, r.EdgeBusiestAfter.Round(100*time.Millisecond))
	fmt.Fprintf(w, "                     %d by their arrival at the fake's handler, after the edge's hop)\n", r.BusiestSecond)
	fmt.Fprintf(w, "                     %d calls held back by the bridge as they left it\n", r.WireHeld)
	routes := slices.Sorted(maps.Keys(r.Limited429By))
	for _, k := range routes {
		fmt.Fprintf(w, "                     %d on %s\n", r.Limited429By[k], k)
	}
	fmt.Fprintf(w, "  exact              %d/%d\n", r.Exact, r.N)
	if r.TLS {
		fmt.Fprintf(w, "  tls front          bridge %d HTTP/2 + %d HTTP/1 requests on %d connections; relay %d + %d on %d\n",
			r.BridgeFront.H2, r.BridgeFront.H1, r.BridgeFront.Conns, r.RelayFront.H2, r.RelayFront.H1, r.RelayFront.Conns)
		fmt.Fprintf(w, "                     whole run: %d HTTP/2 + %d HTTP/1 requests, %d websocket (gateway), %d connections\n",
			r.Front.H2, r.Front.H1, r.Front.WS, r.Front.Conns)
	}
	if len(r.RelayErrors) > 0 {
		fmt.Fprintf(w, "  relay errors       %v\n", r.RelayErrors)
	}
}

func us(d time.Duration) float64 { return float64(d) / float64(time.Microsecond) }

// routeOf is path with its ids (all digits, or a webhook token after
// /webhooks/{id}/) as {id}.
func routeOf(path string) string {
	parts := strings.Split(path, "/")
	for i, p := range parts {
		if p != "" && (strings.Trim(p, "0123456789") == "" || (i >= 3 && parts[i-2] == "webhooks")) {
			parts[i] = "{id}"
		}
	}
	return strings.Join(parts, "/")
}

// busiest returns the most of ts (arrival times) within any one second.
func busiest(ts []time.Time) int {
	most, _ := busiestAt(ts)
	return most
}

// busiestAt returns the most of ts (arrival times) within any one second
// and when the first such second began (zero for no ts). It sorts ts.
func busiestAt(ts []time.Time) (int, time.Time) {
	slices.SortFunc(ts, func(a, b time.Time) int { return a.Compare(b) })
	most, lo := 0, 0
	var at time.Time
	for hi, t := range ts {
		for t.Sub(ts[lo]) >= time.Second {
			lo++
		}
		if hi-lo+1 > most {
			most, at = hi-lo+1, ts[lo]
		}
	}
	return most, at
}
