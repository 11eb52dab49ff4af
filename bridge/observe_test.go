package bridge

import (
	"slices"
	"sync"
	"time"

	"github.com/secondme-bridge/secondme-bridge/bridge/render"
)

// collector is an Observer that keeps every sample, for tests and
// benchmarks.
type collector struct {
	mu    sync.Mutex
	first []time.Duration
	own   []time.Duration // first text minus the platform call that showed it
	lags  []time.Duration
	code  []time.Duration // intermediate updates: lag minus the wake-up part
	// codeOwn: intermediate updates, code minus the store round trips
	// made on the path (UpdateTiming.Store)
	codeOwn     []time.Duration
	storeOnPath int // intermediate updates with a store round trip on the path
	// storeWake: how late the flusher woke for those updates
	storeWake []time.Duration
	interim   []time.Duration // intermediate updates: lag
	// firstCode: first texts, lag minus the wake-up part
	firstCode []time.Duration
	replies   []render.ReplyStats
	done      chan struct{} // receives one value per ReplyDone when non-nil
}

func (c *collector) FirstText(d, call time.Duration) {
	c.mu.Lock()
	c.first = append(c.first, d)
	c.own = append(c.own, d-call)
	c.mu.Unlock()
}

func (c *collector) Update(u render.UpdateTiming) {
	c.mu.Lock()
	c.lags = append(c.lags, u.Lag)
	if u.First {
		c.firstCode = append(c.firstCode, u.Lag-u.Wake)
	} else {
		code := u.Lag - u.Wake
		c.code = append(c.code, code)
		c.codeOwn = append(c.codeOwn, code-min(u.Store, code))
		if u.Store > 0 {
			c.storeOnPath++
			c.storeWake = append(c.storeWake, u.Wake)
		}
		c.interim = append(c.interim, u.Lag)
	}
	c.mu.Unlock()
}

func (c *collector) ReplyDone(s render.ReplyStats) {
	c.mu.Lock()
	c.replies = append(c.replies, s)
	done := c.done
	c.mu.Unlock()
	if done != nil {
		done <- struct{}{}
	}
}

func (c *collector) stats() (first, lags []time.Duration, replies []render.ReplyStats) {
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
