package secondme

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"sync/atomic"
	"time"
)

// EventType is the kind of a stream Event.
type EventType int

// Stream event types.
const (
	// EventSession carries the ID of a newly created session (only when
	// the request had no SessionID). Persist it for the next turn.
	EventSession EventType = iota + 1
	// EventDelta carries a piece of the reply text.
	EventDelta
	// EventTool reports web-search activity (with EnableWebSearch).
	EventTool
	// EventDone marks data: [DONE], the normal end. It is the last event;
	// the following Next returns false and Err returns nil.
	EventDone
)

// Event is one item of a chat stream.
type Event struct {
	Type      EventType
	SessionID string        // EventSession
	Text      string        // EventDelta
	Tool      *ToolActivity // EventTool
}

// ToolActivity is a tool_call or tool_result event.
type ToolActivity struct {
	Kind        string // "tool_call" | "tool_result"
	ToolName    string
	Status      string // tool_call, e.g. "searching"
	Query       string // tool_result
	ResultCount int    // tool_result
}

// Stream is a chat reply being received, read like bufio.Scanner:
//
//	for st.Next() { ev := st.Current(); … }
//	if err := st.Err(); err != nil { … }
//
// Next, Current and Err belong to one goroutine. Close may be called at
// any time from any goroutine, any number of times; it unblocks a Next
// waiting for data. The stream releases its connection by itself when it
// ends ([DONE], event: error, EOF, read error, context end, idle timeout),
// so Close is only needed to abandon it early — deferring it is harmless.
type Stream struct {
	dec    decoder
	parent context.Context
	ctx    context.Context // parent plus idle timeout and Close
	cancel context.CancelCauseFunc
	idle   time.Duration
	timer  *time.Timer
	stop   func() bool // deregisters the close-on-cancel hook

	mu          sync.Mutex
	body        io.ReadCloser
	closed      atomic.Bool
	releaseOnce sync.Once

	cur   Event
	err   error
	ended bool
}

// newStream prepares a stream whose context ends with the parent, with
// ErrIdleTimeout after idle without bytes (0 disables), or on Close.
func newStream(parent context.Context, idle time.Duration, endpoint string, secrets []string) *Stream {
	s := &Stream{parent: parent, idle: idle}
	s.ctx, s.cancel = context.WithCancelCause(parent)
	s.dec.endpoint = endpoint
	s.dec.secrets = secrets
	if idle > 0 {
		s.timer = time.AfterFunc(idle, s.onIdle)
	}
	// Close the body as soon as the context ends, whatever the transport
	// does with a cancelled request.
	s.stop = context.AfterFunc(s.ctx, s.closeBody)
	return s
}

// attach sets the response body; reads go through the idle timer.
func (s *Stream) attach(body io.ReadCloser, status int) {
	s.mu.Lock()
	s.body = body
	s.mu.Unlock()
	s.dec.status = status
	// 1 KiB holds a delta line or several (they are a few hundred bytes);
	// longer lines go through the decoder's accumulator, so this bounds
	// memory per live stream only, and every conversation has one.
	s.dec.r = bufio.NewReaderSize(idleReader{s}, streamBufferSize)
}

// streamBufferSize is a live stream's read buffer.
const streamBufferSize = 1 << 10

func (s *Stream) onIdle() {
	s.cancel(ErrIdleTimeout)
	s.closeBody()
}

func (s *Stream) closeBody() {
	s.mu.Lock()
	b := s.body
	s.mu.Unlock()
	if b != nil {
		_ = b.Close() // the body is abandoned; its close error tells nothing
	}
}

// idleReader resets the idle timer on every read that returns bytes.
type idleReader struct{ s *Stream }

func (r idleReader) Read(p []byte) (int, error) {
	n, err := r.s.body.Read(p)
	if n > 0 && r.s.timer != nil {
		r.s.timer.Reset(r.s.idle)
	}
	return n, err
}

// Next advances to the next event and reports whether there is one. It
// returns false at the end of the stream, after which Err tells why.
func (s *Stream) Next() bool {
	if s.ended {
		return false
	}
	if s.closed.Load() {
		s.finish(ErrStreamClosed)
		return false
	}
	ev, err := s.dec.next()
	if err != nil {
		s.finish(s.endErr(err))
		return false
	}
	s.cur = ev
	if ev.Type == EventDone {
		s.finish(nil)
	}
	return true
}

// Buffered reports whether bytes of the stream are already read and wait
// in its buffer, so that the next Next may return without waiting on the
// connection. A reader that pauses between reads (to take several events
// per wake-up) pauses only when it reports false.
func (s *Stream) Buffered() bool { return s.dec.r.Buffered() > 0 }

// Current returns the event of the last successful Next.
func (s *Stream) Current() Event { return s.cur }

// Err returns why the stream ended: nil after [DONE]; a *APIError for
// event: error; ErrIncompleteStream (wrapped, with any read error) on EOF
// or a broken connection before [DONE]; ErrIdleTimeout (wrapped);
// the context's error (wrapped) on cancellation or deadline;
// ErrStreamClosed after an early Close. Nil while the stream is running.
func (s *Stream) Err() error { return s.err }

// Close releases the stream. It is idempotent and safe to call
// concurrently with Next; it always returns nil.
func (s *Stream) Close() error {
	s.closed.Store(true)
	s.release(ErrStreamClosed)
	return nil
}

func (s *Stream) finish(err error) {
	s.ended = true
	s.err = err
	s.release(ErrStreamClosed)
}

func (s *Stream) release(cause error) {
	s.releaseOnce.Do(func() {
		if s.timer != nil {
			s.timer.Stop()
		}
		s.stop()
		s.cancel(cause)
		s.closeBody()
	})
}

// endErr classifies the error that ended reading.
func (s *Stream) endErr(err error) error {
	var ae *APIError
	switch {
	case errors.As(err, &ae):
		return err
	case errors.Is(err, errLineTooLong):
		return fmt.Errorf("secondme: read chat stream: %w", err)
	}
	if s.ctx.Err() != nil {
		cause := context.Cause(s.ctx)
		switch {
		case errors.Is(cause, ErrIdleTimeout):
			return fmt.Errorf("secondme: read chat stream: %w", ErrIdleTimeout)
		case s.parent.Err() != nil:
			return fmt.Errorf("secondme: read chat stream: %w", s.parent.Err())
		default:
			return ErrStreamClosed
		}
	}
	if s.closed.Load() {
		return ErrStreamClosed
	}
	if errors.Is(err, io.EOF) {
		return fmt.Errorf("secondme: read chat stream: %w", ErrIncompleteStream)
	}
	return fmt.Errorf("secondme: read chat stream: %w: %w", ErrIncompleteStream, &netError{op: "read " + s.dec.endpoint, err: err})
}
