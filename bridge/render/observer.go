package render

import "time"

// Observer receives fine-grained timings of the streaming renderer, for
// benchmarks and diagnostics; Prometheus metrics cover operations. Its
// methods are called synchronously on the hot path, concurrently from many
// replies: they must be fast, must not block, and must be safe for
// concurrent use. A nil Env.Observer costs nothing.
type Observer interface {
	// FirstText is called once per reply when its first text became
	// visible: d runs from the arrival of the first upstream delta to the
	// return of the platform call that showed it, and call is how long
	// that call took (d - call is the bridge's own part).
	FirstText(d, call time.Duration)
	// Update is called just before every streaming update request (the
	// first text, an intermediate edit or append; not the final ones).
	Update(u UpdateTiming)
	// ReplyDone is called once per reply that showed text, when it reached
	// its final state.
	ReplyDone(s ReplyStats)
}

// UpdateTiming describes one streaming update request.
type UpdateTiming struct {
	// Lag runs from the arrival of the oldest delta not yet shown, or from
	// the end of the deliberate wait (edit interval, 429 back-off, retry
	// after a skipped update) if that is later, to the request. It is the
	// bridge's own overhead: scheduling, budget round trips on the path,
	// rendering.
	Lag time.Duration
	// Wake is the part of Lag spent before the flusher goroutine ran (a
	// late timer, a busy CPU); Lag - Wake is the bridge's code path.
	Wake time.Duration
	// Store is the part of Lag - Wake spent waiting for store round trips
	// made on the path: the budget reservation and the in-flight record
	// written with it, when the tokens could not be reserved ahead; or,
	// reserved ahead, the wait past the update's moment for the moment
	// of its tokens, when their round trip took longer than the margin
	// they were placed by (the flusher sleeps until then: not a late
	// wake-up).
	Store time.Duration
	// First is set for the request that shows the reply's first text.
	First bool
}

// ReplyStats describes one finished reply.
type ReplyStats struct {
	// Updates counts the platform requests that carried reply text: the
	// first send, intermediate edits or appends, the final edits and the
	// sends of extra parts.
	Updates int
	// Skipped counts intermediate updates skipped (budget, 429, priority).
	Skipped int
	// Streaming is the time from the first upstream delta to the end of
	// the upstream stream.
	Streaming time.Duration
	// Native is true when the reply used the platform's native streaming.
	Native bool
	// Parts is the number of messages the reply ended in.
	Parts int
}
