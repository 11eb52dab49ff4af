package render

import (
	"cmp"
	"context"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/secondme-bridge/secondme-bridge/bridge/budget"
	"github.com/secondme-bridge/secondme-bridge/bridge/internal/metrics"
	"github.com/secondme-bridge/secondme-bridge/bridge/internal/typist"
	"github.com/secondme-bridge/secondme-bridge/bridge/text"
	"github.com/secondme-bridge/secondme-bridge/platforms"
	"github.com/secondme-bridge/secondme-bridge/store"
)

// Renderer shows one reply on a platform while it streams.
//
// Two parties share it: the reader (the conversation worker, reading the
// upstream stream) calls add for every delta; the flusher (one per upstream
// attempt, flush.go) turns the accumulated text into platform updates, at
// most one per EditInterval per message, each carrying the latest text, so
// stale edits never queue. The flusher is a goroutine only while it works:
// between its steps it is a timer, started again by a delta or the timer
// (one goroutine at a time). The fields under mu are shared; the others
// belong to the flusher while it runs and to the reader once it has
// stopped.
//
// Modes: with native streaming (platforms.Streamer, CanStream) the flusher
// appends deltas to a stream message, rolling over to a new one before the
// platform's length limit; otherwise it sends the first text and then
// edits the message to a preview of the whole text (platforms.Editor); a
// platform that can do neither gets the final text only. Platforms without
// a typing indicator get no placeholder: the reply appears with its first
// text (a placeholder would cost an extra update from the budgets and
// could be left behind).
type Renderer struct {
	env      *Env
	p        platforms.Platform
	caps     platforms.Caps
	streamer platforms.Streamer // nil: no native stream (or no longer)
	to       platforms.Target
	l        text.Lang
	key      store.ConversationKey
	log      *slog.Logger
	maxChars int
	interval time.Duration
	received time.Time // when the message arrived
	look     look      // who the reply is posted as, and its Stop button

	typing *typist.Handle // nil: no indicator; Stop is nil-safe
	buf    buffer         // shared by the reader and the flusher
	surf   surface        // how updates reach the platform: edits or a native stream
	msg    msgState
	fl     flusher
	rec    record
	st     replyStats
	failed bool // the final state could not be delivered; the sweep will finish it
}

// look is how the reply's messages present themselves.
type look struct {
	// as is who the reply is posted as (nil: the bot).
	as *platforms.Persona
	// stop is the Stop button intermediate sends and edits carry (nil:
	// none); the final state never does, so the button goes with it.
	stop *platforms.StopControl
}

// buffer is the reply's text so far, under mu: the reader appends to it,
// the flusher reads it.
type buffer struct {
	mu           sync.Mutex
	text         strings.Builder
	arrivals     []arrival   // deltas not fully shown yet
	shownLen     int         // bytes of text shown (edit mode) or appended (native)
	firstDeltaAt time.Time   // arrival of the first delta
	session      string      // the SecondMe session, for the in-flight record
	visible      atomic.Bool // text other than whitespace arrived (ReadPause)
}

// msgState is what the reply's messages show.
type msgState struct {
	open        bool                   // the current message can be edited to show text[start:]
	refs        []platforms.MessageRef // the reply's messages, the current one last
	start       int                    // offset in text where the current message starts
	prefix      string                 // text the current message shows before text[start:] (a reopened fence)
	shown       string                 // what the current message shows (edit mode: rendered; native: raw)
	stopShown   bool                   // the current message shows the Stop button
	appended    int                    // native: bytes of text appended to streams so far
	streamRunes int                    // native: code points in the current stream message
}

// flusher is the flusher's state for one upstream attempt and its pacing.
type flusher struct {
	run          *flushRun       // schedules the attempt's steps (flush.go); nil: final text only
	bctx         context.Context // budget waits of the flusher; cancelled by end
	bcancel      context.CancelFunc
	held         *budget.Held  // budget tokens reserved for the next intermediate update
	lastUpdate   time.Time     // when the last update of the current message was issued
	backoffUntil time.Time     // 429 back-off of the current message
	retryAt      time.Time     // a skipped update is tried again then
	stepAt       time.Time     // when the current step began (observeUpdate)
	stepStore    time.Duration // store round trips the current step waited for (observeUpdate)
	// tokensAt is when the tokens of the update being made, reserved
	// ahead in an earlier step, could be spent (observeUpdate).
	tokensAt time.Time
}

// record is the state of the reply's in-flight record (the crash record).
type record struct {
	recorded        bool
	recordedLen     int  // bytes of text the record covers (recordAhead)
	recordFailed    bool // the last record write failed
	lastRecord      time.Time
	recordedSession string // the session in the last record written
	replyID         string
	locale          string
	account         string // the SecondMe account answering
}

// replyStats are counted for the metrics and the Observer.
type replyStats struct {
	visibleAt time.Time
	updates   int
	skipped   int
	streamEnd time.Time
}

// Env is what every reply of one engine shares: the work context, the
// clock, the pacer, the metrics, and the engine's own parts a reply may
// use, passed in as functions. The renderer never sees the engine itself.
type Env struct {
	// Work is the parent of all reply work; cancelled at the end of shutdown.
	Work  context.Context
	Now   func() time.Time
	Pacer *budget.Pacer
	// Typist renews the typing indicators of the process's replies.
	Typist  *typist.Typist
	Metrics *metrics.Set
	// Observer receives timings (benchmarks); nil for none.
	Observer Observer
	// PutRecord writes the reply's in-flight record (store.Replies). The
	// record is passed by pointer, so that its few hundred bytes are not
	// copied into every frame on the way to the store (a reply's worker
	// makes this call; see bridge.Bridge.beginChat on its stack).
	PutRecord func(context.Context, *store.InflightReply) error
	// Notice posts a short public message (the reason a reply failed
	// before showing anything), through 429s and budgets.
	Notice func(ctx context.Context, p platforms.Platform, to platforms.Target, text string)
	// Owner names this process in the in-flight records.
	Owner string
	// Active counts the replies streaming now.
	Active *atomic.Int64
	// RecordEvery is the longest time between two writes of a streaming
	// reply's record; NativeFlushSize is the pending text (bytes) after
	// which a native stream is appended to before the edit interval.
	RecordEvery     time.Duration
	NativeFlushSize int
	// FinalTimeout bounds the delivery of a reply's final state.
	FinalTimeout time.Duration
}

// Request describes one reply to render.
type Request struct {
	Platform platforms.Platform
	Caps     platforms.Caps // Platform's abilities (platforms.ResolveCaps)
	To       platforms.Target
	Lang     text.Lang
	Key      store.ConversationKey // the conversation, for the in-flight record
	Log      *slog.Logger
	Received time.Time // when the message arrived
	Locale   string    // the user's locale, for the in-flight record
	ReplyID  string    // "" for a new random id
	// Interval is the minimum time between two updates of one message.
	Interval time.Duration
}

// New returns the renderer of one reply and starts the platform's typing
// indicator, if it has one.
func New(env *Env, req Request) *Renderer {
	lim := req.Platform.Limits()
	r := &Renderer{
		env:      env,
		p:        req.Platform,
		caps:     req.Caps,
		to:       req.To,
		l:        req.Lang,
		key:      req.Key,
		log:      req.Log,
		maxChars: lim.MaxMessageChars,
		interval: req.Interval,
		received: req.Received,
		rec:      record{replyID: cmp.Or(req.ReplyID, newReplyID()), locale: req.Locale},
	}
	if r.maxChars <= 0 {
		r.maxChars = 2000
	}
	r.surf = editSurface{r}
	if s := r.caps.Streamer; s != nil && s.CanStream(req.To) {
		r.streamer = s
	}
	r.typing = startTyping(env, req.Platform, r.caps, req.To)
	return r
}

// ID returns the reply's id (its in-flight record's).
func (r *Renderer) ID() string { return r.rec.replyID }

// SetAccount names the SecondMe account answering, for the in-flight
// record. It must be called before WriteAhead.
func (r *Renderer) SetAccount(id string) { r.rec.account = id }

// SetPersona names who the reply is posted as (platforms.Message.As on
// every Send and Edit of it, StartStreamAs for a native stream); nil or a
// persona without a name is the bot. It must be called before Begin.
func (r *Renderer) SetPersona(as *platforms.Persona) {
	r.look.as = platforms.PersonaOf(platforms.Message{As: as})
}

// message is a message of the reply showing text, under its persona.
func (r *Renderer) message(text string) platforms.Message {
	return platforms.Message{Text: text, As: r.look.as}
}

// streaming is a message of the reply while it streams: under its persona,
// with the Stop button when the reply has one.
func (r *Renderer) streaming(text string) platforms.Message {
	m := r.message(text)
	m.Stop = r.look.stop
	return m
}

// SetStop gives the reply's intermediate messages a Stop button (edit
// mode: the message being streamed carries it until its final edit, which
// removes it; a native stream has the platform's own stop). It must be
// called before Begin. Without Editor it does nothing: the button could
// not be removed.
func (r *Renderer) SetStop(c *platforms.StopControl) {
	if r.caps.Editor != nil {
		r.look.stop = c
	}
}

// Failed reports whether the final state could not be delivered (the
// recovery sweep will finish the reply; its record must stay).
func (r *Renderer) Failed() bool { return r.failed }

// StopTyping ends the typing indicator (idempotent).
func (r *Renderer) StopTyping() { r.typing.Stop() }

// Add appends a delta; it never blocks on the platform.
func (r *Renderer) Add(delta string) {
	if delta == "" {
		return
	}
	now := r.env.Now()
	r.buf.mu.Lock()
	if r.buf.firstDeltaAt.IsZero() {
		r.buf.firstDeltaAt = now
	}
	r.buf.text.WriteString(delta)
	if !r.buf.visible.Load() && strings.TrimSpace(delta) != "" {
		r.buf.visible.Store(true)
	}
	r.buf.arrivals = append(r.buf.arrivals, arrival{end: r.buf.text.Len(), after: now.Sub(r.buf.firstDeltaAt)})
	r.buf.mu.Unlock()
	r.fl.run.poke(r)
}

// SetSession records the reply's SecondMe session (for the in-flight
// record).
func (r *Renderer) SetSession(id string) {
	r.buf.mu.Lock()
	r.buf.session = id
	r.buf.mu.Unlock()
}

// arrival is when the text up to end arrived: after the first delta
// (16 bytes, not a time.Time's 32 with end: a reply keeps one per delta
// not yet shown).
type arrival struct {
	end   int
	after time.Duration
}

// HasText reports whether any visible text arrived (whitespace alone is
// never shown).
func (r *Renderer) HasText() bool {
	r.buf.mu.Lock()
	defer r.buf.mu.Unlock()
	return strings.TrimSpace(r.buf.text.String()) != ""
}

// snapshot returns the text so far, with how much of it is shown, when the
// oldest text not shown arrived, and (native mode) when the text not shown
// reached nativeFlushSize bytes (zero times when not applicable).
func (r *Renderer) snapshot() (text string, shownLen int, pendingSince, crossedAt time.Time) {
	r.buf.mu.Lock()
	defer r.buf.mu.Unlock()
	if len(r.buf.arrivals) > 0 {
		pendingSince = r.buf.firstDeltaAt.Add(r.buf.arrivals[0].after)
		for _, a := range r.buf.arrivals {
			if a.end-r.buf.shownLen >= r.env.NativeFlushSize {
				crossedAt = r.buf.firstDeltaAt.Add(a.after)
				break
			}
		}
	}
	return r.buf.text.String(), r.buf.shownLen, pendingSince, crossedAt
}

// shownUpTo records that the text up to n bytes is on the platform.
func (r *Renderer) shownUpTo(n int) {
	r.buf.mu.Lock()
	defer r.buf.mu.Unlock()
	r.buf.shownLen = n
	i := 0
	for i < len(r.buf.arrivals) && r.buf.arrivals[i].end <= n {
		i++
	}
	r.buf.arrivals = append(r.buf.arrivals[:0], r.buf.arrivals[i:]...)
}

// Reset forgets the text of a failed attempt that showed nothing.
func (r *Renderer) Reset() {
	r.buf.mu.Lock()
	r.buf.text.Reset()
	r.buf.arrivals = r.buf.arrivals[:0]
	r.buf.shownLen, r.buf.firstDeltaAt = 0, time.Time{}
	r.buf.visible.Store(false)
	r.buf.mu.Unlock()
	r.rec.recordedLen = 0
}

// step makes the next update if it is due and returns 0, or returns how
// long to wait before trying again.
func (r *Renderer) step() time.Duration {
	ctx := r.env.Work
	now := r.env.Now()
	r.fl.stepAt, r.fl.stepStore, r.fl.tokensAt = now, 0, time.Time{}
	text, shownLen, pendingSince, crossedAt := r.snapshot()
	if len(text) <= shownLen {
		return 0
	}
	if len(r.msg.refs) == 0 {
		if strings.TrimSpace(text) == "" {
			return 0 // whitespace alone is not shown (finish tells an empty reply)
		}
		if now.Before(r.fl.backoffUntil) {
			return r.fl.backoffUntil.Sub(now)
		}
		if r.first(ctx, text, budget.Later(pendingSince, r.fl.backoffUntil)) {
			return 0
		}
		return max(r.fl.backoffUntil.Sub(r.env.Now()), r.interval/4)
	}
	ready := r.surf.due(r.fl.lastUpdate.Add(r.interval), crossedAt)
	ready = budget.Later(budget.Later(ready, r.fl.backoffUntil), r.fl.retryAt)
	if !r.surf.changed(text, shownLen) {
		return 0
	}
	budgets := budget.UpdateBudgets(r.caps.Budgeter, r.msg.refs[len(r.msg.refs)-1])
	keys := budget.Keys(budgets)
	// The clock again: changed rendered a preview, and held tokens must
	// still be within their spend interval when the update goes out.
	now = r.env.Now()
	if !r.fl.held.Usable(keys, ready, now) {
		r.fl.held = nil
		// Reserve the update's tokens a little ahead of it when possible,
		// so that the store round trip is off its path. Whether it is
		// possible is decided at the lead, not before: a decision taken
		// earlier (a delta's step) would keep the round trip on the
		// path when the store's round trips got fast again meanwhile.
		if lead := ready.Add(-budget.ReserveLead(r.interval)); now.Before(lead) {
			return lead.Sub(now)
		}
		ahead := r.env.Pacer.CanReserveAhead(budgets, budget.ReserveLead(r.interval))
		if !ahead && now.Before(ready) {
			// Round trips are slow just now (often a spike that passes
			// within tens of milliseconds): asked again every
			// aheadRecheck while the tokens could still be reserved
			// ahead, then taken at the update's moment.
			if last := ready.Add(-r.env.Pacer.AheadLead(budgets)); now.Before(last) {
				return min(last.Sub(now), aheadRecheck)
			}
			return ready.Sub(now)
		}
		if ahead && ready.Sub(now) < r.env.Pacer.AheadLead(budgets) {
			// Too late to reserve the tokens ahead of the update (the
			// flusher woke late, or held tokens lapsed): rather than wait
			// for the store at its moment, the update is put off to the
			// first moment they can be reserved ahead of, from now. Its
			// text is coalesced into that one; the final shows it all.
			r.skip(metrics.SkipLate)
			r.fl.retryAt = now.Add(r.env.Pacer.AheadLead(budgets))
			ready = r.fl.retryAt
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
		h, reason, wait := r.env.Pacer.ReserveInterim(ctx, budgets, ready, ahead)
		<-recorded
		r.fl.stepStore += r.env.Now().Sub(now)
		if h == nil {
			r.skip(reason)
			return r.retryIn(max(wait, r.interval/4))
		}
		r.fl.held = h
		now = r.env.Now()
	}
	if at := budget.Later(ready, r.fl.held.From); now.Before(at) {
		return at.Sub(now)
	}
	if r.fl.stepStore == 0 {
		r.fl.tokensAt = r.fl.held.From
	}
	r.fl.held = nil
	// The update shows no more than the record covers (written with the
	// reservation), unless the store failed to take the record.
	text, _, _, _ = r.snapshot()
	upTo := len(text)
	if !r.rec.recordFailed {
		upTo = min(upTo, max(r.rec.recordedLen, shownLen))
	}
	wait := r.surf.update(ctx, ready, upTo)
	wait = r.retryIn(wait)
	r.maybeRecord(ctx, false)
	return wait
}

// aheadRecheck is how often, between the lead and the last moment its
// tokens could still be reserved ahead, an update whose store round trips
// are too slow for that asks again (step).
const aheadRecheck = 10 * time.Millisecond

// retryIn has a skipped intermediate update tried again after wait (a
// deliberate wait, like the edit interval; none when wait is 0) and
// returns how long the flusher sleeps first: until the lead before the
// new try, at which its tokens are reserved ahead of it (step), not until
// the try itself, which would put the reservation's store round trip on
// its path.
func (r *Renderer) retryIn(wait time.Duration) time.Duration {
	r.fl.retryAt = r.env.Now().Add(wait)
	if wait <= 0 {
		return 0
	}
	return max(wait-budget.ReserveLead(r.interval), time.Millisecond)
}

// skip counts a skipped intermediate update.
func (r *Renderer) skip(reason string) {
	r.st.skipped++
	r.env.Metrics.Skipped.WithLabelValues(reason).Inc()
}

// observeUpdate reports one update request to the Observer; the flusher
// started the step making it at r.fl.stepAt.
func (r *Renderer) observeUpdate(readyAt time.Time) {
	if r.env.Observer != nil && !readyAt.IsZero() {
		wake, store := max(r.fl.stepAt.Sub(readyAt), 0), r.fl.stepStore
		// Tokens reserved ahead whose moment came after readyAt (their
		// round trip took longer than the margin they were placed by):
		// the flusher slept until then on purpose, waiting for the store,
		// not for a core.
		if w := min(max(r.fl.tokensAt.Sub(readyAt), 0), wake); w > 0 {
			wake -= w
			store += w
		}
		r.env.Observer.Update(UpdateTiming{
			Lag:   r.env.Now().Sub(readyAt),
			Wake:  wake,
			Store: store,
			First: len(r.msg.refs) == 0,
		})
	}
}

func runeLen(s string) int { return utf8.RuneCountInString(s) }

// CtxOr returns ctx, or a fresh bounded context when ctx is already done,
// so that clean-up (finals, notices) still happens at shutdown.
func CtxOr(ctx context.Context, d time.Duration) (context.Context, context.CancelFunc) {
	if ctx.Err() == nil {
		return context.WithTimeout(ctx, d)
	}
	return context.WithTimeout(context.WithoutCancel(ctx), min(d, 10*time.Second))
}
