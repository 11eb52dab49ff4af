package bridge

import (
	"bytes"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/secondme-bridge/secondme-bridge/platforms/platformtest"
	"github.com/secondme-bridge/secondme-bridge/secondme/secondmetest"
)

// A reply waiting between its updates holds no goroutine of its flusher,
// only a timer (render/flush.go): with 20 replies streaming, goroutine
// dumps taken while every reader is mid-stream find the flusher working in
// few of them at most, where a flusher goroutine per reply would show in
// all 20 of every dump. Every reply still ends exact.
//
// Not parallel: the dumps see every goroutine of the test binary, and
// parallel tests wait while a serial one runs.
func TestFlusherHoldsNoGoroutineBetweenUpdates(t *testing.T) {
	const n = 20
	h := newHarnessOn(t, hopts{platform: edits(), cfg: func(c *Config) {
		c.EditInterval = 300 * time.Millisecond
	}}, secondmetest.New(t), newStore(t, "memory")) // no fsync to hold a step
	deltas := make([]string, 30) // 30 × 40 ms: 1.2 s of stream
	for i := range deltas {
		deltas[i] = "w" + itoa(int64(i)) + " "
	}
	for i := range n {
		u := "u" + itoa(int64(i))
		h.link(u, "User "+u)
		h.sm.QueueStream(secondmetest.Script{Deltas: deltas, Delay: 40 * time.Millisecond})
		h.deliver(h.msg(u, "c"+itoa(int64(i)), "", "hi"))
	}
	// Every reply shows its first words: every reader is streaming.
	h.p.MustWaitFor(t, waitLong, "every reply's first text", func(*platformtest.Platform) bool {
		return len(h.p.Messages()) >= n
	})
	var flushing []int
	for range 8 {
		readers, flushers := countStreamGoroutines()
		if readers < n {
			break // streams ending: later dumps would prove nothing
		}
		flushing = append(flushing, flushers)
		time.Sleep(25 * time.Millisecond)
	}
	if len(flushing) < 3 {
		t.Fatalf("only %d goroutine dumps while all %d replies streamed; the streams ended too soon", len(flushing), n)
	}
	busiest := 0
	for _, f := range flushing {
		busiest = max(busiest, f)
	}
	t.Logf("flusher goroutines in %d dumps mid-stream: %v", len(flushing), flushing)
	if busiest > n/2 {
		t.Errorf("flusher goroutines in dumps taken mid-stream: %v of %d replies; want them only while an update is made", flushing, n)
	}
	h.waitReplies(n)
	want := strings.TrimSpace(strings.Join(deltas, ""))
	for _, m := range h.p.Messages() {
		if strings.TrimSpace(m.Text) != want {
			t.Fatalf("reply not exact: %q", m.Text)
		}
	}
}

// countStreamGoroutines counts, in a dump of every goroutine, the replies'
// stream readers and the goroutines of their flushers.
func countStreamGoroutines() (readers, flushers int) {
	buf := make([]byte, 1<<20)
	for {
		k := runtime.Stack(buf, true)
		if k < len(buf) {
			buf = buf[:k]
			break
		}
		buf = make([]byte, 2*len(buf))
	}
	for g := range bytes.SplitSeq(buf, []byte("\n\n")) {
		if bytes.Contains(g, []byte("turn.(*Turn).consume")) {
			readers++
		}
		if bytes.Contains(g, []byte("render.(*Renderer).flush")) {
			flushers++
		}
	}
	return readers, flushers
}

// The stream ends while an intermediate edit is in flight: the reply's
// end waits for that edit (its flusher is working on a goroutine of its
// own), the final comes after it and shows the whole text, and no
// goroutine of the flusher is left once the reply is final.
//
// Not parallel: the last check dumps every goroutine.
func TestStreamEndWaitsForTheUpdateInFlight(t *testing.T) {
	entered, release := make(chan struct{}), make(chan struct{})
	var edits atomic.Int32
	hook := func(c platformtest.Call) error {
		if c.Kind == platformtest.CallEdit && edits.Add(1) == 1 {
			close(entered)
			<-release
		}
		return nil
	}
	h := newHarnessOn(t, hopts{platform: platformtest.Options{NoStream: true, Hook: hook}, cfg: func(c *Config) {
		c.EditInterval = 100 * time.Millisecond
	}}, secondmetest.New(t), newStore(t, "bolt"))
	h.link("u1", "Ada")
	written := make(chan struct{})
	deltas := words("one two three four five six seven eight nine ten eleven twelve")
	h.sm.QueueStream(secondmetest.Script{Deltas: deltas, Delay: 20 * time.Millisecond, Done: func(string) { close(written) }})
	h.deliver(h.msg("u1", "c1", "", "hi"))
	for _, ch := range []chan struct{}{entered, written} {
		select {
		case <-ch:
		case <-time.After(waitLong):
			close(release)
			t.Fatalf("the first intermediate edit was not made while the reply streamed\n%s", h.p.Dump())
		}
	}
	// The stream is over and read within a read pause (10 ms here); the
	// reply must still wait for the edit in flight.
	time.Sleep(300 * time.Millisecond)
	if n := edits.Load(); n != 1 {
		close(release)
		t.Fatalf("%d edits while the first was in flight; want the final to wait for it", n)
	}
	if _, _, replies := h.obs.stats(); len(replies) != 0 {
		close(release)
		t.Fatal("the reply was final while its intermediate edit was in flight")
	}
	close(release)
	h.waitReplies(1)
	want := strings.TrimSpace(strings.Join(deltas, ""))
	if msgs := h.p.Messages(); len(msgs) != 1 || strings.TrimSpace(msgs[0].Text) != want {
		t.Fatalf("reply not exact:\n%s", h.p.Dump())
	}
	if n := edits.Load(); n < 2 {
		t.Errorf("%d edits; want the held one and the final", n)
	}
	if _, flushers := countStreamGoroutines(); flushers != 0 {
		t.Errorf("%d flusher goroutines left after the reply's final", flushers)
	}
}
