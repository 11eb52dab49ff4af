package main

import (
	"fmt"
	"io"
	"os"
	"slices"
	"sort"
	"strconv"
	"strings"

	"golang.org/x/exp/trace"
)

// win is one logged code-path window of goroutine g, [from, to], and the
// time g spent in each state within it (ns).
type win struct {
	g                                trace.GoID
	from, to                         trace.Time
	code                             int64
	run, runnable, wait, sys, assist int64
	waits                            map[string]int64
}

// tr is a state transition of a goroutine: to state at t.
type tr struct {
	t      trace.Time
	state  trace.GoState
	reason string
}

// open opens the trace at p (exits on error).
func open(p string) *trace.Reader {
	f, err := os.Open(p)
	if err != nil {
		panic(err)
	}
	r, err := trace.NewReader(f)
	if err != nil {
		panic(err)
	}
	return r
}

// frame names the first two frames of s outside the runtime and the
// standard library's sync, time and internal packages.
func frame(s trace.Stack) string {
	var out []string
	for f := range s.Frames() {
		fn := f.Func
		if strings.HasPrefix(fn, "runtime.") || strings.HasPrefix(fn, "sync.") || strings.HasPrefix(fn, "internal/") || strings.HasPrefix(fn, "time.") {
			continue
		}
		fn = strings.TrimPrefix(fn, "github.com/secondme-bridge/secondme-bridge/")
		out = append(out, fn)
		if len(out) == 2 {
			break
		}
	}
	return strings.Join(out, "<")
}

func main() {
	path := os.Args[1]
	// Pass 1: windows.
	var wins []*win
	byG := map[trace.GoID][]*win{}
	r := open(path)
	for {
		ev, err := r.ReadEvent()
		if err == io.EOF {
			break
		}
		if err != nil {
			panic(err)
		}
		if ev.Kind() != trace.EventLog {
			continue
		}
		l := ev.Log()
		if l.Category != "code" {
			continue
		}
		c, _ := strconv.ParseInt(l.Message, 10, 64)
		w := &win{g: ev.Goroutine(), from: ev.Time() - trace.Time(c), to: ev.Time(), code: c, waits: map[string]int64{}}
		wins = append(wins, w)
		byG[w.g] = append(byG[w.g], w)
	}
	// Pass 2: transitions of those goroutines, and their assist ranges.
	trs := map[trace.GoID][]tr{}
	assists := map[trace.GoID][][2]trace.Time{}
	open1 := map[trace.GoID]trace.Time{}
	r = open(path)
	for {
		ev, err := r.ReadEvent()
		if err == io.EOF {
			break
		}
		if err != nil {
			panic(err)
		}
		switch ev.Kind() {
		case trace.EventStateTransition:
			st := ev.StateTransition()
			if st.Resource.Kind != trace.ResourceGoroutine {
				continue
			}
			g := st.Resource.Goroutine()
			if _, ok := byG[g]; !ok {
				continue
			}
			_, to := st.Goroutine()
			reason := st.Reason
			if to == trace.GoWaiting {
				reason += " @" + frame(st.Stack)
			}
			trs[g] = append(trs[g], tr{ev.Time(), to, reason})
		case trace.EventRangeBegin, trace.EventRangeEnd:
			rg := ev.Range()
			if rg.Scope.Kind != trace.ResourceGoroutine || !strings.Contains(rg.Name, "assist") {
				continue
			}
			g := rg.Scope.Goroutine()
			if _, ok := byG[g]; !ok {
				continue
			}
			if ev.Kind() == trace.EventRangeBegin {
				open1[g] = ev.Time()
			} else if t0, ok := open1[g]; ok {
				assists[g] = append(assists[g], [2]trace.Time{t0, ev.Time()})
				delete(open1, g)
			}
		}
	}
	for g, ws := range byG {
		ts := trs[g]
		for _, w := range ws {
			// state at w.from: last transition before it.
			i := sort.Search(len(ts), func(i int) bool { return ts[i].t > w.from }) - 1
			cur := trace.GoRunning
			reason := ""
			if i >= 0 {
				cur, reason = ts[i].state, ts[i].reason
			}
			t := w.from
			add := func(until trace.Time) {
				d := int64(until - t)
				switch cur {
				case trace.GoRunning:
					w.run += d
				case trace.GoRunnable:
					w.runnable += d
				case trace.GoWaiting:
					w.wait += d
					w.waits[reason] += d
				case trace.GoSyscall:
					w.sys += d
				}
			}
			for j := i + 1; j < len(ts) && ts[j].t < w.to; j++ {
				add(ts[j].t)
				t, cur, reason = ts[j].t, ts[j].state, ts[j].reason
			}
			add(w.to)
			for _, a := range assists[g] {
				lo, hi := max(a[0], w.from), min(a[1], w.to)
				if hi > lo {
					w.assist += int64(hi - lo)
				}
			}
		}
	}
	ms := func(ns int64) string { return fmt.Sprintf("%.3f", float64(ns)/1e6) }
	pct := func(xs []int64, p float64) int64 {
		if len(xs) == 0 {
			return 0
		}
		s := slices.Clone(xs)
		slices.Sort(s)
		i := int(float64(len(s))*p/100+0.5) - 1
		return s[min(max(i, 0), len(s)-1)]
	}
	var code, norunnable, run, runnable, wait, assist []int64
	for _, w := range wins {
		code = append(code, w.code)
		norunnable = append(norunnable, w.code-w.runnable)
		run = append(run, w.run)
		runnable = append(runnable, w.runnable)
		wait = append(wait, w.wait)
		assist = append(assist, w.assist)
	}
	// Windows whose goroutine waited for a store round trip (a network
	// read, the Redis pool, or the step waiting for its record write).
	storeWait := func(w *win) bool {
		for k, v := range w.waits {
			if v > 0 && (strings.Contains(k, "network") || strings.Contains(k, "redis") || strings.Contains(k, "chan receive @bridge/render.(*Renderer).step")) {
				return true
			}
		}
		return false
	}
	var withStore, without, withoutNoRunnable []int64
	for _, w := range wins {
		if storeWait(w) {
			withStore = append(withStore, w.code)
		} else {
			without = append(without, w.code)
			withoutNoRunnable = append(withoutNoRunnable, w.code-w.runnable)
		}
	}
	fmt.Printf("windows with a store round trip on the path: %d of %d; code p50/p99 %s/%s ms\n", len(withStore), len(wins), ms(pct(withStore, 50)), ms(pct(withStore, 99)))
	fmt.Printf("windows without: code p50/p90/p99/p99.9 %s/%s/%s/%s ms; minus runnable p50/p90/p99/p99.9 %s/%s/%s/%s ms\n",
		ms(pct(without, 50)), ms(pct(without, 90)), ms(pct(without, 99)), ms(pct(without, 99.9)),
		ms(pct(withoutNoRunnable, 50)), ms(pct(withoutNoRunnable, 90)), ms(pct(withoutNoRunnable, 99)), ms(pct(withoutNoRunnable, 99.9)))
	fmt.Printf("windows: %d\n", len(wins))
	for _, p := range []float64{50, 90, 99, 99.9} {
		fmt.Printf("p%-5v code %s  code-minus-runnable %s  running %s  runnable %s  waiting %s  assist %s\n", p,
			ms(pct(code, p)), ms(pct(norunnable, p)), ms(pct(run, p)), ms(pct(runnable, p)), ms(pct(wait, p)), ms(pct(assist, p)))
	}
	// The tail: windows with code >= p99.
	thr := pct(code, 99)
	var n int
	var sr, srn, sw, ss, sa int64
	reasons := map[string]int64{}
	for _, w := range wins {
		if w.code < thr {
			continue
		}
		n++
		sr += w.run
		srn += w.runnable
		sw += w.wait
		ss += w.sys
		sa += w.assist
		for k, v := range w.waits {
			reasons[k] += v
		}
	}
	if n == 0 {
		return
	}
	fmt.Printf("tail (code >= p99 %s ms, %d windows), mean ms: running %s runnable %s waiting %s syscall %s assist %s\n",
		ms(thr), n, ms(sr/int64(n)), ms(srn/int64(n)), ms(sw/int64(n)), ms(ss/int64(n)), ms(sa/int64(n)))
	type kv struct {
		k string
		v int64
	}
	var kvs []kv
	for k, v := range reasons {
		kvs = append(kvs, kv{k, v})
	}
	slices.SortFunc(kvs, func(a, b kv) int { return int(b.v - a.v) })
	for i, e := range kvs {
		if i == 8 {
			break
		}
		fmt.Printf("  waiting %s ms/window: %s\n", ms(e.v/int64(n)), e.k)
	}
}
