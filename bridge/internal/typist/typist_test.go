package typist

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// idle reports whether every lane has ended: no renewal queued and no
// taker goroutine left.
func (t *Typist) idle() bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.lanes) == 0
}

func waitIdle(t *testing.T, ty *Typist) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !ty.idle() {
		if time.Now().After(deadline) {
			t.Fatal("the typist kept a lane (a taker goroutine) after every renewal stopped")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func free(context.Context) error { return nil }

// Renewals go on at their interval, each in its turn, until stopped; after
// Stop returns no call comes, and the lane's goroutines end.
func TestRenewedUntilStopped(t *testing.T) {
	ty := New(nil)
	const n = 10
	var counts [n]atomic.Int32
	hs := make([]*Handle, n)
	for i := range hs {
		hs[i] = ty.Start(t.Context(), Renewal{Lane: "p", Take: free, Interval: 20 * time.Millisecond,
			Type: func(context.Context) error { counts[i].Add(1); return nil }})
	}
	time.Sleep(300 * time.Millisecond)
	for i, h := range hs {
		h.Stop()
		if c := counts[i].Load(); c < 3 {
			t.Errorf("renewal %d: %d calls in 300 ms at a 20 ms interval", i, c)
		}
	}
	var after [n]int32
	for i := range after {
		after[i] = counts[i].Load()
	}
	time.Sleep(100 * time.Millisecond)
	for i := range after {
		if got := counts[i].Load(); got != after[i] {
			t.Errorf("renewal %d: %d calls after Stop", i, got-after[i])
		}
	}
	waitIdle(t, ty)
}

// An interval of 0 makes one call; the lane then ends by itself.
func TestOnceWithoutInterval(t *testing.T) {
	ty := New(nil)
	var calls atomic.Int32
	ty.Start(t.Context(), Renewal{Lane: "p", Take: free, Type: func(context.Context) error { calls.Add(1); return nil }})
	waitIdle(t, ty)
	if c := calls.Load(); c != 1 {
		t.Errorf("%d calls, want 1", c)
	}
}

// A renewal stopped while it waits for its tokens makes no call, and its
// wait ends with Stop; so does one whose context ends.
func TestStopEndsTheWaitForTokens(t *testing.T) {
	ty := New(nil)
	var calls atomic.Int32
	waiting := make(chan struct{}, 2)
	take := func(ctx context.Context) error { waiting <- struct{}{}; <-ctx.Done(); return ctx.Err() }
	typ := func(context.Context) error { calls.Add(1); return nil }
	h := ty.Start(t.Context(), Renewal{Lane: "p", Take: take, Type: typ, Interval: time.Millisecond})
	ctx, cancel := context.WithCancel(t.Context())
	ty.Start(ctx, Renewal{Lane: "q", Take: take, Type: typ, Interval: time.Millisecond})
	<-waiting
	<-waiting
	h.Stop()
	cancel()
	waitIdle(t, ty)
	if c := calls.Load(); c != 0 {
		t.Errorf("%d calls by stopped renewals", c)
	}
}

// Stop waits for a call in progress: the first text is never overtaken by
// a late indicator.
func TestStopWaitsForTheCallInProgress(t *testing.T) {
	ty := New(nil)
	inCall, release := make(chan struct{}), make(chan struct{})
	var done atomic.Bool
	h := ty.Start(t.Context(), Renewal{Lane: "p", Take: free, Interval: time.Hour, Type: func(context.Context) error {
		close(inCall)
		<-release
		done.Store(true)
		return nil
	}})
	<-inCall
	stopped := make(chan struct{})
	go func() { h.Stop(); close(stopped) }()
	select {
	case <-stopped:
		t.Fatal("Stop returned during the call")
	case <-time.After(50 * time.Millisecond):
	}
	close(release)
	<-stopped
	if !done.Load() {
		t.Error("Stop returned before the call ended")
	}
	waitIdle(t, ty)
}

// However many renewals wait for tokens, a lane has at most Takers waits
// at once, serves them all in turn as tokens come, and one lane's wait
// never holds another's.
func TestTakersPerLane(t *testing.T) {
	ty := New(nil)
	var (
		mu           sync.Mutex
		inTake, most int
	)
	tokens := make(chan struct{})
	take := func(ctx context.Context) error {
		mu.Lock()
		inTake++
		most = max(most, inTake)
		mu.Unlock()
		defer func() { mu.Lock(); inTake--; mu.Unlock() }()
		select {
		case <-tokens:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	const n = 40
	var typed sync.WaitGroup
	typed.Add(n)
	hs := make([]*Handle, n)
	for i := range hs {
		hs[i] = ty.Start(t.Context(), Renewal{Lane: "slow", Take: take, Type: func(context.Context) error { typed.Done(); return nil }})
	}
	other := make(chan struct{})
	ty.Start(t.Context(), Renewal{Lane: "other", Take: free, Type: func(context.Context) error { close(other); return nil }})
	select {
	case <-other:
	case <-time.After(5 * time.Second):
		t.Fatal("a lane waiting for tokens held another lane's renewal")
	}
	go func() {
		for range n {
			tokens <- struct{}{}
		}
	}()
	typed.Wait()
	mu.Lock()
	if most > Takers || most == 0 {
		t.Errorf("%d waits for tokens at once, want 1..%d", most, Takers)
	}
	mu.Unlock()
	waitIdle(t, ty)
}

// The end of Start's context (the process shutting down) removes a
// renewal at once, not when its next turn comes: no goroutine waits for it.
func TestContextEndRemovesTheNextTurn(t *testing.T) {
	ty := New(nil)
	ctx, cancel := context.WithCancel(t.Context())
	called := make(chan struct{})
	ty.Start(ctx, Renewal{Lane: "p", Take: free, Interval: time.Hour, Type: func(context.Context) error { close(called); return nil }})
	<-called
	cancel()
	waitIdle(t, ty)
}

// A renewal started with a context already ended makes no call.
func TestStartAfterContextEnd(t *testing.T) {
	ty := New(nil)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	var calls atomic.Int32
	h := ty.Start(ctx, Renewal{Lane: "p", Take: func(ctx context.Context) error { return ctx.Err() }, Interval: time.Millisecond,
		Type: func(context.Context) error { calls.Add(1); return nil }})
	waitIdle(t, ty)
	h.Stop()
	if c := calls.Load(); c != 0 {
		t.Errorf("%d calls with an ended context", c)
	}
}
