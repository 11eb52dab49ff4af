package budget

import "time"

// spendTick is the period of the moments calls granted under a binding
// limit spend their tokens at. A busy budget grants its tokens 1/Rate
// apart (Discord's bot budget at 50/s: every 22.7 ms); a call woken at
// each of them would wake the whole process each time, and those
// wake-ups (the runtime's idle threads, timers and network poller
// starting again) cost more than the calls themselves. A call whose
// tokens were placed a tick or more later than it asked (ticket.ahead:
// it waits in a queue anyway, and at most doubles its wait) waits for
// the first multiple of spendTick, on the Unix clock, within its spend
// interval that still leaves spendSlack of it, so that the calls granted
// within one tick wake together (about two at a time at 50/s). Waiting
// within the interval is spending late within the grace the store keeps in
// hand, which never exceeds the limit (store.Budgets.Reserve); a call
// granted a token due sooner, or whose interval holds no such moment,
// spends at its moment as before. It costs the calls of a binding limit
// up to one tick of latency, against seconds of queueing under it.
//
// In the load test at 50/s (`bin/loadtest -n 1000 -store redis -tls
// -global-rate 50 -reply-as bot`), the bridge's CPU fell from a median of
// 2.56 s (2.22–2.71, six runs) to 2.05 s (1.94–2.14, six runs,
// interleaved), with [DONE]→final p99 unchanged (22.0–22.4 s against
// 21.9–22.2); at N=200 on bolt from 0.54–0.77 s to 0.47–0.66 s.
const spendTick = 50 * time.Millisecond

// tickWindow is the spend grace of a bucket whose calls may wait for a
// spend tick (SpendGrace): a tick, the slack left after it (spendSlack),
// and room for the round trip the grant came through. Until ticks it was
// SpendWindow for every bucket. The grace a bucket keeps in hand is
// Rate×grace tokens of its burst: of ours, only Discord's bot budget
// loses any to the wider grace (at 50/s a burst of 1 instead of 3, at the
// same 44 a second).
const tickWindow = 100 * time.Millisecond

// maxTickRate is the highest rate (tokens a second) of a bucket whose
// grace is tickWindow; above it SpendWindow. Its calls are close enough
// together that the process seldom idles between them, and the wider
// grace would keep a large part of its burst in hand (200 tokens at
// 2,000/s). A call's grace is its budgets' least, so one such bucket
// among its budgets keeps its calls off ticks.
const maxTickRate = 200

// spendSlack is how much of its spend interval a call woken on a tick
// still has left: room for a late wake-up, as much as a call woken at its
// moment had before ticks (SpendWindow was 25 ms, less spendSafety).
const spendSlack = 25 * time.Millisecond

// spendAt returns when granted ticket t spends its tokens: its moment, or
// for tokens placed ahead the first spend tick from it that leaves
// spendSlack of the interval.
func spendAt(t *ticket) time.Time {
	if !t.ahead {
		return t.from
	}
	if tick := nextTick(t.from); !tick.Add(spendSlack).After(t.lapse) {
		return tick
	}
	return t.from
}

// nextTick returns the first multiple of spendTick (Unix time) at or
// after at, on at's clock (its monotonic reading kept, so that timers
// and comparisons with it stay on the monotonic clock).
func nextTick(at time.Time) time.Time {
	q := int64(spendTick)
	ns := at.UnixNano()
	return at.Add(time.Duration((q - ns%q) % q))
}
