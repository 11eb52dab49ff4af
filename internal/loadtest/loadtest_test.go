package loadtest

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/secondme-bridge/secondme-bridge/store/storetest"
)

func TestMain(m *testing.M) {
	MaybeRelay()
	MaybeBareBot()
	MaybeEdge()
	os.Exit(m.Run())
}

// buildBridge builds cmd/secondme-bridge into a temporary directory.
func buildBridge(t *testing.T) string {
	t.Helper()
	root, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		t.Fatalf("go env GOMOD: %v", err)
	}
	bin := filepath.Join(t.TempDir(), "secondme-bridge")
	cmd := exec.Command("go", "build", "-o", bin, "./cmd/secondme-bridge")
	cmd.Dir = filepath.Dir(strings.TrimSpace(string(root)))
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build the bridge: %v\n%s", err, out)
	}
	return bin
}

// TestLoadSmall is the CI size of the load test: 20 conversations on bolt
// with a 50/s global limit, then on Redis without. Every reply must be
// exact and every figure must have been measured; without the global limit
// no 429 may be answered (the bridge keeps the per-channel budgets). With
// it, a 429 is logged and judged in the README's runs (a shared CI
// machine can delay calls on their way to the edge). Every run's calls
// go through the fake Discord's edge, which stamps them.
// The figures themselves are judged in the README's runs, not here (a
// shared CI machine is too noisy for thresholds).
func TestLoadSmall(t *testing.T) {
	if testing.Short() {
		t.Skip("load test: skipped with -short")
	}
	bin := buildBridge(t)
	for _, c := range []Config{
		{N: 20, Store: "bolt", GlobalRate: 50, Snapshot: filepath.Join(t.TempDir(), "snap"), SnapshotAfter: 200 * time.Millisecond},
		{N: 20, Store: "redis", RedisURL: storetest.RedisURL(), ReplyAs: "bot"},
		{N: 20, Store: "bolt", TLS: true},
	} {
		name := c.Store
		if c.TLS {
			name += "/tls"
		}
		t.Run(name, func(t *testing.T) {
			if c.Store == "redis" {
				storetest.RequireRedis(t)
			}
			c.Binary, c.Timeout = bin, 2*time.Minute
			rep, err := Run(t.Context(), c)
			if err != nil {
				t.Fatal(err)
			}
			var b strings.Builder
			rep.Print(&b)
			t.Log("\n" + b.String())
			if rep.Exact != c.N {
				t.Errorf("%d of %d replies exact", rep.Exact, c.N)
			}
			if c.GlobalRate == 0 && rep.Limited429 != 0 {
				t.Errorf("%d 429s answered, want none", rep.Limited429)
			}
			if rep.CPU <= 0 || rep.RelayCPUPerDelta <= 0 || rep.PeakRSS <= 0 || rep.PreRSS <= 0 ||
				rep.RelayPreRSS <= 0 || rep.RelayPeakRSS < rep.RelayPreRSS || rep.StoreRoundTrips <= 0 {
				t.Errorf("a figure was not measured: %+v", rep)
			}
			// The bare bot (same run) answered every mention exactly
			// and without a failed call (Run fails otherwise), showing
			// typing once and sending a first text and a final edit at
			// least.
			if rep.BareCPUPerDelta <= 0 || rep.BareTyping != c.N || rep.BareCalls < 3*c.N || rep.BareRatio() <= 0 ||
				rep.BareFirstText.P50 <= 0 || rep.BareFirstText.P99 < rep.BareFirstText.P50 {
				t.Errorf("bare bot: %v per delta, %d typing, %d calls, first text %+v", rep.BareCPUPerDelta, rep.BareTyping, rep.BareCalls, rep.BareFirstText)
			}
			if c.Snapshot != "" {
				checkSnapshot(t, c.Snapshot)
			}
			// Behind the TLS front, the bridge and the relay speak HTTP/2
			// (net/http's ALPN), and only it; the gateway is a websocket
			// through the front too.
			if c.TLS && (rep.BridgeFront.H2 == 0 || rep.BridgeFront.H1 != 0 || rep.RelayFront.H2 == 0 || rep.RelayFront.H1 != 0 ||
				rep.Front.H1 != 0 || rep.Front.WS == 0) {
				t.Errorf("tls front: bridge %+v, relay %+v, run %+v: want HTTP/2 requests only and the gateway through it", rep.BridgeFront, rep.RelayFront, rep.Front)
			}
			// The avatar (the default) answers through one webhook per
			// channel; the bot through none.
			if wantHooks := map[string]int{"": c.N, "avatar": c.N, "bot": 0}[c.ReplyAs]; rep.Webhooks != wantHooks {
				t.Errorf("reply_as %q: %d channel webhooks, want %d", c.ReplyAs, rep.Webhooks, wantHooks)
			}
			if rep.EdgeBusiestSecond == 0 {
				t.Errorf("no call was stamped by the edge: %+v", rep)
			}
			if rep.FirstText.P50 <= 0 || rep.DoneFinal.P99 < rep.DoneFinal.P50 || rep.Requests < 2*c.N {
				t.Errorf("timings or requests not measured: %+v", rep)
			}
		})
	}
}

// checkSnapshot checks that a run's snapshot saved the bridge's heap
// profile, goroutine dump and metrics.
func checkSnapshot(t *testing.T, prefix string) {
	t.Helper()
	for ext, want := range map[string]string{".goroutines": "goroutine profile: total", ".metrics": "go_memstats_stack_inuse_bytes"} {
		b, err := os.ReadFile(prefix + ext)
		if err != nil || !strings.Contains(string(b), want) {
			t.Errorf("snapshot %s: %v, %d bytes without %q", ext, err, len(b), want)
		}
	}
	if fi, err := os.Stat(prefix + ".heap"); err != nil || fi.Size() == 0 {
		t.Errorf("snapshot .heap: %v", err)
	}
}

func TestRouteOf(t *testing.T) {
	t.Parallel()
	for path, want := range map[string]string{
		"/channels/123/messages":           "/channels/{id}/messages",
		"/channels/123/messages/456":       "/channels/{id}/messages/{id}",
		"/webhooks/77/tok-en_x/messages/9": "/webhooks/{id}/{id}/messages/{id}",
		"/channels/123/typing":             "/channels/{id}/typing",
		"/gateway/bot":                     "/gateway/bot",
	} {
		if got := routeOf(path); got != want {
			t.Errorf("routeOf(%q) = %q, want %q", path, got, want)
		}
	}
}

func TestBusiest(t *testing.T) {
	t.Parallel()
	t0 := time.Unix(100, 0)
	at := func(ms ...int) []time.Time {
		var ts []time.Time
		for _, m := range ms {
			ts = append(ts, t0.Add(time.Duration(m)*time.Millisecond))
		}
		return ts
	}
	for _, c := range []struct {
		ts   []time.Time
		want int
		from int // ms after t0 when the first busiest second began; -1: none
	}{
		{nil, 0, -1},
		{at(0), 1, 0},
		{at(0, 999, 1000, 1999), 2, 0},
		{at(1500, 0, 400, 900, 1300), 3, 0}, // unsorted; 0, 400, 900 first (then 400..1300, 900..1500)
		{at(0, 100, 200, 300, 1100), 4, 0},
		{at(0, 2000, 2100, 2200), 3, 2000},
	} {
		got, from := busiestAt(c.ts)
		if got != c.want {
			t.Errorf("busiestAt(%v) = %d, want %d", c.ts, got, c.want)
		}
		if wantFrom := t0.Add(time.Duration(c.from) * time.Millisecond); (c.from < 0 && !from.IsZero()) || (c.from >= 0 && !from.Equal(wantFrom)) {
			t.Errorf("busiestAt(%v) from %v, want %d ms after t0", c.ts, from, c.from)
		}
		if b := busiest(c.ts); b != c.want {
			t.Errorf("busiest(%v) = %d, want %d", c.ts, b, c.want)
		}
	}
}

// TestEachDelta: the relay's and the bare bot's stream reader passes the
// deltas in order, skips what is not a delta, stops at [DONE] and at the
// first error of its callback, and fails a stream that ends without
// [DONE].
func TestEachDelta(t *testing.T) {
	t.Parallel()
	stopped := errors.New("stopped")
	for name, c := range map[string]struct {
		stream  string
		stopAt  int // the callback fails at this delta (1-based); 0: never
		want    []string
		wantErr string
	}{
		"ordinary":              {stream: "event: session\ndata: {\"sessionId\":\"s\"}\n\ndata: {\"choices\":[{\"delta\":{\"content\":\"a\"}}]}\n\ndata: {\"choices\":[{\"delta\":{\"content\":\"b\"}}]}\n\ndata: [DONE]\n\n", want: []string{"a", "b"}},
		"hostile lines skipped": {stream: "data: {not json\ndata: {\"choices\":[]}\n: comment\ndata:[DONE]\ndata: {\"choices\":[{\"delta\":{\"content\":\"x\"}}]}\ndata: [DONE]\ndata: {\"choices\":[{\"delta\":{\"content\":\"after\"}}]}\n", want: []string{"x"}},
		"no [DONE]":             {stream: "data: {\"choices\":[{\"delta\":{\"content\":\"a\"}}]}\n", want: []string{"a"}, wantErr: "without [DONE]"},
		"empty":                 {stream: "", wantErr: "without [DONE]"},
		"callback fails":        {stream: "data: {\"choices\":[{\"delta\":{\"content\":\"a\"}}]}\ndata: {\"choices\":[{\"delta\":{\"content\":\"b\"}}]}\ndata: [DONE]\n", stopAt: 1, want: []string{"a"}, wantErr: "stopped"},
		"line too long":         {stream: "data: " + strings.Repeat("x", 70000) + "\ndata: [DONE]\n", wantErr: "too long"},
	} {
		var got []string
		err := eachDelta(strings.NewReader(c.stream), func(d string) error {
			got = append(got, d)
			if len(got) == c.stopAt {
				return stopped
			}
			return nil
		})
		if (err == nil) != (c.wantErr == "") || (err != nil && !strings.Contains(err.Error(), c.wantErr)) {
			t.Errorf("%s: error %v, want %q", name, err, c.wantErr)
		}
		if strings.Join(got, "|") != strings.Join(c.want, "|") {
			t.Errorf("%s: deltas %q, want %q", name, got, c.want)
		}
	}
}
