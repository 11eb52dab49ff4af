package platformtest_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/secondme-bridge/secondme-bridge/platforms"
	"github.com/secondme-bridge/secondme-bridge/platforms/platformtest"
)

func TestRunDeliver(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	p := platformtest.New(platformtest.Options{Name: "discord"})
	pl := p.As()
	if err := p.Deliver(ctx, platforms.Event{Text: "early"}); !errors.Is(err, platformtest.ErrNotRunning) {
		t.Fatalf("Deliver before Run: err = %v", err)
	}
	got := make(chan platforms.Event, 1)
	h := platforms.HandlerFunc(func(_ context.Context, ev platforms.Event) { got <- ev })
	runCtx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- pl.Run(runCtx, h) }()
	if err := p.WaitReady(ctx); err != nil {
		t.Fatal(err)
	}
	if !pl.Ready() {
		t.Error("Ready = false while running")
	}
	if err := pl.Run(ctx, h); !errors.Is(err, platformtest.ErrAlreadyRunning) {
		t.Errorf("second Run: err = %v", err)
	}
	if err := p.Deliver(ctx, platforms.Event{Text: "hi", Platform: "wrong", User: platforms.User{ID: "U1"}}); err != nil {
		t.Fatal(err)
	}
	if ev := <-got; ev.Platform != "discord" || ev.Text != "hi" || ev.User.ID != "U1" {
		t.Errorf("handler got %+v", ev)
	}
	if evs := p.Events(); len(evs) != 1 || evs[0].Platform != "discord" {
		t.Errorf("Events() = %+v", evs)
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("Run after cancel: %v", err)
	}
	if pl.Ready() {
		t.Error("Ready after Run returned")
	}

	lost := errors.New("connection lost")
	go func() { done <- pl.Run(ctx, h) }()
	if err := p.WaitReady(ctx); err != nil {
		t.Fatal(err)
	}
	p.Stop(lost)
	if err := <-done; !errors.Is(err, lost) {
		t.Errorf("Run after Stop: err = %v", err)
	}
	if err := pl.Run(ctx, nil); err == nil {
		t.Error("Run(nil handler) succeeded")
	}
}

func TestLatency(t *testing.T) {
	t.Parallel()
	const lat = 40 * time.Millisecond
	p := platformtest.New(platformtest.Options{Latency: lat})
	start := time.Now()
	if _, err := p.As().Send(t.Context(), to, msg("x")); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d < lat {
		t.Errorf("Send took %v, want at least %v", d, lat)
	}
	// A deadline far inside the latency (a short one against 40 ms could
	// race the latency's timer on a stalled machine).
	slow := platformtest.New(platformtest.Options{Latency: time.Minute})
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Millisecond)
	defer cancel()
	if _, err := slow.As().Send(ctx, to, msg("y")); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Send with short deadline: err = %v", err)
	}
	if calls := slow.Calls(); len(calls) != 1 || calls[0].Err == nil {
		t.Errorf("calls = %+v, want the timed-out one recorded with its error", calls)
	}
}

func TestConcurrentCallsAndWaitFor(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	// The hook holds every edit until release, so that WaitForCalls is
	// already waiting when the edits are made and has to be woken up.
	release := make(chan struct{})
	p := platformtest.New(platformtest.Options{Latency: time.Millisecond, Hook: func(c platformtest.Call) error {
		if c.Kind == platformtest.CallEdit {
			<-release
		}
		return nil
	}})
	pl := p.As()
	const n = 50
	var wg sync.WaitGroup
	releaseEdits := sync.OnceFunc(func() { close(release) })
	defer func() {
		releaseEdits()
		wg.Wait()
	}()
	for range n {
		wg.Go(func() {
			ref, err := pl.Send(ctx, to, msg("hi"))
			if err == nil {
				_, err = platforms.ResolveCaps(pl).Editor.Edit(ctx, ref, msg("done"))
			}
			if err != nil {
				t.Error(err)
			}
		})
	}
	type result struct {
		calls []platformtest.Call
		err   error
	}
	waited := make(chan result, 1)
	go func() {
		calls, err := p.WaitForCalls(ctx, platformtest.CallEdit, n)
		waited <- result{calls, err}
	}()
	if _, err := p.WaitForCalls(ctx, platformtest.CallSend, n); err != nil {
		t.Fatal(err)
	}
	select {
	case r := <-waited:
		t.Fatalf("WaitForCalls returned while every edit was held: %d calls, %v", len(r.calls), r.err)
	case <-time.After(20 * time.Millisecond):
	}
	releaseEdits()
	var r result
	select {
	case r = <-waited:
	case <-time.After(5 * time.Second):
		t.Fatalf("WaitForCalls not woken up by the edits\n%s", p.Dump())
	}
	if r.err != nil {
		t.Fatal(r.err)
	}
	for i, c := range r.calls {
		if c.Kind != platformtest.CallEdit || c.Err != nil || c.Text != "done" {
			t.Errorf("WaitForCalls call %d = %+v, want a successful edit to \"done\"", i, c)
		}
	}
	wg.Wait()
	calls := p.Calls()
	if len(calls) != 2*n {
		t.Errorf("got %d calls, want %d sends and %d edits", len(calls), n, n)
	}
	kinds := map[platformtest.CallKind]int{}
	for i, c := range calls {
		kinds[c.Kind]++
		if c.Err != nil || c.Seq != i+1 {
			t.Errorf("call %d = %+v, want Seq %d and no error", i, c, i+1)
		}
	}
	if kinds[platformtest.CallSend] != n || kinds[platformtest.CallEdit] != n {
		t.Errorf("calls by kind = %v, want %d sends and %d edits", kinds, n, n)
	}
	p.MustWaitFor(t, time.Second, "all messages edited", func(p *platformtest.Platform) bool {
		for _, m := range p.Messages() {
			if m.Text != "done" {
				return false
			}
		}
		return len(p.Messages()) == n
	})
	m, err := p.WaitForMessage(ctx, func(m platformtest.Message) bool { return m.Edits == 1 })
	if err != nil || m.Text != "done" {
		t.Errorf("WaitForMessage = %+v, %v", m, err)
	}
}

func TestWaitForTimesOut(t *testing.T) {
	t.Parallel()
	p := platformtest.New(platformtest.Options{})
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Millisecond)
	defer cancel()
	if _, err := p.WaitForCalls(ctx, platformtest.CallSend, 1); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("WaitForCalls: err = %v, want DeadlineExceeded", err)
	}
}
