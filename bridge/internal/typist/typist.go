package typist

import (
	"container/heap"
	"context"
	"log/slog"
	"sync"
	"time"
)

// Takers is how many renewals of one lane wait for their tokens at once.
const Takers = 4

// callTimeout bounds one platform call.
const callTimeout = 5 * time.Second

// Renewal is one reply's typing indicator.
type Renewal struct {
	// Lane groups the renewals that share takers: the platform's name,
	// so that one platform's exhausted budget never holds another's.
	Lane string
	// Take waits for the tokens of one call (until ctx ends).
	Take func(ctx context.Context) error
	// Type makes the platform call.
	Type func(ctx context.Context) error
	// Interval is the time from one call's end to the next renewal's
	// turn; 0 means one call only.
	Interval time.Duration
}

// Typist runs the renewals of a process. The zero value is not usable:
// use New. It keeps time by the wall clock (time.Now and timers).
type Typist struct {
	log *slog.Logger

	mu    sync.Mutex
	lanes map[string]*lane
	seq   uint64
}

// New returns a Typist logging failed calls at debug level to log
// (slog.Default when nil).
func New(log *slog.Logger) *Typist {
	if log == nil {
		log = slog.Default()
	}
	return &Typist{log: log, lanes: map[string]*lane{}}
}

// lane is the queue and takers of one platform.
type lane struct {
	q       queue
	takers  int           // running taker goroutines
	wake    chan struct{} // closed (and replaced) when the queue's head changes
	waiting int           // takers sleeping until the head is due
}

// wakeLocked wakes the lane's sleeping takers: the head of its queue
// changed (their wait may be shorter, or the queue empty).
func (l *lane) wakeLocked() {
	if l.waiting > 0 {
		close(l.wake)
		l.wake = make(chan struct{})
	}
}

// Start queues r's first call at once and returns its handle. ctx bounds
// the renewal (its end stops it, as Stop does).
func (t *Typist) Start(ctx context.Context, r Renewal) *Handle {
	h := &Handle{t: t, r: r, idx: -1}
	h.ctx, h.cancel = context.WithCancel(ctx)
	// The end of ctx (the process shutting down) stops the renewal at
	// once, rather than when its turn comes.
	h.unwatch = context.AfterFunc(ctx, h.stop)
	t.mu.Lock()
	defer t.mu.Unlock()
	t.pushLocked(h, time.Now())
	return h
}

// pushLocked queues h due at `due` and wakes or starts a taker.
func (t *Typist) pushLocked(h *Handle, due time.Time) {
	l := t.lanes[h.r.Lane]
	if l == nil {
		l = &lane{wake: make(chan struct{})}
		t.lanes[h.r.Lane] = l
	}
	t.seq++
	h.due, h.seq = due, t.seq
	heap.Push(&l.q, h)
	if l.q[0] == h {
		l.wakeLocked()
	}
	// A renewal due now gets a taker of its own (up to Takers), so that
	// the first calls of many new replies do not queue behind one wait
	// for tokens; a later turn needs only the one taker that sleeps
	// until it.
	if l.takers < Takers && (l.takers == 0 || !due.After(time.Now())) {
		l.takers++
		go t.taker(h.r.Lane, l)
	}
}

// taker serves one lane until its queue is empty: it takes the first
// renewal due, waits for its tokens and starts its call.
func (t *Typist) taker(name string, l *lane) {
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		t.mu.Lock()
		if len(l.q) == 0 {
			l.takers--
			if l.takers == 0 && t.lanes[name] == l {
				delete(t.lanes, name)
			}
			t.mu.Unlock()
			return
		}
		h := l.q[0]
		if wait := time.Until(h.due); wait > 0 {
			l.waiting++
			wake := l.wake
			t.mu.Unlock()
			timer.Reset(wait)
			select {
			case <-timer.C:
			case <-wake:
			}
			t.mu.Lock()
			l.waiting--
			t.mu.Unlock()
			continue
		}
		heap.Pop(&l.q)
		t.mu.Unlock()
		if err := h.r.Take(h.ctx); err != nil {
			continue // stopped, or the process is shutting down
		}
		go t.call(h)
	}
}

// call makes one platform call unless the renewal stopped, then queues
// its next turn.
func (t *Typist) call(h *Handle) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.stopped {
		return
	}
	ctx, cancel := context.WithTimeout(h.ctx, callTimeout)
	err := h.r.Type(ctx)
	cancel()
	if err != nil {
		t.log.Debug("typing indicator", "error", err)
	}
	if h.r.Interval <= 0 || h.ctx.Err() != nil {
		return
	}
	t.mu.Lock()
	t.pushLocked(h, time.Now().Add(h.r.Interval))
	t.mu.Unlock()
}

// Handle is one started renewal.
type Handle struct {
	t       *Typist
	r       Renewal
	ctx     context.Context
	cancel  context.CancelFunc
	unwatch func() bool // deregisters the AfterFunc on Start's ctx
	once    sync.Once
	mu      sync.Mutex // held during a call, so Stop waits for it
	stopped bool
	due     time.Time // guarded by t.mu, as are seq and idx
	seq     uint64
	idx     int // in its lane's queue; -1 when not queued
}

// Stop ends the renewal: it waits for a call in progress (so that the
// first text is never overtaken by a late indicator, which would then
// linger) and removes the next turn. Idempotent; a nil Handle is a no-op.
func (h *Handle) Stop() {
	if h == nil {
		return
	}
	h.unwatch()
	h.stop()
}

// stop is Stop, also run when Start's ctx ends.
func (h *Handle) stop() {
	h.once.Do(func() {
		h.cancel()
		h.mu.Lock()
		h.stopped = true
		h.mu.Unlock()
		t := h.t
		t.mu.Lock()
		if l := t.lanes[h.r.Lane]; l != nil && h.idx >= 0 {
			head := h.idx == 0
			heap.Remove(&l.q, h.idx)
			if head {
				l.wakeLocked()
			}
		}
		t.mu.Unlock()
	})
}

// queue is a lane's renewals, the earliest due first (then the earliest
// queued: round robin among those due).
type queue []*Handle

func (q queue) Len() int { return len(q) }
func (q queue) Less(i, j int) bool {
	if !q[i].due.Equal(q[j].due) {
		return q[i].due.Before(q[j].due)
	}
	return q[i].seq < q[j].seq
}
func (q queue) Swap(i, j int) {
	q[i], q[j] = q[j], q[i]
	q[i].idx, q[j].idx = i, j
}
func (q *queue) Push(x any) {
	h := x.(*Handle)
	h.idx = len(*q)
	*q = append(*q, h)
}
func (q *queue) Pop() any {
	old := *q
	h := old[len(old)-1]
	old[len(old)-1] = nil
	h.idx = -1
	*q = old[:len(old)-1]
	return h
}
