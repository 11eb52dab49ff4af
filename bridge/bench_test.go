package bridge

import (
	"context"
	"fmt"
	"math"
	"net/http"
	"os"
	"runtime"
	"runtime/pprof"
	"runtime/trace"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/secondme-bridge/secondme-bridge/bridge/budget"
	"github.com/secondme-bridge/secondme-bridge/bridge/linking"
	"github.com/secondme-bridge/secondme-bridge/bridge/render"
	"github.com/secondme-bridge/secondme-bridge/platforms"
	"github.com/secondme-bridge/secondme-bridge/platforms/platformtest"
	"github.com/secondme-bridge/secondme-bridge/secondme"
	"github.com/secondme-bridge/secondme-bridge/secondme/secondmetest"
	"github.com/secondme-bridge/secondme-bridge/store"
	"github.com/secondme-bridge/secondme-bridge/store/storetest"
)

// Benchmark workload: every conversation gets one message, answered by a
// stream of benchDeltas deltas, one every benchDeltaGap, through a
// Discord-like platform (2,000-character messages, edits, typing) whose
// every call takes benchRTT, with the default 1 s edit interval.
const (
	benchDeltas   = 200
	benchDeltaGap = 50 * time.Millisecond
	benchRTT      = 10 * time.Millisecond
	benchInterval = time.Second
	// benchArrivals is the window over which the N messages arrive
	// (uniformly): N conversations start within it and then stream
	// concurrently for benchDeltas×benchDeltaGap.
	benchArrivals = 2 * time.Second
	// benchMaxConns caps the loopback connections to the fake SecondMe:
	// each stream holds two file descriptors in this one process (client
	// and server side), and the container's hard limit is 20,000.
	benchMaxConns = 9000
)

// benchSizes are the conversation counts to run:
// SECONDME_BRIDGE_BENCH_CONVS="1000,2500,5000,10000" overrides the default.
func benchSizes(b *testing.B) []int {
	spec := os.Getenv("SECONDME_BRIDGE_BENCH_CONVS")
	if spec == "" {
		return []int{1000, 10000}
	}
	var out []int
	for _, f := range strings.Split(spec, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n <= 0 {
			b.Fatalf("SECONDME_BRIDGE_BENCH_CONVS: bad size %q", f)
		}
		out = append(out, n)
	}
	return out
}

// BenchmarkConversations streams one reply in each of N concurrent
// conversations, with platformtest, secondmetest (over loopback HTTP) and
// the Redis store, and reports the bridge's own latencies, memory per
// stream, updates per reply, budget violations and store round trips.
func BenchmarkConversations(b *testing.B) {
	for _, n := range benchSizes(b) {
		b.Run("convs="+strconv.Itoa(n), func(b *testing.B) {
			for range b.N {
				benchConversations(b, n)
			}
		})
	}
}

// budgetChecker replays every budgeted platform call against its own token
// buckets and counts calls made while a bucket was empty. Its buckets
// refill at least as fast as the store's (the store's also lose the tokens
// of skipped updates), so a violation here is a real one.
type budgetChecker struct {
	budgets    func(platforms.MessageRef) []platforms.Budget
	mu         sync.Mutex
	buckets    map[string]*checkBucket
	violations atomic.Int64
}

type checkBucket struct {
	tokens float64
	at     time.Time
}

func (c *budgetChecker) hook(call platformtest.Call) error {
	var ref platforms.MessageRef
	switch call.Kind {
	case platformtest.CallSend, platformtest.CallStartStream:
		ref = platforms.MessageRef{Channel: call.Target.Channel}
	case platformtest.CallEdit, platformtest.CallAppendStream, platformtest.CallStopStream:
		ref = call.Ref
	default:
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	// Read under the lock: concurrent calls (replies sharing a budget) are
	// then replayed in the order of their times, never refilling a bucket
	// backwards (a false violation at the tolerance below).
	now := time.Now()
	for _, bu := range c.budgets(ref) {
		bk := c.buckets[bu.Key]
		if bk == nil {
			bk = &checkBucket{tokens: float64(bu.Burst), at: now}
			c.buckets[bu.Key] = bk
		}
		bk.tokens = math.Min(float64(bu.Burst), bk.tokens+now.Sub(bk.at).Seconds()*bu.Rate)
		bk.at = now
		// A tolerance of a thousandth of a token, for the two clocks
		// (Redis TIME vs ours) and rounding.
		if bk.tokens < 1-0.001 {
			c.violations.Add(1)
			continue
		}
		bk.tokens--
	}
	return nil
}

// benchObserver collects the renderer's timings and counts finished
// replies.
type benchObserver struct {
	collector
	finished atomic.Int64
	all      chan struct{}
	n        int64
}

// Update also logs each intermediate update's code path (lag minus the
// wake-up part, in ns) to the execution trace when one is taken (go test
// -trace), so that the flusher goroutine's states during it can be
// decomposed (running, runnable, waiting and why) from the trace.
func (o *benchObserver) Update(u render.UpdateTiming) {
	o.collector.Update(u)
	if !u.First && trace.IsEnabled() {
		trace.Log(context.Background(), "code", strconv.FormatInt(int64(u.Lag-u.Wake), 10))
	}
}

func (o *benchObserver) ReplyDone(s render.ReplyStats) {
	o.collector.ReplyDone(s)
	if o.finished.Add(1) == o.n {
		close(o.all)
	}
}

func benchRedisURL() string {
	u := storetest.RedisURL()
	if !strings.Contains(u, "pool_size") {
		sep := "?"
		if strings.Contains(u, "?") {
			sep = "&"
		}
		u += sep + "pool_size=64"
	}
	return u
}

// engineRig is the engine benchmark's setup, running: the bridge on the
// Redis store (countingStore), secondmetest streaming the benchmark's
// reply, and the platform fake with its budget checker.
type engineRig struct {
	st      *countingStore
	sm      *secondmetest.Server
	p       *platformtest.Platform
	checker *budgetChecker
	br      *Bridge
	obs     *benchObserver
	stop    func() // stops the bridge and closes the fake SecondMe
}

// benchStreamBody is the stream of every reply, rendered once (Raw) so
// that the fake server does not marshal JSON for every delta of every
// stream (its allocations would dominate the process's GC work), with
// lines of equal length written one per ChunkSize write (the fake's
// per-line splitting is quadratic on a long raw body): a session event,
// benchDeltas deltas and [DONE].
func benchStreamBody() (body string, lineLen int) {
	line := func(i int) string {
		return fmt.Sprintf("data: {\"choices\":[{\"delta\":{\"content\":\"word%d \"}}]}\n", i%10)
	}
	lineLen = len(line(0))
	session := "event: session\ndata: {\"sessionId\":\"sb\"}\n"
	session = session[:len(session)-2] + strings.Repeat(" ", lineLen-len(session)) + "}\n"
	var raw strings.Builder
	raw.WriteString(session)
	for i := range benchDeltas {
		raw.WriteString(line(i))
	}
	raw.WriteString("data: [DONE]\n")
	return raw.String(), lineLen
}

// startBenchSecondMe starts a fake SecondMe that answers every chat with
// benchStreamBody, one line every benchDeltaGap. The caller closes it.
func startBenchSecondMe(b *testing.B) *secondmetest.Server {
	b.Helper()
	sm, err := secondmetest.Start(secondmetest.Options{})
	if err != nil {
		b.Fatal(err)
	}
	body, lineLen := benchStreamBody()
	sm.SetStreamHandler(func(secondmetest.ChatCall) secondmetest.Script {
		return secondmetest.Script{Raw: body, ChunkSize: lineLen, Delay: benchDeltaGap}
	})
	return sm
}

// benchHTTPClient is the production transport (secondme.NewTransport),
// with an idle connection for every one of n streams.
func benchHTTPClient(n int) *http.Client {
	tr := secondme.NewTransport(n)
	tr.MaxConnsPerHost = benchMaxConns
	return &http.Client{Transport: tr}
}

// newBenchPlatform returns the benchmark's platform fake, sized for n
// conversations, and the checker replaying its budgeted calls.
func newBenchPlatform(n int) (*platformtest.Platform, *budgetChecker) {
	checker := &budgetChecker{buckets: map[string]*checkBucket{}}
	checker.budgets = func(ref platforms.MessageRef) []platforms.Budget {
		return []platforms.Budget{
			{Key: string("channel:" + ref.Channel), Rate: 1, Burst: 5}, // Discord's ~5 per 5 s per channel
			{Key: "bot", Rate: 2 * float64(n), Burst: n},               // a bot budget sized for the load
		}
	}
	p := platformtest.New(platformtest.Options{
		Name:     testPlatform,
		Limits:   platforms.Limits{MaxMessageChars: 2000, TypingInterval: 8 * time.Second},
		NoStream: true,
		Latency:  benchRTT,
		Budgets:  checker.budgets,
		Hook:     checker.hook,
	})
	return p, checker
}

// newEngineRig sets up and starts the engine for n conversations (their
// users linked) and waits until its platform is ready. wrap, if any, wraps
// the transport to the fake SecondMe.
func newEngineRig(b *testing.B, n int, wrap ...func(http.RoundTripper) http.RoundTripper) *engineRig {
	b.Helper()
	ctx := context.Background()
	st := &countingStore{Store: openBenchStore(b)}
	sm := startBenchSecondMe(b)
	hc := benchHTTPClient(n)
	for _, w := range wrap {
		hc.Transport = w(hc.Transport)
	}
	client := sm.Client(secondme.WithHTTPClient(hc))
	p, checker := newBenchPlatform(n)
	linker, err := linking.New(linking.LinkerConfig{PublicURL: "http://127.0.0.1:9", Store: st, SecondMe: client, Owner: "bench"})
	if err != nil {
		sm.Close()
		b.Fatal(err)
	}
	obs := &benchObserver{all: make(chan struct{}), n: int64(n)}
	br, err := newObserved(Config{
		Store: st, SecondMe: client, Linker: linker, InstanceID: "bench", AppID: testAppID,
		EditInterval: benchInterval,
	}, obs)
	if err != nil {
		sm.Close()
		b.Fatal(err)
	}
	if err := br.AddPlatform(p.As()); err != nil {
		sm.Close()
		b.Fatal(err)
	}
	linkUsers(b, sm, st, n)

	runCtx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- br.Run(runCtx) }()
	rig := &engineRig{st: st, sm: sm, p: p, checker: checker, br: br, obs: obs, stop: func() {
		cancel()
		<-done
		sm.Close()
	}}
	if err := p.WaitReady(ctx); err != nil {
		rig.stop()
		b.Fatal(err)
	}
	return rig
}

// deliver delivers one message to each of n conversations, uniformly
// within benchArrivals from start, and returns when all are delivered,
// with the moment each delivery began.
func (r *engineRig) deliver(b *testing.B, n int, start time.Time) []time.Time {
	ctx := context.Background()
	at := make([]time.Time, n)
	var wg sync.WaitGroup
	const feeders = 8
	for f := range feeders {
		wg.Go(func() {
			for i := f; i < n; i += feeders {
				if d := time.Until(start.Add(benchArrivals * time.Duration(i) / time.Duration(n))); d > 0 {
					time.Sleep(d)
				}
				ev := platforms.Event{
					Kind:         platforms.EventMessage,
					DedupeIDs:    []string{"msg:" + strconv.Itoa(i)},
					User:         platforms.User{ID: platforms.UserID("u" + strconv.Itoa(i))},
					Channel:      platforms.ChannelID("c" + strconv.Itoa(i)),
					Text:         "tell me something",
					MessageID:    platforms.MessageID("m" + strconv.Itoa(i)),
					Addressed:    true,
					HumanTrigger: true,
				}
				at[i] = time.Now()
				if err := r.p.Deliver(ctx, ev); err != nil {
					b.Error(err)
				}
			}
		})
	}
	wg.Wait()
	return at
}

func benchConversations(b *testing.B, n int) {
	b.StopTimer()
	rig := newEngineRig(b, n)
	defer rig.stop()
	st, br, obs, checker := rig.st, rig.br, rig.obs, rig.checker
	st.reset()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	baseHeap := ms.HeapAlloc

	// Measure the live heap once the number of active streams reached its
	// plateau (no growth for a second): one forced GC, so that the figure
	// is retained memory, not garbage.
	var peakActive int64
	var liveHeap uint64
	stopSampling := make(chan struct{})
	sampled := make(chan struct{})
	go func() {
		defer close(sampled)
		t := time.NewTicker(100 * time.Millisecond)
		defer t.Stop()
		var grewAt time.Time
		for {
			select {
			case <-stopSampling:
				return
			case <-t.C:
			}
			active := br.active.Load()
			if active > peakActive {
				peakActive, grewAt = active, time.Now()
				continue
			}
			if peakActive == 0 || time.Since(grewAt) < time.Second {
				continue
			}
			runtime.GC()
			var ms runtime.MemStats
			runtime.ReadMemStats(&ms)
			peakActive, liveHeap = max(br.active.Load(), 1), ms.HeapAlloc
			if path := os.Getenv("SECONDME_BRIDGE_BENCH_HEAPPROFILE"); path != "" {
				writeHeapProfile(b, path)
			}
			return
		}
	}()

	var ru0 syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru0)
	var gc0 runtime.MemStats
	runtime.ReadMemStats(&gc0)
	// A probe goroutine that only sleeps on a timer: its overshoot is the
	// process's scheduling latency, the floor under the update lag.
	probeStop := make(chan struct{})
	var probe []time.Duration
	probeDone := make(chan struct{})
	go func() {
		defer close(probeDone)
		t := time.NewTimer(time.Hour)
		for {
			want := time.Now().Add(7 * time.Millisecond)
			t.Reset(7 * time.Millisecond)
			select {
			case <-probeStop:
				return
			case <-t.C:
			}
			probe = append(probe, time.Since(want))
		}
	}()
	sched := startSchedLatency()
	load := loadAverage()
	aheadOff := sampleReserveAhead(br, checker.budgets(platforms.MessageRef{Channel: "c0"}))
	b.StartTimer()
	start := time.Now()
	rig.deliver(b, n, start)
	select {
	case <-obs.all:
	case <-time.After(3 * time.Minute):
		b.Fatalf("only %d of %d replies finished", obs.finished.Load(), n)
	}
	elapsed := time.Since(start)
	b.StopTimer()
	var ru1 syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru1)
	var gc1 runtime.MemStats
	runtime.ReadMemStats(&gc1)
	cpu := time.Duration(ru1.Utime.Nano() + ru1.Stime.Nano() - ru0.Utime.Nano() - ru0.Stime.Nano())
	var maxPause time.Duration
	for i := gc0.NumGC; i < gc1.NumGC && i < gc0.NumGC+256; i++ {
		maxPause = max(maxPause, time.Duration(gc1.PauseNs[(i+255)%256]))
	}
	close(stopSampling)
	<-sampled
	offShare := aheadOff()
	close(probeStop)
	<-probeDone

	waitIdle(b, br)

	first, lags, replies := obs.stats()
	over, sumUpdates, sumExpected, sumSkipped := 0, 0, 0, 0
	for _, r := range replies {
		expected := int(math.Ceil(float64(r.Streaming)/float64(benchInterval))) + 1
		sumUpdates += r.Updates
		sumExpected += expected
		sumSkipped += r.Skipped
		if r.Updates > expected+1 || r.Updates < expected-1 {
			over++
		}
	}
	counts := st.snapshot()
	var total int64
	for _, c := range counts {
		total += c
	}
	takes := counts["Take"] + counts["Reserve"] + counts["Lease"] + counts["Return"]
	ms2 := func(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
	b.ReportMetric(ms2(percentile(lags, 99)), "lag-p99-ms")
	b.ReportMetric(ms2(percentile(lags, 50)), "lag-p50-ms")
	b.ReportMetric(ms2(percentile(first, 99)), "first-p99-ms")
	b.ReportMetric(ms2(percentile(first, 50)), "first-p50-ms")
	obs.mu.Lock()
	own, code, interim, firstCode := slices.Clone(obs.own), slices.Clone(obs.code), slices.Clone(obs.interim), slices.Clone(obs.firstCode)
	codeOwn, storeOnPath, storeWake := slices.Clone(obs.codeOwn), obs.storeOnPath, slices.Clone(obs.storeWake)
	obs.mu.Unlock()
	b.ReportMetric(ms2(percentile(own, 99)), "first-own-p99-ms")
	b.ReportMetric(ms2(percentile(interim, 99)), "interim-lag-p99-ms")
	b.ReportMetric(ms2(percentile(code, 99)), "interim-code-p99-ms")
	// The code path without the store round trips made on it (when the
	// update's tokens could not be reserved ahead), and how many updates
	// had one.
	b.ReportMetric(ms2(percentile(codeOwn, 99)), "interim-code-nostore-p99-ms")
	b.ReportMetric(100*float64(storeOnPath)/float64(max(len(code), 1)), "store-on-path-%")
	b.ReportMetric(ms2(benchRTT), "rtt-ms")
	b.ReportMetric(ms2(percentile(probe, 99)), "timer-p99-ms")
	// How long goroutines were runnable before a core ran them (the
	// runtime's histogram over the run): the part of any latency above
	// that is not the bridge's code.
	schedP99, _ := sched.percentile(99)
	b.ReportMetric(ms2(schedP99), "sched-p99-ms")
	// The share of the run during which intermediate updates took their
	// budget tokens on their path (a store round trip inside
	// interim-code) because the store's round trips were too slow to
	// reserve them ahead (budget.Pacer.CanReserveAhead).
	b.ReportMetric(100*offShare, "reserve-ahead-off-%")
	// The targets (README, Performance): the update lag p99 over the
	// sleep floor measured in the same process (≤ 1 ms), and the
	// bridge's own code path p99 (interim-code-p99-ms, ≤ 1 ms).
	b.ReportMetric(ms2(percentile(lags, 99)-percentile(probe, 99)), "lag-over-floor-p99-ms")
	// The same of intermediate updates alone: the first texts (about a
	// tenth of the samples) wait for a scheduler pass and its store round
	// trip by design (their moment is not known ahead), so they set the
	// p99 of all updates.
	b.ReportMetric(ms2(percentile(interim, 99)-percentile(probe, 99)), "interim-lag-over-floor-p99-ms")
	if liveHeap > baseHeap {
		b.ReportMetric(float64(liveHeap-baseHeap)/float64(peakActive)/1024, "heap-KiB/stream")
	}
	b.ReportMetric(float64(peakActive), "peak-streams")
	b.ReportMetric(float64(sumUpdates)/float64(len(replies)), "updates/reply")
	b.ReportMetric(float64(sumExpected)/float64(len(replies)), "bound/reply")
	b.ReportMetric(float64(over), "replies-off-bound")
	b.ReportMetric(float64(sumSkipped)/float64(len(replies)), "skipped/reply")
	b.ReportMetric(float64(checker.violations.Load()), "budget-violations")
	b.ReportMetric(float64(total-takes)/float64(n), "store-rt/msg")
	b.ReportMetric(float64(takes)/float64(sumUpdates), "budget-rt/update")
	b.ReportMetric(elapsed.Seconds(), "wall-s")
	b.ReportMetric(cpu.Seconds()/elapsed.Seconds(), "cpu-cores")
	b.Logf("GC: %d cycles, max pause %v; load average at start %s, at end %s", gc1.NumGC-gc0.NumGC, maxPause, load, loadAverage())
	schedP50, schedN := sched.percentile(50)
	schedP90, _ := sched.percentile(90)
	schedP999, _ := sched.percentile(99.9)
	b.Logf("scheduling latency (runnable until running, %d samples) ms p50/p90/p99/p99.9: %.3f/%.3f/%.3f/%.3f",
		schedN, ms2(schedP50), ms2(schedP90), ms2(schedP99), ms2(schedP999))
	keys := make([]string, 0, len(counts))
	for k := range counts {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var sb strings.Builder
	for _, k := range keys {
		fmt.Fprintf(&sb, " %s=%.2f", k, float64(counts[k])/float64(n))
	}
	b.Logf("n=%d: store round trips per message:%s", n, sb.String())
	st.mu.Lock()
	takeTimes := slices.Clone(st.takes)
	st.mu.Unlock()
	b.ReportMetric(ms2(percentile(takeTimes, 99)), "take-p99-ms")
	b.Logf("store budget take ms p50/p90/p99/max: %.2f/%.2f/%.2f/%.2f",
		ms2(percentile(takeTimes, 50)), ms2(percentile(takeTimes, 90)), ms2(percentile(takeTimes, 99)), ms2(percentile(takeTimes, 100)))
	b.Logf("timer probe overshoot ms p50/p90/p99/max: %.2f/%.2f/%.2f/%.2f",
		ms2(percentile(probe, 50)), ms2(percentile(probe, 90)), ms2(percentile(probe, 99)), ms2(percentile(probe, 100)))
	b.Logf("first text ms p50/p90/p95/p99/max: %.1f/%.1f/%.1f/%.1f/%.1f; lag ms p50/p90/p99/p99.9/max: %.2f/%.2f/%.2f/%.2f/%.2f (%d updates)",
		ms2(percentile(first, 50)), ms2(percentile(first, 90)), ms2(percentile(first, 95)), ms2(percentile(first, 99)), ms2(percentile(first, 100)),
		ms2(percentile(lags, 50)), ms2(percentile(lags, 90)), ms2(percentile(lags, 99)), ms2(percentile(lags, 99.9)), ms2(percentile(lags, 100)), len(lags))
	b.Logf("first text minus its platform call ms p50/p90/p99: %.2f/%.2f/%.2f, of which the code path (store round trip included) p50/p90/p99: %.2f/%.2f/%.2f",
		ms2(percentile(own, 50)), ms2(percentile(own, 90)), ms2(percentile(own, 99)),
		ms2(percentile(firstCode, 50)), ms2(percentile(firstCode, 90)), ms2(percentile(firstCode, 99)))
	b.Logf("intermediate updates: lag ms p50/p90/p99/p99.9: %.3f/%.3f/%.3f/%.3f; minus wake-up p50/p90/p99/p99.9: %.3f/%.3f/%.3f/%.3f; and minus the store round trips on the path p50/p90/p99/p99.9: %.3f/%.3f/%.3f/%.3f (%d of %d updates had one)",
		ms2(percentile(interim, 50)), ms2(percentile(interim, 90)), ms2(percentile(interim, 99)), ms2(percentile(interim, 99.9)),
		ms2(percentile(code, 50)), ms2(percentile(code, 90)), ms2(percentile(code, 99)), ms2(percentile(code, 99.9)),
		ms2(percentile(codeOwn, 50)), ms2(percentile(codeOwn, 90)), ms2(percentile(codeOwn, 99)), ms2(percentile(codeOwn, 99.9)), storeOnPath, len(code))
	b.Logf("updates with a store round trip on the path: the flusher woke late by ms p10/p50/p90: %.3f/%.3f/%.3f",
		ms2(percentile(storeWake, 10)), ms2(percentile(storeWake, 50)), ms2(percentile(storeWake, 90)))
}

// sampleReserveAhead samples, every 10 ms until the returned function is
// called, whether the bridge's pacer reserves the tokens of an update
// drawing from budgets ahead of it; that function returns the share of
// samples in which it did not.
func sampleReserveAhead(br *Bridge, budgets []platforms.Budget) func() float64 {
	stop := make(chan struct{})
	done := make(chan float64, 1)
	go func() {
		t := time.NewTicker(10 * time.Millisecond)
		defer t.Stop()
		var n, off int
		for {
			select {
			case <-stop:
				done <- float64(off) / float64(max(n, 1))
				return
			case <-t.C:
			}
			n++
			if !br.out.Pacer.CanReserveAhead(budgets, budget.ReserveLead(DefaultEditInterval)) {
				off++
			}
		}
	}()
	return func() float64 {
		close(stop)
		return <-done
	}
}

// writeHeapProfile writes a heap profile to path (for looking into the
// memory per stream).
func writeHeapProfile(b *testing.B, path string) {
	f, err := os.Create(path)
	if err != nil {
		b.Error(err)
		return
	}
	defer f.Close()
	if err := pprof.WriteHeapProfile(f); err != nil {
		b.Error(err)
	}
}

// openBenchStore opens the store the benchmark runs on: Redis (with a
// bigger connection pool) by default, bolt as the binary opens it (its
// budgets in memory) with SECONDME_BRIDGE_BENCH_STORE=bolt.
func openBenchStore(b *testing.B) store.Store {
	b.Helper()
	if benchStoreName() == "bolt" {
		return storetest.NewBackend(b, storetest.Bolt, storetest.Options{BudgetsInMemory: true}).Open(b)
	}
	storetest.RequireRedis(b)
	return storetest.NewBackend(b, storetest.Redis, storetest.Options{RedisURL: benchRedisURL()}).Open(b)
}

// benchStoreName names the store openBenchStore opens: "bolt" with
// SECONDME_BRIDGE_BENCH_STORE=bolt, else "redis".
func benchStoreName() string {
	if os.Getenv("SECONDME_BRIDGE_BENCH_STORE") == "bolt" {
		return "bolt"
	}
	return "redis"
}

// linkUsers links platform users u0…u(n-1) to SecondMe users with fresh
// tokens.
func linkUsers(b *testing.B, sm *secondmetest.Server, st store.Store, n int) {
	b.Helper()
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	const workers = 16
	for w := range workers {
		wg.Go(func() {
			for i := w; i < n; i += workers {
				id := "u" + strconv.Itoa(i)
				tok := sm.IssueToken("sm-" + id)
				now := time.Now()
				err := st.Links().PutLink(context.Background(), store.Link{
					Key:            store.UserKey{Platform: testPlatform, User: id},
					SecondMeUserID: "sm-" + id,
					Token: store.Token{AccessToken: tok.AccessToken, RefreshToken: tok.RefreshToken,
						Expiry: tok.Expiry, Scopes: tok.Scopes},
					CreatedAt: now, UpdatedAt: now,
				})
				if err != nil {
					select {
					case errs <- err:
					default:
					}
					return
				}
			}
		})
	}
	wg.Wait()
	select {
	case err := <-errs:
		b.Fatal(err)
	default:
	}
}

// waitIdle waits for the workers to exit (leases released, records gone).
func waitIdle(b *testing.B, br *Bridge) {
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		br.q.mu.Lock()
		n := len(br.q.byKey)
		br.q.mu.Unlock()
		if n == 0 {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	b.Logf("workers still busy after the run")
}
