package platformtest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/secondme-bridge/secondme-bridge/platforms"
)

// Sentinel errors returned by the fake.
var (
	// ErrNotRunning is returned by Deliver when Run is not running.
	ErrNotRunning = errors.New("platformtest: not running")
	// ErrAlreadyRunning is returned by a second concurrent Run.
	ErrAlreadyRunning = errors.New("platformtest: already running")
	// ErrUnknownMessage is returned for a ref that was never posted or was
	// deleted.
	ErrUnknownMessage = errors.New("platformtest: unknown message")
	// ErrStreamNotOpen is returned by AppendStream and StopStream on a
	// message that is not an open stream.
	ErrStreamNotOpen = errors.New("platformtest: stream not open")
	// ErrNoStarter is returned by OpenThread for a target without
	// ReplyTo: a thread is opened on the message it answers.
	ErrNoStarter = errors.New("platformtest: no starter message for the thread")
	// ErrEmptyMessage is returned by Send, Edit and SendEphemeral for text
	// that is empty and has no buttons (real platforms reject it).
	ErrEmptyMessage = errors.New("platformtest: empty message")
)

// DefaultMaxMessageChars is the message limit when Options.Limits leaves it
// zero (Discord's).
const DefaultMaxMessageChars = 2000

// Options configure a fake platform. The zero value is a platform named
// "fake" with every capability but Budgeter and a 2000-rune limit.
type Options struct {
	// Name is the platform name (default "fake").
	Name string
	// Limits are returned by Limits(); MaxMessageChars defaults to
	// DefaultMaxMessageChars.
	Limits platforms.Limits
	// NoEdit, NoStream, NoTyping, NoEphemeral, NoDelete and NoThreads
	// switch the ability off: As().Caps() leaves its field nil.
	NoEdit, NoStream, NoTyping, NoEphemeral, NoDelete, NoThreads bool
	// AgentSessions gives As().Caps() a platforms.AgentSessions recording
	// its calls (CallSessionStatus, CallSessionTitle); off by default.
	AgentSessions bool
	// Budgets, when set, gives As().Caps() a platforms.Budgeter returning
	// Budgets(ref).
	Budgets func(platforms.MessageRef) []platforms.Budget
	// TypingBudgets, with Budgets, are the budgets of a typing call
	// (platforms.TypingBudgeter; none when nil).
	TypingBudgets func(platforms.Target) []platforms.Budget
	// CanStream decides Streamer.CanStream (default: always, until
	// SetStreamUnsupported).
	CanStream func(platforms.Target) bool
	// MaxStreamChars, when > 0, bounds the total text of a native stream;
	// an AppendStream past it gets platforms.ErrTooLong.
	MaxStreamChars int
	// MoveOnEdit makes every successful Edit move the message to a new id
	// and return the new ref (the old one is then unknown), as Discord
	// does when an interaction response becomes a channel message; it
	// tests that the bridge uses the ref Edit returns.
	MoveOnEdit bool
	// Latency delays every call (respecting its context).
	Latency time.Duration
	// Hook, when set, is called before each call is applied (Seq and At
	// are not set yet); a non-nil error is returned by the call instead.
	Hook func(Call) error
}

// Platform is the controller of a fake platform: the test inspects and
// steers it, and hands the bridge As().
type Platform struct {
	opts Options

	mu          sync.Mutex
	changed     chan struct{} // closed and replaced on every change
	calls       []Call
	msgs        map[platforms.MessageID]*Message
	order       []platforms.MessageID // message ids in creation order
	nextID      int
	events      []platforms.Event
	handler     platforms.Handler
	stopRun     chan error
	failures    map[CallKind][]error
	hook        func(Call) error
	unsupported bool
}

// New returns a fake platform.
func New(opts Options) *Platform {
	if opts.Name == "" {
		opts.Name = "fake"
	}
	if opts.Limits.MaxMessageChars <= 0 {
		opts.Limits.MaxMessageChars = DefaultMaxMessageChars
	}
	return &Platform{
		opts:     opts,
		changed:  make(chan struct{}),
		msgs:     make(map[platforms.MessageID]*Message),
		failures: make(map[CallKind][]error),
		hook:     opts.Hook,
	}
}

// notifyLocked wakes every waiter. p.mu must be held.
func (p *Platform) notifyLocked() {
	close(p.changed)
	p.changed = make(chan struct{})
}

// Calls returns every call so far, in order.
func (p *Platform) Calls() []Call {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Clone(p.calls)
}

// CallsOf returns the calls of the given kinds, in order.
func (p *Platform) CallsOf(kinds ...CallKind) []Call {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []Call
	for _, c := range p.calls {
		if slices.Contains(kinds, c.Kind) {
			out = append(out, c)
		}
	}
	return out
}

// Messages returns the current state of every message, in creation order.
func (p *Platform) Messages() []Message {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make([]Message, 0, len(p.order))
	for _, id := range p.order {
		out = append(out, p.msgs[id].clone())
	}
	return out
}

// Message returns the current state of the message with the given id.
func (p *Platform) Message(id platforms.MessageID) (Message, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	m, ok := p.msgs[id]
	if !ok {
		return Message{}, false
	}
	return m.clone(), true
}

func (m *Message) clone() Message {
	c := *m
	c.Buttons = slices.Clone(m.Buttons)
	c.Stop = cloneStop(m.Stop)
	return c
}

// Events returns the events delivered to the handler, in order.
func (p *Platform) Events() []platforms.Event {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Clone(p.events)
}

// FailNext makes the next n calls of kind fail with a
// *platforms.RateLimitError carrying retryAfter (the same one for all n).
func (p *Platform) FailNext(kind CallKind, n int, retryAfter time.Duration) {
	p.FailNextWith(kind, n, &platforms.RateLimitError{Platform: p.opts.Name, RetryAfter: retryAfter})
}

// FailNextWith makes the next n calls of kind fail with err.
func (p *Platform) FailNextWith(kind CallKind, n int, err error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for range n {
		p.failures[kind] = append(p.failures[kind], err)
	}
}

// SetHook replaces Options.Hook (nil removes it).
func (p *Platform) SetHook(hook func(Call) error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.hook = hook
}

// SetStreamUnsupported makes every Streamer call fail with a wrapped
// platforms.ErrStreamUnsupported (CanStream then answers false), as when a
// Slack workspace rejects native streaming for good; false lifts it.
func (p *Platform) SetStreamUnsupported(unsupported bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.unsupported = unsupported
	p.notifyLocked()
}

// Deliver pushes ev into the handler given to Run, as an adapter would, with
// ev.Platform set to the platform's name. It calls the handler on the
// calling goroutine and returns ErrNotRunning when Run is not running.
func (p *Platform) Deliver(ctx context.Context, ev platforms.Event) error {
	p.mu.Lock()
	h := p.handler
	if h != nil {
		ev.Platform = p.opts.Name
		ev.DedupeIDs = slices.Clone(ev.DedupeIDs)
		p.events = append(p.events, ev)
		p.notifyLocked()
	}
	p.mu.Unlock()
	if h == nil {
		return fmt.Errorf("deliver event: %w", ErrNotRunning)
	}
	h.HandleEvent(ctx, ev)
	return nil
}

// Stop makes a running Run return err, as when the connection fails for
// good. It does nothing when Run is not running.
func (p *Platform) Stop(err error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.stopRun != nil {
		select {
		case p.stopRun <- err:
		default:
		}
	}
}

// run implements platforms.Platform.Run.
func (p *Platform) run(ctx context.Context, h platforms.Handler) error {
	if h == nil {
		return errors.New("platformtest: run: nil handler")
	}
	p.mu.Lock()
	if p.handler != nil {
		p.mu.Unlock()
		return fmt.Errorf("run: %w", ErrAlreadyRunning)
	}
	stop := make(chan error, 1)
	p.handler, p.stopRun = h, stop
	p.notifyLocked()
	p.mu.Unlock()

	var err error
	select {
	case <-ctx.Done():
	case err = <-stop:
	}

	p.mu.Lock()
	p.handler, p.stopRun = nil, nil
	p.notifyLocked()
	p.mu.Unlock()
	return err
}

// ready implements platforms.Platform.Ready.
func (p *Platform) ready() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.handler != nil
}
