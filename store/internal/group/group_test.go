package group

import (
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestLoneCallIsSentByItsCaller: with nothing under way, Add sends the
// call in a batch of its own before it returns.
func TestLoneCallIsSentByItsCaller(t *testing.T) {
	t.Parallel()
	var batches [][]int
	g := &Group[int]{Send: func(b []int) { batches = append(batches, append([]int(nil), b...)) }}
	g.Add(1)
	g.Add(2)
	if len(batches) != 2 || len(batches[0]) != 1 || batches[0][0] != 1 || batches[1][0] != 2 {
		t.Fatalf("batches = %v, want [[1] [2]]", batches)
	}
}

// TestCallsDuringASendGoTogether: calls added while a batch is being sent
// wait, and go in the next batch, in order, each exactly once; one Send
// runs at a time.
func TestCallsDuringASendGoTogether(t *testing.T) {
	t.Parallel()
	release := make(chan struct{})
	started := make(chan struct{})
	var (
		mu      sync.Mutex
		batches [][]int
		inSend  atomic.Int32
	)
	g := &Group[int]{}
	g.Send = func(b []int) {
		if inSend.Add(1) != 1 {
			t.Error("two sends at once")
		}
		defer inSend.Add(-1)
		mu.Lock()
		first := len(batches) == 0
		batches = append(batches, append([]int(nil), b...))
		mu.Unlock()
		if first {
			close(started)
			<-release
		}
	}
	done := make(chan struct{})
	go func() { g.Add(0); close(done) }()
	<-started
	for i := 1; i <= 50; i++ {
		g.Add(i) // queued: a send is under way
	}
	if n := g.Pending(); n != 50 {
		t.Fatalf("%d pending, want 50", n)
	}
	close(release)
	<-done
	deadline := time.Now().Add(5 * time.Second)
	for {
		mu.Lock()
		n := len(batches)
		mu.Unlock()
		if n >= 2 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the queued calls were never sent")
		}
		time.Sleep(time.Millisecond)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(batches) != 2 || len(batches[0]) != 1 || len(batches[1]) != 50 {
		t.Fatalf("batches of %d, want a lone call then the 50 that waited", len(batches))
	}
	for i, v := range batches[1] {
		if v != i+1 {
			t.Fatalf("second batch = %v, want 1..50 in order", batches[1])
		}
	}
}

// TestManyCallersEachSentOnce: from many goroutines at once, every call
// is sent exactly once.
func TestManyCallersEachSentOnce(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	seen := map[int]int{}
	g := &Group[int]{Send: func(b []int) {
		mu.Lock()
		defer mu.Unlock()
		for _, v := range b {
			seen[v]++
		}
	}}
	var wg sync.WaitGroup
	for i := range 1000 {
		wg.Go(func() { g.Add(i) })
	}
	wg.Wait()
	deadline := time.Now().Add(5 * time.Second)
	for {
		mu.Lock()
		n := len(seen)
		mu.Unlock()
		if n == 1000 && g.Pending() == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of 1000 calls sent", n)
		}
		time.Sleep(time.Millisecond)
	}
	mu.Lock()
	defer mu.Unlock()
	for v, n := range seen {
		if n != 1 {
			t.Fatalf("call %d sent %d times", v, n)
		}
	}
}

// TestOwnStackSendsOffTheCaller: with OwnStack, even a lone call is sent
// by a goroutine other than its caller's, so that Send's frames never sit
// on the caller's stack; every call is still sent exactly once.
func TestOwnStackSendsOffTheCaller(t *testing.T) {
	t.Parallel()
	caller := goroutineID()
	sent := make(chan int, 2)
	var senders sync.Map
	g := &Group[int]{OwnStack: true, Send: func(b []int) {
		senders.Store(goroutineID(), true)
		for _, c := range b {
			sent <- c
		}
	}}
	g.Add(1)
	if got := <-sent; got != 1 {
		t.Fatalf("sent %d, want 1", got)
	}
	g.Add(2)
	if got := <-sent; got != 2 {
		t.Fatalf("sent %d, want 2", got)
	}
	n := 0
	senders.Range(func(id, _ any) bool {
		n++
		if id.(string) == caller {
			t.Error("a batch was sent on the caller's goroutine")
		}
		return true
	})
	if n == 0 {
		t.Error("no batch was sent")
	}
}

// goroutineID returns the calling goroutine's id, from its stack trace's
// first line ("goroutine 7 [running]:").
func goroutineID() string {
	buf := make([]byte, 64)
	buf = buf[:runtime.Stack(buf, false)]
	id, _, _ := strings.Cut(strings.TrimPrefix(string(buf), "goroutine "), " ")
	return id
}
