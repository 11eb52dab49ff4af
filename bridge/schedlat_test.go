package bridge

import (
	"math"
	"os"
	"runtime/metrics"
	"strings"
	"time"
)

// schedLatency reads the runtime's histogram of how long goroutines were
// runnable before they ran (/sched/latencies:seconds), so that a benchmark
// can tell the time its goroutines waited for one of the cores from the
// time its code took.
type schedLatency struct {
	sample []metrics.Sample
	start  *metrics.Float64Histogram
}

const schedLatencyMetric = "/sched/latencies:seconds"

// startSchedLatency takes the histogram at the start of a measurement.
func startSchedLatency() *schedLatency {
	s := &schedLatency{sample: []metrics.Sample{{Name: schedLatencyMetric}}}
	metrics.Read(s.sample)
	s.start = cloneHist(s.sample[0].Value.Float64Histogram())
	return s
}

func cloneHist(h *metrics.Float64Histogram) *metrics.Float64Histogram {
	return &metrics.Float64Histogram{
		Counts:  append([]uint64(nil), h.Counts...),
		Buckets: append([]float64(nil), h.Buckets...),
	}
}

// percentile returns the p-th percentile (0 < p <= 100) of the scheduling
// latencies recorded since the start, as the upper edge of its bucket (an
// over-estimate by at most the bucket's width), and how many were recorded.
func (s *schedLatency) percentile(p float64) (time.Duration, uint64) {
	metrics.Read(s.sample)
	h := s.sample[0].Value.Float64Histogram()
	var total uint64
	counts := make([]uint64, len(h.Counts))
	for i := range h.Counts {
		counts[i] = h.Counts[i] - s.start.Counts[i]
		total += counts[i]
	}
	if total == 0 {
		return 0, 0
	}
	want := uint64(math.Ceil(float64(total) * p / 100))
	var seen uint64
	for i, c := range counts {
		seen += c
		if seen >= want {
			hi := h.Buckets[i+1]
			if math.IsInf(hi, 1) {
				hi = h.Buckets[i]
			}
			return time.Duration(hi * float64(time.Second)), total
		}
	}
	return time.Duration(h.Buckets[len(h.Buckets)-1] * float64(time.Second)), total
}

// loadAverage returns the machine's 1-minute load average as the kernel
// reports it (/proc/loadavg), or "?" where there is none.
func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "?"
	}
	return strings.Join(f[:3], " ")
}
