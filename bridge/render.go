package bridge

import (
	"cmp"
	"context"
	"log/slog"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/secondme-bridge/secondme-bridge/platforms"
	"github.com/secondme-bridge/secondme-bridge/store"
)

// renderer shows one reply on a platform while it streams.
//
// Two goroutines share it: the reader (the conversation worker, reading the
// upstream stream) calls add for every delta; the flusher (one per upstream
// attempt) turns the accumulated text into platform updates, at most one
// per EditInterval per message, each carrying the latest text, so stale
// edits never queue. The fields under mu are shared; the others belong to
// the flusher while it runs and to the reader once it has stopped.
//
// Modes: with native streaming (platforms.Streamer, CanStream) the flusher
// appends deltas to a stream message, rolling over to a new one before the
// platform's length limit; otherwise it sends the first text and then
// edits the message to a preview of the whole text (platforms.Editor); a
// platform that can do neither gets the final text only. Platforms without
// a typing indicator get no placeholder: the reply appears with its first
// text (a placeholder would cost an extra update from the budgets and
// could be left behind).
type renderer struct {
	b        *Bridge
	p        platforms.Platform
	editor   platforms.Editor   // nil: no edits
	streamer platforms.Streamer // nil: no native stream
	to       platforms.Target
	l        lang
	key      store.ConversationKey
	log      *slog.Logger
	maxChars int
	interval time.Duration
	received time.Time // when the message arrived

	typing typing

	mu           sync.Mutex
	text         strings.Builder
	arrivals     []arrival // deltas not fully shown yet
	shownLen     int       // bytes of text shown (edit mode) or appended (native)
	firstDeltaAt time.Time // arrival of the first delta
	session      string    // the SecondMe session, for the in-flight record
	dirty        chan struct{}

	// Flusher state.
	stop            chan struct{}
	bctx            context.Context // budget waits of the flusher; cancelled by end
	bcancel         context.CancelFunc
	flushed         chan struct{}
	native          bool                   // a native stream is open
	open            bool                   // the current message can be edited to show text[msgStart:]
	refs            []platforms.MessageRef // the reply's messages, the current one last
	msgStart        int                    // offset in text where the current message starts
	prefix          string                 // text the current message shows before text[msgStart:] (a reopened fence)
	shown           string                 // what the current message shows (edit mode: rendered; native: raw)
	held            *held                  // budget tokens reserved for the next intermediate update
	appended        int                    // native: bytes of text appended to streams so far
	streamRunes     int                    // native: code points in the current stream message
	lastUpdate      time.Time              // when the last update of the current message was issued
	backoffUntil    time.Time              // 429 back-off of the current message
	retryAt         time.Time              // a skipped update is tried again then
	visibleAt       time.Time
	updates         int
	skipped         int
	recorded        bool
	recordedLen     int  // bytes of text the record covers (recordAhead)
	recordFailed    bool // the last record write failed
	lastRecord      time.Time
	recordedSession string    // the session in the last record written
	stepAt          time.Time // when the current step began (observeUpdate)
	replyID         string
	locale          string
	account         string // the SecondMe account answering, for the in-flight record
	failed          bool   // the final state could not be delivered; the sweep will finish it
	streamEnd       time.Time
}

func (b *Bridge) newRenderer(it *workItem) *renderer {
	lim := it.p.Limits()
	r := &renderer{
		b:        b,
		p:        it.p,
		to:       it.target,
		l:        it.lang,
		key:      it.key,
		log:      b.log.With("platform", it.key.Platform, "conversation", keyString(it.key)),
		maxChars: lim.MaxMessageChars,
		interval: b.tunables().EditInterval,
		received: it.received,
		locale:   it.ev.User.Locale,
		replyID:  cmp.Or(it.entryID, newReplyID()),
		dirty:    make(chan struct{}, 1),
	}
	if r.maxChars <= 0 {
		r.maxChars = 2000
	}
	caps := platforms.ResolveCaps(it.p)
	r.editor = caps.Editor
	if s := caps.Streamer; s != nil && s.CanStream(it.target) {
		r.streamer = s
	}
	if t := caps.Typer; t != nil {
		r.typing.start(b.work, t, it.target, lim.TypingInterval, r.log)
	}
	return r
}

// add appends a delta; it never blocks on the platform.
func (r *renderer) add(delta string) {
	if delta == "" {
		return
	}
	now := r.b.now()
	r.mu.Lock()
	if r.firstDeltaAt.IsZero() {
		r.firstDeltaAt = now
	}
	r.text.WriteString(delta)
	r.arrivals = append(r.arrivals, arrival{end: r.text.Len(), at: now})
	r.mu.Unlock()
	select {
	case r.dirty <- struct{}{}:
	default:
	}
}

// setSession records the reply's SecondMe session (for the in-flight
// record).
func (r *renderer) setSession(id string) {
	r.mu.Lock()
	r.session = id
	r.mu.Unlock()
}

// arrival is when the text up to end arrived.
type arrival struct {
	end int
	at  time.Time
}

// hasText reports whether any visible text arrived (whitespace alone is
// never shown).
func (r *renderer) hasText() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return strings.TrimSpace(r.text.String()) != ""
}

// snapshot returns the text so far, with how much of it is shown, when the
// oldest text not shown arrived, and (native mode) when the text not shown
// reached nativeFlushSize bytes (zero times when not applicable).
func (r *renderer) snapshot() (text string, shownLen int, pendingSince, crossedAt time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.arrivals) > 0 {
		pendingSince = r.arrivals[0].at
		for _, a := range r.arrivals {
			if a.end-r.shownLen >= r.b.nativeFlushSize {
				crossedAt = a.at
				break
			}
		}
	}
	return r.text.String(), r.shownLen, pendingSince, crossedAt
}

// shownUpTo records that the text up to n bytes is on the platform.
func (r *renderer) shownUpTo(n int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.shownLen = n
	i := 0
	for i < len(r.arrivals) && r.arrivals[i].end <= n {
		i++
	}
	r.arrivals = append(r.arrivals[:0], r.arrivals[i:]...)
}

// reset forgets the text of a failed attempt that showed nothing.
func (r *renderer) reset() {
	r.mu.Lock()
	r.text.Reset()
	r.arrivals = r.arrivals[:0]
	r.shownLen, r.firstDeltaAt = 0, time.Time{}
	r.mu.Unlock()
	r.recordedLen = 0
}

// begin starts the flusher for one upstream attempt.
func (r *renderer) begin() {
	r.b.met.activeStream.Inc()
	r.b.active.Add(1)
	r.stop = make(chan struct{})
	r.flushed = make(chan struct{})
	r.bctx, r.bcancel = context.WithCancel(r.b.work)
	if r.editor == nil && r.streamer == nil {
		close(r.flushed) // final text only
		return
	}
	go r.flushLoop()
}

// end stops the flusher and waits for it; an update in progress completes.
func (r *renderer) end() {
	r.b.met.activeStream.Dec()
	r.b.active.Add(-1)
	r.bcancel()
	close(r.stop)
	<-r.flushed
	r.streamEnd = r.b.now()
}

// flushLoop is the flusher goroutine. While the upstream is silent it
// still refreshes the in-flight record every recordEvery, so that a live
// reply never looks orphaned.
func (r *renderer) flushLoop() {
	defer close(r.flushed)
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	beat := time.NewTimer(time.Hour)
	defer beat.Stop()
	for {
		var beatC <-chan time.Time
		if r.recorded {
			// Not in a tight loop when the store fails.
			beat.Reset(max(r.lastRecord.Add(r.b.recordEvery).Sub(r.b.now()), r.b.recordEvery/10))
			beatC = beat.C
		}
		select {
		case <-r.dirty:
		case <-beatC:
			r.maybeRecord(r.b.work, false)
			continue
		case <-r.stop:
			return
		}
		beat.Stop()
		for {
			wait := r.step()
			if wait <= 0 {
				break
			}
			timer.Reset(wait)
			select {
			case <-timer.C:
			case <-r.stop:
				timer.Stop()
				return
			}
		}
	}
}

// step makes the next update if it is due and returns 0, or returns how
// long to wait before trying again.
func (r *renderer) step() time.Duration {
	ctx := r.b.work
	now := r.b.now()
	r.stepAt = now
	text, shownLen, pendingSince, crossedAt := r.snapshot()
	if len(text) <= shownLen {
		return 0
	}
	if len(r.refs) == 0 {
		if strings.TrimSpace(text) == "" {
			return 0 // whitespace alone is not shown (finish tells an empty reply)
		}
		if now.Before(r.backoffUntil) {
			return r.backoffUntil.Sub(now)
		}
		if r.first(ctx, text, laterOf(pendingSince, r.backoffUntil)) {
			return 0
		}
		return max(r.backoffUntil.Sub(r.b.now()), r.interval/4)
	}
	ready := r.lastUpdate.Add(r.interval)
	if r.native && !crossedAt.IsZero() && crossedAt.Before(ready) {
		ready = crossedAt
	}
	ready = laterOf(laterOf(ready, r.backoffUntil), r.retryAt)
	if !r.changed(text, shownLen) {
		return 0
	}
	budgets := budgetsOf(r.p, r.refs[len(r.refs)-1])
	keys := budgetKeys(budgets)
	// The clock again: changed rendered a preview, and held tokens must
	// still be within their spend interval when the update goes out.
	now = r.b.now()
	if !r.held.usable(keys, ready, now) {
		r.held = nil
		// Reserve the update's tokens a little ahead of it when possible,
		// so that the store round trip is off its path.
		ahead := r.b.canReserveAhead(budgets)
		wakeAt := ready
		if ahead {
			wakeAt = ready.Add(-reserveLead(r.interval))
		}
		if now.Before(wakeAt) {
			return wakeAt.Sub(now)
		}
		// The in-flight record is brought up to the text so far in
		// parallel with the reservation (both are store round trips), so
		// that it never lags what the update will show (at most that).
		cur, _, _, _ := r.snapshot()
		recorded := make(chan struct{})
		go func() {
			defer close(recorded)
			r.recordAhead(ctx, len(cur))
		}()
		h, reason, wait := r.b.reserveInterim(ctx, budgets, ready, ahead)
		<-recorded
		if h == nil {
			r.skip(reason)
			wait = max(wait, r.interval/4)
			r.retryAt = r.b.now().Add(wait)
			return wait
		}
		r.held = h
		now = r.b.now()
	}
	if at := laterOf(ready, r.held.from); now.Before(at) {
		return at.Sub(now)
	}
	r.held = nil
	// The update shows no more than the record covers (written with the
	// reservation), unless the store failed to take the record.
	text, _, _, _ = r.snapshot()
	upTo := len(text)
	if !r.recordFailed {
		upTo = min(upTo, max(r.recordedLen, shownLen))
	}
	var wait time.Duration
	if r.native {
		wait = r.appendInterim(ctx, ready, upTo)
	} else if r.open && r.editor != nil {
		wait = r.editInterim(ctx, ready, upTo)
	}
	// A skipped update is tried again after wait: a deliberate wait, like
	// the edit interval.
	r.retryAt = r.b.now().Add(wait)
	r.maybeRecord(ctx, false)
	return wait
}

// changed reports whether an intermediate update would show something new:
// native mode, pending text that can be appended (not only a word being
// written); edit mode, a preview that differs from the one shown (if not,
// the text counts as shown).
func (r *renderer) changed(text string, shownLen int) bool {
	if r.native {
		return holdback(text[shownLen:]) > 0
	}
	if !r.open || r.editor == nil {
		return false
	}
	if r.interim(text[r.msgStart:]) == r.shown {
		r.shownUpTo(len(text))
		return false
	}
	return true
}

// skip counts a skipped intermediate update.
func (r *renderer) skip(reason string) {
	r.skipped++
	r.b.met.skipped.WithLabelValues(reason).Inc()
}

// observeUpdate reports one update request to the Observer; the flusher
// started the step making it at r.stepAt.
func (r *renderer) observeUpdate(readyAt time.Time) {
	if r.b.obs != nil && !readyAt.IsZero() {
		r.b.obs.Update(UpdateTiming{
			Lag:   r.b.now().Sub(readyAt),
			Wake:  max(r.stepAt.Sub(readyAt), 0),
			First: len(r.refs) == 0,
		})
	}
}

func laterOf(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

func runeLen(s string) int { return utf8.RuneCountInString(s) }

// ctxOr returns ctx, or a fresh bounded context when ctx is already done,
// so that clean-up (finals, notices) still happens at shutdown.
func ctxOr(ctx context.Context, d time.Duration) (context.Context, context.CancelFunc) {
	if ctx.Err() == nil {
		return context.WithTimeout(ctx, d)
	}
	return context.WithTimeout(context.WithoutCancel(ctx), min(d, 10*time.Second))
}
