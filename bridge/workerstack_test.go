package bridge

import (
	"os"
	"runtime"
	"runtime/debug"
	"strings"
	"testing"
	"time"

	"github.com/secondme-bridge/secondme-bridge/internal/testutil"
	"github.com/secondme-bridge/secondme-bridge/secondme/secondmetest"
)

// TestWorkerStackStaysSmall: a conversation's worker (Bridge.drain) keeps
// its stack within the 8 KiB size class through a whole turn: the lease
// with the user's link read and decoded (Turns.Begin), the write-ahead
// record, the chat request, the stream, the final edit and the session
// saved. One byte over and the runtime doubles it to 16 KiB, for every
// conversation that starts at once: 8 MiB more at the peak for a thousand
// (see beginChat). With the GC off no stack is shrunk, so the stack each
// idle worker had when it retired is what it grew to during its turn
// (testutil.CheckWorkerStacks reads them from the runtime).
//
// On Redis when it is configured (its client's frames are the deepest of
// the stores'), bolt otherwise. Only with testutil.StackCheckFlags, and not
// under the race detector, whose instrumentation changes the frames and
// doubles the stack guard: CI runs this test once more so.
func TestWorkerStackStaysSmall(t *testing.T) {
	testutil.SkipUnlessStacksMeasured(t)
	kind := "bolt"
	if os.Getenv("SECONDME_BRIDGE_TEST_REDIS_URL") != "" {
		kind = "redis"
	}
	const n = 200
	h := newHarnessOn(t, hopts{platform: edits()}, secondmetest.New(t), newStore(t, kind))
	h.b.tim.queueIdle = time.Second // the workers idle, then retire, after their turns
	deltas := []string{"Stacks ", "stay ", "small ", "all ", "along."}
	for i := range n {
		u := "u" + itoa(int64(i))
		h.link(u, "User "+u)
		h.sm.QueueStream(secondmetest.Script{Deltas: deltas, Delay: 5 * time.Millisecond})
	}
	runtime.GC()
	defer debug.SetGCPercent(debug.SetGCPercent(-1))
	for i := range n {
		u := "u" + itoa(int64(i))
		h.deliver(h.msg(u, "c"+itoa(int64(i)), "", "hi"))
	}
	h.waitReplies(n)
	h.waitInflight(0) // every turn ended: the workers wait in drain
	want := strings.Join(deltas, "")
	for _, m := range h.p.Messages() {
		if m.Text != want {
			t.Fatalf("reply not exact: %q", m.Text)
		}
	}
	h.b.q.mu.Lock()
	idle := len(h.b.q.byKey) // the workers to retire
	h.b.q.mu.Unlock()
	testutil.CheckWorkerStacks(t, kind+" store", idle, func() {
		h.settle()                         // the workers retired…
		time.Sleep(100 * time.Millisecond) // …and returned
	})
}
