package keyq

import (
	"context"
	"errors"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"
)

// waitTimeout bounds every wait: generous for a loaded machine.
const waitTimeout = 10 * time.Second

func waitFor(t *testing.T, ch <-chan struct{}, what string) {
	t.Helper()
	select {
	case <-ch:
	case <-time.After(waitTimeout):
		t.Fatalf("timed out waiting for %s", what)
	}
}

// recorder records which functions ran, per key, in the order they ran.
type recorder struct {
	mu  sync.Mutex
	got map[string][]int
}

func (r *recorder) fn(key string, i int) func() {
	return func() {
		r.mu.Lock()
		defer r.mu.Unlock()
		if r.got == nil {
			r.got = map[string][]int{}
		}
		r.got[key] = append(r.got[key], i)
	}
}

func (r *recorder) check(t *testing.T, keys []string, each int) {
	t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, k := range keys {
		if len(r.got[k]) != each {
			t.Fatalf("key %s ran %d functions, want %d", k, len(r.got[k]), each)
		}
		for j := 1; j < each; j++ {
			if r.got[k][j] < r.got[k][j-1] {
				t.Fatalf("key %s out of order: %v", k, r.got[k])
			}
		}
	}
}

func TestOrderPerKey(t *testing.T) {
	t.Parallel()
	q := New(1000)
	var r recorder
	keys := []string{"a", "b", "c"}
	for i := range 300 {
		key := keys[i%3]
		if err := q.TrySubmit(key, r.fn(key, i)); err != nil {
			t.Fatalf("submit %d: %v", i, err)
		}
	}
	q.Close()
	r.check(t, keys, 100)
}

// One submitter held back by a small bound still gets its functions run
// in order, none lost.
func TestSubmitWaitsAndKeepsOrder(t *testing.T) {
	t.Parallel()
	q := New(3)
	var r recorder
	for i := range 200 {
		if err := q.Submit(t.Context(), "k", r.fn("k", i)); err != nil {
			t.Fatalf("submit %d: %v", i, err)
		}
	}
	q.Close()
	r.check(t, []string{"k"}, 200)
}

// A key whose function blocks does not hold back another key.
func TestKeysRunConcurrently(t *testing.T) {
	t.Parallel()
	q := New(10)
	release, bDone := make(chan struct{}), make(chan struct{})
	if err := q.TrySubmit("a", func() { <-release }); err != nil {
		t.Fatal(err)
	}
	if err := q.TrySubmit("b", func() { close(bDone) }); err != nil {
		t.Fatal(err)
	}
	waitFor(t, bDone, "key b to run while key a is blocked")
	close(release)
	q.Close()
}

func TestBound(t *testing.T) {
	t.Parallel()
	q := New(2)
	release := make(chan struct{})
	for _, k := range []string{"a", "b"} {
		if err := q.TrySubmit(k, func() { <-release }); err != nil {
			t.Fatal(err)
		}
	}
	if got := q.Len(); got != 2 {
		t.Errorf("Len = %d, want 2", got)
	}
	ran := make(chan struct{})
	if err := q.TrySubmit("c", func() { close(ran) }); !errors.Is(err, ErrFull) {
		t.Fatalf("TrySubmit at the bound: %v, want ErrFull", err)
	}

	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if err := q.Submit(ctx, "c", func() { close(ran) }); !errors.Is(err, context.Canceled) {
		t.Fatalf("Submit at the bound with an ended context: %v, want context.Canceled", err)
	}

	done := make(chan error, 1)
	go func() { done <- q.Submit(t.Context(), "c", func() { close(ran) }) }()
	select {
	case err := <-done:
		t.Fatalf("Submit returned %v while the queue was full", err)
	default:
	}
	close(release) // frees both slots
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Submit after room freed: %v", err)
		}
	case <-time.After(waitTimeout):
		t.Fatal("Submit still waiting after room freed")
	}
	waitFor(t, ran, "the function submitted after waiting to run")
	q.Close()
}

// Close wakes a Submit waiting for room with ErrClosed, runs what was
// queued, and refuses more.
func TestCloseWhileFull(t *testing.T) {
	t.Parallel()
	q := New(1)
	release, started := make(chan struct{}), make(chan struct{})
	finished := false
	if err := q.TrySubmit("a", func() { close(started); <-release; finished = true }); err != nil {
		t.Fatal(err)
	}
	waitFor(t, started, "the first function to start")
	done := make(chan error, 1)
	go func() {
		done <- q.Submit(context.Background(), "b", func() { t.Error("function submitted to a closing queue ran") })
	}()
	closed := make(chan struct{})
	go func() { q.Close(); close(closed) }()
	select {
	case err := <-done:
		if !errors.Is(err, ErrClosed) {
			t.Fatalf("waiting Submit at Close: %v, want ErrClosed", err)
		}
	case <-time.After(waitTimeout):
		t.Fatal("Close did not wake the waiting Submit")
	}
	select {
	case <-closed:
		t.Fatal("Close returned before the running function finished")
	default:
	}
	close(release)
	waitFor(t, closed, "Close to return")
	if !finished {
		t.Error("Close returned before the queued function finished")
	}
	if err := q.TrySubmit("c", func() {}); !errors.Is(err, ErrClosed) {
		t.Errorf("TrySubmit after Close: %v, want ErrClosed", err)
	}
	q.Close() // twice is fine
}

// No goroutine of the queue is left once its keys are idle, nor after
// Close. Not parallel: it reads every goroutine's stack.
func TestNoGoroutineLeak(t *testing.T) {
	q := New(100)
	var wg sync.WaitGroup
	for i := range 50 {
		wg.Add(1)
		if err := q.TrySubmit(string(rune('A'+i)), wg.Done); err != nil {
			t.Fatal(err)
		}
	}
	wg.Wait()
	deadline := time.Now().Add(waitTimeout)
	for drainers() > 0 {
		if time.Now().After(deadline) {
			t.Fatalf("%d queue goroutines still running with every key idle", drainers())
		}
		runtime.Gosched()
		time.Sleep(time.Millisecond)
	}
	q.Close()
	if n := drainers(); n != 0 {
		t.Errorf("%d queue goroutines after Close", n)
	}
}

// drainers counts the goroutines running Queue.drain.
func drainers() int {
	buf := make([]byte, 1<<20)
	return strings.Count(string(buf[:runtime.Stack(buf, true)]), "keyq.(*Queue).drain(")
}
