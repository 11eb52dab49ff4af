// Package typist keeps the typing indicators of the replies waiting for
// their first text alive, for a whole process, with a few goroutines per
// platform instead of one per reply.
//
// A reply registers its renewal (Start: how to take its tokens, how to
// call the platform, how often) and gets a Handle; Stop, when its first
// text is shown or it ends, removes it, waiting for a call in progress so
// that no late indicator overtakes the text. The renewals of one platform
// (a lane) are due in time order and taken round robin among those due:
// after its call a renewal goes to the back, due again an interval later.
// A lane's few takers each wait for one renewal's tokens at a time (the
// caller's Take, at the budgets' lowest priority), so a thousand waiting
// replies put a handful of typing requests in the budget scheduler, not a
// thousand; the platform call itself runs in a goroutine of its own for
// its duration only, so a slow platform does not hold the takers. With no
// renewal queued a lane has no goroutine at all.
package typist
