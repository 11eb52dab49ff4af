package codec

import (
	"math"
	"time"

	"github.com/secondme-bridge/secondme-bridge/store"
)

// Tokens is a Budgets.Take bucket at rest: Left tokens at TS (unix
// nanoseconds). A bucket without a state is full.
type Tokens struct {
	Left float64 `json:"tokens"`
	TS   int64   `json:"ts"`
}

// TakeTokens takes n tokens at now from the bucket whose state is st (nil:
// a full bucket) under l, with the arithmetic the Redis script uses. When
// granted it returns the new state and how long until that bucket is full
// again (when its state may be forgotten); otherwise ok is false and wait
// is how long until n tokens will be there. The arguments are checked by
// Take.
func TakeTokens(st *Tokens, now time.Time, l store.Limit, n int) (next Tokens, ok bool, wait, full time.Duration) {
	burst, need := float64(l.Burst), float64(n)
	next = Tokens{Left: burst, TS: now.UnixNano()}
	if st != nil {
		next.Left = st.Left
		if now.UnixNano() > st.TS {
			next.Left += time.Duration(now.UnixNano()-st.TS).Seconds() * l.Rate
		} else {
			next.TS = st.TS
		}
	}
	next.Left = min(next.Left, burst)
	if next.Left < need {
		return next, false, Seconds((need - next.Left) / l.Rate), 0
	}
	next.Left -= need
	return next, true, 0, Seconds((burst - next.Left) / l.Rate)
}

// ReserveAt decides Budgets.Reserve at now for buckets whose theoretical
// arrival times (unix microseconds, 0 for a full bucket) are tats, with the
// arithmetic the Redis script uses (GCRA). Granted, it returns the new
// arrival times, each also the moment its bucket is full again; otherwise
// the refusing Grant and nil. The arguments are checked by Reserve.
func ReserveAt(buckets []store.Bucket, tats []float64, now time.Time, after time.Duration) ([]float64, store.Grant) {
	due := float64(now.UnixNano())/1e3 + Micros(after)
	news := make([]float64, len(buckets))
	var g store.Grant
	var wait float64
	for i, b := range buckets {
		interval, tol := GCRA(b)
		news[i] = math.Max(tats[i], due) + interval
		if over := news[i] - due - tol; over > 0.5 {
			g.Short = append(g.Short, i)
			wait = math.Max(wait, over)
		}
	}
	if len(g.Short) > 0 {
		g.Wait = time.Duration(math.Ceil(wait)) * time.Microsecond
		return nil, g
	}
	return news, store.Grant{OK: true}
}

// ReserveWithin decides one request of Budgets.ReserveEach at now (see
// ReserveAt for tats): due at the earliest moment, After plus a whole
// number of microseconds up to Within, at which the first bucket has a
// token, and then as ReserveAt decides it there. The Grant's At is that
// moment (from now). The arguments are checked by ReserveEach.
func ReserveWithin(buckets []store.Bucket, tats []float64, now time.Time, after, within time.Duration) ([]float64, store.Grant) {
	delay := WithinDelay(buckets, tats, now, after, within)
	at := after + delay
	news, g := ReserveAt(buckets, tats, now, at)
	g.At = at
	return news, g
}

// WithinDelay returns how much later than now+after the first bucket
// (arrival time tats[0]) has a token, in whole microseconds, at most
// within (rounded down to whole microseconds): the arithmetic the Redis
// script uses. A delay d fits when the bucket's shortfall at now+after
// less d is within the half microsecond ReserveAt allows.
func WithinDelay(buckets []store.Bucket, tats []float64, now time.Time, after, within time.Duration) time.Duration {
	if len(buckets) == 0 || within <= 0 {
		return 0
	}
	due := float64(now.UnixNano())/1e3 + Micros(after)
	interval, tol := GCRA(buckets[0])
	over := math.Max(tats[0], due) + interval - due - tol
	d := math.Min(math.Max(0, math.Ceil(over-0.5)), math.Floor(Micros(within)))
	return time.Duration(d) * time.Microsecond
}

// Seconds converts a float number of seconds to a Duration, rounding up
// and saturating instead of overflowing.
func Seconds(x float64) time.Duration {
	ns := math.Ceil(x * float64(time.Second))
	if ns >= math.MaxInt64 || math.IsNaN(ns) {
		return time.Duration(math.MaxInt64)
	}
	return time.Duration(ns)
}

// LeaseAt decides Budgets.Lease at now for a reservation bucket whose
// theoretical arrival time (unix µs, 0 for a full bucket) is tat, with
// the arithmetic of ReserveAt and the Redis script: it grants the most
// tokens, up to want, that ReserveAt would grant one after another at
// now, and returns the new arrival time and, when fewer than want were
// granted, how long until one more would be. The arguments are checked by
// Lease.
func LeaseAt(tat float64, now time.Time, b store.Bucket, want int) (newTAT float64, granted int, wait time.Duration) {
	nowUS := float64(now.UnixNano()) / 1e3
	interval, tol := GCRA(b)
	t := math.Max(tat, nowUS)
	// A token k (1-based) fits when t + k×interval - now - tol ≤ 0.5.
	fit := math.Floor((nowUS + tol + 0.5 - t) / interval)
	granted = int(math.Max(0, math.Min(float64(want), fit)))
	newTAT = t + float64(granted)*interval
	if granted < want {
		wait = time.Duration(math.Ceil(math.Max(0, newTAT+interval-nowUS-tol))) * time.Microsecond
	}
	return newTAT, granted, wait
}

// ReturnAt gives n leased tokens back to a reservation bucket whose
// theoretical arrival time is tat: it moves that time n emission
// intervals back. keep is false when the bucket is full at now (the
// state may be dropped). The arguments are checked by Return.
func ReturnAt(tat float64, now time.Time, b store.Bucket, n int) (newTAT float64, keep bool) {
	interval, _ := GCRA(b)
	newTAT = tat - float64(n)*interval
	return newTAT, newTAT > float64(now.UnixNano())/1e3
}
