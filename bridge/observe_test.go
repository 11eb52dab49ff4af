package bridge

import (
	"slices"
	"sync"
	"time"
)

// collector is an Observer that keeps every sample, for tests and
// benchmarks.
type collector struct {
	mu      sync.Mutex
	first   []time.Duration
	lags    []time.Duration
	replies []ReplyStats
	done    chan struct{} // receives one value per ReplyDone when non-nil
}

func (c *collector) FirstText(d time.Duration) {
	c.mu.Lock()
	c.first = append(c.first, d)
	c.mu.Unlock()
}

func (c *collector) Update(lag time.Duration) {
	c.mu.Lock()
	c.lags = append(c.lags, lag)
	c.mu.Unlock()
}

func (c *collector) ReplyDone(s ReplyStats) {
	c.mu.Lock()
	c.replies = append(c.replies, s)
	done := c.done
	c.mu.Unlock()
	if done != nil {
		done <- struct{}{}
	}
}

func (c *collector) stats() (first, lags []time.Duration, replies []ReplyStats) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.first), slices.Clone(c.lags), slices.Clone(c.replies)
}

// percentile returns the p-th percentile (0 < p <= 100) of ds.
func percentile(ds []time.Duration, p float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	i := int(float64(len(s))*p/100+0.5) - 1
	return s[min(max(i, 0), len(s)-1)]
}
