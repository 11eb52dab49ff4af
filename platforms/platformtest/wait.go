package platformtest

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"
)

// WaitFor blocks until cond(p) is true or ctx is done. cond is called once
// at the start and again after every change (a call, an event, Run starting
// or stopping); it may call p's inspection methods.
func (p *Platform) WaitFor(ctx context.Context, cond func(*Platform) bool) error {
	for {
		p.mu.Lock()
		changed := p.changed
		p.mu.Unlock()
		if cond(p) {
			return nil
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return fmt.Errorf("wait for condition: %w", context.Cause(ctx))
		}
	}
}

// WaitForCalls waits until at least n calls of kind have been made (failed
// ones included) and returns them.
func (p *Platform) WaitForCalls(ctx context.Context, kind CallKind, n int) ([]Call, error) {
	var calls []Call
	err := p.WaitFor(ctx, func(p *Platform) bool {
		calls = p.CallsOf(kind)
		return len(calls) >= n
	})
	if err != nil {
		return nil, fmt.Errorf("wait for %d %s calls (got %d): %w", n, kind, len(calls), err)
	}
	return calls, nil
}

// WaitForMessage waits until some message satisfies cond and returns it.
func (p *Platform) WaitForMessage(ctx context.Context, cond func(Message) bool) (Message, error) {
	var found Message
	err := p.WaitFor(ctx, func(p *Platform) bool {
		for _, m := range p.Messages() {
			if cond(m) {
				found = m
				return true
			}
		}
		return false
	})
	return found, err
}

// WaitReady waits until Run is running.
func (p *Platform) WaitReady(ctx context.Context) error {
	return p.WaitFor(ctx, func(p *Platform) bool { return p.ready() })
}

// MustWaitFor is WaitFor with a timeout for tests: on timeout it fails tb
// with what, followed by every recorded call.
func (p *Platform) MustWaitFor(tb testing.TB, timeout time.Duration, what string, cond func(*Platform) bool) {
	tb.Helper()
	ctx, cancel := context.WithTimeout(tb.Context(), timeout)
	defer cancel()
	if err := p.WaitFor(ctx, cond); err != nil {
		tb.Fatalf("platformtest: %s: %v\n%s", what, err, p.Dump())
	}
}

// Dump renders every recorded call and message, for test failure output.
func (p *Platform) Dump() string {
	var b strings.Builder
	b.WriteString("calls:\n")
	for _, c := range p.Calls() {
		fmt.Fprintf(&b, "  #%d %s ref=%s/%s target=%s", c.Seq, c.Kind, c.Ref.Channel, c.Ref.ID, c.Target.Channel)
		if c.Text != "" {
			fmt.Fprintf(&b, " text=%q", c.Text)
		}
		if c.Err != nil {
			fmt.Fprintf(&b, " err=%v", c.Err)
		}
		b.WriteByte('\n')
	}
	b.WriteString("messages:\n")
	for _, m := range p.Messages() {
		fmt.Fprintf(&b, "  %s/%s edits=%d appends=%d deleted=%v stream=%s text=%q\n",
			m.Ref.Channel, m.Ref.ID, m.Edits, m.Appends, m.Deleted, m.Stream, m.Text)
	}
	return b.String()
}
