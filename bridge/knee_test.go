package bridge

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/secondme-bridge/secondme-bridge/platforms"
	"github.com/secondme-bridge/secondme-bridge/platforms/platformtest"
	"github.com/secondme-bridge/secondme-bridge/secondme/secondmetest"
)

// The knee's criteria (see BenchmarkKnee).
const (
	// kneeRate is the least fraction of the offered delta rate a step
	// must read.
	kneeRate = 0.95
	// kneeLag bounds the p99 of the first text's delay (firstDelay).
	kneeLag = 250 * time.Millisecond
	// kneeTries is how many times a step is run before it counts as not
	// holding: once more after a failure, so that a burst of load from
	// the rest of the machine does not end a ramp.
	kneeTries = 2
	// kneeStepTimeout bounds one step, from its first arrival to its last
	// final message.
	kneeStepTimeout = 2 * time.Minute
	// kneeNominal is how long a stream takes from its first delta to its
	// end when read at the offered rate.
	kneeNominal = benchDeltas * benchDeltaGap
	// kneeFirstWait is the fake's own wait before the first delta: one
	// benchDeltaGap before the session event and one before the delta.
	kneeFirstWait = 2 * benchDeltaGap
)

// firstDelay is a first text's delay: from the message (the engine: its
// delivery to the platform fake's handler; the relay: the start of its
// chat request) to the end of the platform call that showed the first
// text, less that call's benchRTT and the fake's kneeFirstWait. It is the
// work of the relay or the engine, and the time its goroutines waited for
// a core, before a reply shows.
func firstDelay(from, shown time.Time) time.Duration {
	return shown.Sub(from) - benchRTT - kneeFirstWait
}

// BenchmarkKnee measures how many concurrent streams one process on this
// machine carries, for a bare relay and for the engine, against the same
// in-process fakes as BenchmarkConversations (secondmetest over loopback
// HTTP streaming benchDeltas deltas at 20 a second per stream, the
// platform fake with its benchRTT per call, and for the engine the store
// openBenchStore opens: Redis, or bolt as the binary opens it with
// SECONDME_BRIDGE_BENCH_STORE=bolt), so that the engine's knee can be
// compared with the bound the cores set.
//
// A step of N streams starts N streams uniformly within benchArrivals and
// lets every one run to its end. The relay reads each stream with net/http
// (lines cut with bufio, each delta's JSON decoded, as the load test's
// bare relay in internal/loadtest does), posts the first text to the
// platform fake when the first delta arrives, and edits that message to
// the whole text when the stream ends: nothing else (no store, no budgets,
// no intermediate updates), the least any bridge must do. The engine is
// the bridge as BenchmarkConversations runs it.
//
// Definition: a step of N streams holds when (1) every stream reaches its
// final message within kneeStepTimeout, (2) the deltas are read at
// kneeRate (95%) of the offered rate or more: N·kneeNominal divided by the
// sum of the streams' times from first delta to end, timed where the
// relay's or the engine's goroutine reads the bytes (streamReads; the fake
// writes on a timer and a reader that falls behind reads late, so a
// saturated machine stretches the streams), and (3) the p99 of the first
// text's delay (firstDelay: message to first text shown, less the platform
// call and the fake's wait before its first delta) is at most kneeLag (250
// ms: far above the tens of milliseconds of an unsaturated step, far below
// the seconds of queues that grow). A step that does not hold is run once
// more (kneeTries), and holds if either run did. The knee is the largest N
// of the ramp at which the step holds, every smaller step having held; a
// mode stops at its first failing step. The relay and the engine run their
// steps alternately (relay N, engine N, relay next N, …), so that both see
// the same load from the rest of the machine.
//
// SECONDME_BRIDGE_BENCH_KNEE="1000,1250,1500,…" sets the ramp. Without it
// (CI) one step runs at the smallest SECONDME_BRIDGE_BENCH_CONVS size, so
// that both paths keep running; the knee is then only bounded below by it.
// SECONDME_BRIDGE_BENCH_KNEE_MODE=relay (or engine) runs that mode alone,
// to profile it at its knee (-cpuprofile, -trace).
//
// Printed, one line per step starting with "knee:": the read rate, the
// first text's delay p50 and p99, the scheduling latency p99, the cores
// used and the load average. Reported: relay-knee-streams, engine-knee-
// streams and engine/relay (the target: 0.8 or more), and the cores each
// used at its knee. Each run is one whole ramp; repeat with separate
// -count 1 invocations, since a ramp prints its steps as it goes and with
// -count 2 the second run's result line loses its name to them.
func BenchmarkKnee(b *testing.B) {
	steps := kneeSteps(b)
	for range b.N {
		kneeRamp(b, steps)
	}
}

// kneeRamp runs the ramp once (both modes, or the one asked for) and
// reports the knees.
func kneeRamp(b *testing.B, steps []int) {
	modes := []struct {
		name string
		run  func(*testing.B, int) kneeResult
		// label names the mode on its lines: the engine's, with its store.
		label string
	}{
		{"relay", runRelayStep, "relay"},
		{"engine", runEngineStep, "engine on " + benchStoreName()},
	}
	knees := make([]int, len(modes))
	held := make([]kneeResult, len(modes)) // each mode's step at its knee
	alive := []bool{true, true}
	only := os.Getenv("SECONDME_BRIDGE_BENCH_KNEE_MODE")
	for _, n := range steps {
		for i, m := range modes {
			if !alive[i] || only != "" && only != m.name {
				continue
			}
			r := m.run(b, n)
			r.log(m.label)
			for try := 1; !r.holds() && try < kneeTries; try++ {
				r = m.run(b, n)
				r.log(m.label)
			}
			if !r.holds() {
				alive[i] = false
				continue
			}
			knees[i], held[i] = n, r
		}
	}
	relay, engine := knees[0], knees[1]
	b.ReportMetric(float64(relay), "relay-knee-streams")
	b.ReportMetric(float64(engine), "engine-knee-streams")
	if relay > 0 {
		b.ReportMetric(float64(engine)/float64(relay), "engine/relay")
	}
	// 1 when a mode held at the ramp's last step: its knee is only
	// bounded below.
	b.ReportMetric(boolMetric(alive[0]), "relay-at-ramp-top")
	b.ReportMetric(boolMetric(alive[1]), "engine-at-ramp-top")
	// The cores each used at its knee.
	b.ReportMetric(held[0].cores, "relay-cores-at-knee")
	b.ReportMetric(held[1].cores, "engine-cores-at-knee")
	b.Logf("ramp %v: relay knee %d, engine knee %d on %s (load average %s)", steps, relay, engine, benchStoreName(), loadAverage())
}

func boolMetric(v bool) float64 {
	if v {
		return 1
	}
	return 0
}

// kneeSteps returns the ramp: SECONDME_BRIDGE_BENCH_KNEE, or the smallest
// benchmark size alone.
func kneeSteps(b *testing.B) []int {
	spec := os.Getenv("SECONDME_BRIDGE_BENCH_KNEE")
	if spec == "" {
		return []int{slices.Min(benchSizes(b))}
	}
	var out []int
	for _, f := range strings.Split(spec, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n <= 0 || n > benchMaxConns {
			b.Fatalf("SECONDME_BRIDGE_BENCH_KNEE: bad step %q (1 to %d streams)", f, benchMaxConns)
		}
		out = append(out, n)
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// kneeResult is one step's outcome.
type kneeResult struct {
	n         int
	finished  int
	streaming []time.Duration // per stream read to its end: first delta to end (streamReads)
	first     []time.Duration // per stream: firstDelay
	sched     time.Duration   // scheduling latency p99 over the step
	cores     float64         // CPU time of the process over wall time
	wall      time.Duration
	load      string // load average at the step's start
}

// rate is the fraction of the offered delta rate read.
func (r kneeResult) rate() float64 {
	var sum time.Duration
	for _, d := range r.streaming {
		sum += d
	}
	if sum <= 0 {
		return 0
	}
	return float64(len(r.streaming)) * float64(kneeNominal) / float64(sum)
}

func (r kneeResult) holds() bool {
	return r.finished == r.n && r.rate() >= kneeRate && percentile(r.first, 99) <= kneeLag
}

// log prints the step on the benchmark's output, one line starting with
// "knee:" (b.Logf would keep the first lines of a ramp only).
func (r kneeResult) log(mode string) {
	ms := func(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
	fmt.Printf("knee: %s n=%d holds=%v: %d finished, read %.1f%% of the offered rate, first text delay p50/p99 %.2f/%.2f ms, scheduling latency p99 %.2f ms, %.2f cores, %.1f s; load average at start %s, at end %s\n",
		mode, r.n, r.holds(), r.finished, 100*r.rate(), ms(percentile(r.first, 50)), ms(percentile(r.first, 99)), ms(r.sched), r.cores, r.wall.Seconds(), r.load, loadAverage())
}

// measure runs one step: setup is done, run starts the n streams at start
// and returns when they all ended or the step timed out.
func measure(n int, run func(start time.Time)) kneeResult {
	runtime.GC()
	r := kneeResult{n: n, load: loadAverage()}
	sched := startSchedLatency()
	var ru0, ru1 syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru0)
	start := time.Now()
	run(start)
	r.wall = time.Since(start)
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru1)
	cpu := time.Duration(ru1.Utime.Nano() + ru1.Stime.Nano() - ru0.Utime.Nano() - ru0.Stime.Nano())
	r.cores = cpu.Seconds() / r.wall.Seconds()
	r.sched, _ = sched.percentile(99)
	return r
}

// runEngineStep runs n conversations through the engine.
func runEngineStep(b *testing.B, n int) kneeResult {
	b.StopTimer()
	reads := newStreamReads()
	rig := newEngineRig(b, n, reads.wrap)
	defer rig.stop()
	b.StartTimer()
	var delivered []time.Time
	r := measure(n, func(start time.Time) {
		delivered = rig.deliver(b, n, start)
		select {
		case <-rig.obs.all:
		case <-time.After(time.Until(start.Add(kneeStepTimeout))):
		}
	})
	b.StopTimer()
	r.finished = int(rig.obs.finished.Load())
	r.streaming = reads.snapshot()
	// The first text of conversation i is the first send to its channel
	// c<i> (the platform records a call when it returns).
	shown := map[platforms.ChannelID]time.Time{}
	for _, c := range rig.p.CallsOf(platformtest.CallSend) {
		if _, ok := shown[c.Target.Channel]; !ok && c.Err == nil {
			shown[c.Target.Channel] = c.At
		}
	}
	for i, at := range delivered {
		if t, ok := shown[platforms.ChannelID("c"+strconv.Itoa(i))]; ok {
			r.first = append(r.first, firstDelay(at, t))
		}
	}
	return r
}

// relayStream is what the relay measured of one stream.
type relayStream struct {
	first time.Duration
	ok    bool
}

// runRelayStep runs n streams through the bare relay.
func runRelayStep(b *testing.B, n int) kneeResult {
	b.StopTimer()
	sm := startBenchSecondMe(b)
	defer sm.Close()
	hc := benchHTTPClient(n)
	defer hc.Transport.(*http.Transport).CloseIdleConnections()
	reads := newStreamReads()
	hc.Transport = reads.wrap(hc.Transport)
	p, _ := newBenchPlatform(n)
	plat := p.As()
	editor := platforms.ResolveCaps(plat).Editor
	if editor == nil {
		b.Fatal("the platform fake edits no messages")
	}
	tokens := make([]string, n)
	for i := range tokens {
		tokens[i] = sm.IssueToken("sm-u" + strconv.Itoa(i)).AccessToken
	}
	url := sm.URL + secondmetest.PathChatStream
	out := make([]relayStream, n)
	var errOnce sync.Once
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	b.StartTimer()
	r := measure(n, func(start time.Time) {
		stepCtx, stop := context.WithDeadline(ctx, start.Add(kneeStepTimeout))
		defer stop()
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() {
				if d := time.Until(start.Add(benchArrivals * time.Duration(i) / time.Duration(n))); d > 0 {
					time.Sleep(d)
				}
				to := platforms.Target{Channel: platforms.ChannelID("c" + strconv.Itoa(i))}
				s, err := relayOne(stepCtx, hc, url, tokens[i], plat, editor, to)
				if err != nil {
					errOnce.Do(func() { b.Logf("relay stream %d: %v", i, err) })
					return
				}
				out[i] = s
			})
		}
		wg.Wait()
	})
	b.StopTimer()
	for _, s := range out {
		if !s.ok {
			continue
		}
		r.finished++
		r.first = append(r.first, s.first)
	}
	r.streaming = reads.snapshot()
	return r
}

// relayOne is the bare relay of one stream: ask for the reply, post its
// first text when the first delta arrives, and edit that message to the
// whole text when the stream ends.
func relayOne(ctx context.Context, hc *http.Client, url, token string, plat platforms.Platform, editor platforms.Editor, to platforms.Target) (relayStream, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, strings.NewReader(`{"message":"tell me something"}`))
	if err != nil {
		return relayStream{}, err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "text/event-stream")
	asked := time.Now()
	resp, err := hc.Do(req)
	if err != nil {
		return relayStream{}, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return relayStream{}, fmt.Errorf("chat stream: %s", resp.Status)
	}
	var (
		s          relayStream
		text       []byte
		ref        platforms.MessageRef
		firstDelta time.Time
	)
	rd := bufio.NewReaderSize(resp.Body, 4096)
	for {
		line, err := rd.ReadSlice('\n')
		if err != nil {
			return s, fmt.Errorf("read stream: %w", err)
		}
		data, ok := bytes.CutPrefix(bytes.TrimRight(line, "\r\n"), []byte("data: "))
		if !ok {
			continue
		}
		if string(data) == "[DONE]" {
			break
		}
		delta, ok := secondmetest.DeltaContent(data)
		if !ok {
			continue
		}
		text = append(text, delta...)
		if !firstDelta.IsZero() {
			continue
		}
		firstDelta = time.Now()
		if ref, err = plat.Send(ctx, to, platforms.Message{Text: string(text)}); err != nil {
			return s, fmt.Errorf("send first text: %w", err)
		}
		s.first = firstDelay(asked, time.Now())
	}
	if firstDelta.IsZero() {
		return s, fmt.Errorf("stream ended without text")
	}
	if _, err := editor.Edit(ctx, ref, platforms.Message{Text: string(text)}); err != nil {
		return s, fmt.Errorf("final edit: %w", err)
	}
	s.ok = true
	return s, nil
}

// streamReads times, at the reader, every benchmark stream read through
// its transport: from the read that returned the first delta's bytes to
// the read that returned the stream's last byte. The relay and the engine
// are measured alike, where their goroutines get the bytes.
type streamReads struct {
	session, total int // the session event's bytes; the stream's bytes
	mu             sync.Mutex
	spans          []time.Duration
}

func newStreamReads() *streamReads {
	body, lineLen := benchStreamBody()
	return &streamReads{session: lineLen, total: len(body)}
}

// wrap returns rt with the chat streams' bodies timed.
func (s *streamReads) wrap(rt http.RoundTripper) http.RoundTripper {
	return roundTripFunc(func(req *http.Request) (*http.Response, error) {
		resp, err := rt.RoundTrip(req)
		if err == nil && req.URL.Path == secondmetest.PathChatStream && resp.StatusCode == http.StatusOK {
			resp.Body = &timedBody{ReadCloser: resp.Body, s: s}
		}
		return resp, err
	})
}

func (s *streamReads) snapshot() []time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.spans)
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(req *http.Request) (*http.Response, error) { return f(req) }

type timedBody struct {
	io.ReadCloser
	s     *streamReads
	n     int
	first time.Time
	done  bool
}

func (t *timedBody) Read(p []byte) (int, error) {
	n, err := t.ReadCloser.Read(p)
	if n == 0 || t.done {
		return n, err
	}
	t.n += n
	now := time.Now()
	if t.first.IsZero() && t.n > t.s.session {
		t.first = now
	}
	if t.n >= t.s.total {
		t.done = true
		t.s.mu.Lock()
		t.s.spans = append(t.s.spans, now.Sub(t.first))
		t.s.mu.Unlock()
	}
	return n, err
}
