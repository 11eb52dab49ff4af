package bridge

import (
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/secondme-bridge/secondme-bridge/secondme"
	"github.com/secondme-bridge/secondme-bridge/secondme/secondmetest"
)

// countReads counts the reads of every response body (the chat stream's
// among them) of its transport.
type countReads struct {
	next  http.RoundTripper
	reads atomic.Int64
}

func (c *countReads) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := c.next.RoundTrip(req)
	if err == nil && strings.HasSuffix(req.URL.Path, "/chat/stream") {
		resp.Body = &countedBody{ReadCloser: resp.Body, n: &c.reads}
	}
	return resp, err
}

type countedBody struct {
	io.ReadCloser
	n *atomic.Int64
}

func (b *countedBody) Read(p []byte) (int, error) {
	b.n.Add(1)
	return b.ReadCloser.Read(p)
}

// Once text is shown, the reply's reader leaves the stream unread between
// deltas (render.Renderer.ReadPause, a tenth of the edit interval): 60
// deltas 5 ms apart (300 ms) are read in a handful of reads, not one per
// delta, and the reply is still exact.
func TestStreamReadInBatchesBetweenUpdates(t *testing.T) {
	t.Parallel()
	sm := secondmetest.New(t)
	counter := &countReads{next: sm.HTTPClient().Transport}
	h := newHarnessOn(t, hopts{platform: edits(), cfg: func(c *Config) {
		c.EditInterval = time.Second // pauses of 100 ms
		c.SecondMe = sm.Client(secondme.WithHTTPClient(&http.Client{Transport: counter}))
	}}, sm, newStore(t, "bolt"))
	h.link("u1", "Ada")
	deltas := make([]string, 60)
	for i := range deltas {
		deltas[i] = "w" + string(rune('a'+i%26)) + " "
	}
	h.sm.QueueStream(secondmetest.Script{Deltas: deltas, Delay: 5 * time.Millisecond})
	h.deliver(h.msg("u1", "c1", "", "hi"))
	h.waitReplies(1)
	want := strings.TrimSpace(strings.Join(deltas, ""))
	msgs := h.p.Messages()
	if len(msgs) != 1 || strings.TrimSpace(msgs[0].Text) != want {
		t.Fatalf("reply not exact:\n%s", h.p.Dump())
	}
	// 300 ms of stream at one read per 100 ms pause, plus the reads
	// before the first visible text and at the end: far fewer than 60.
	if n := counter.reads.Load(); n > 20 {
		t.Fatalf("%d reads of a 60-delta stream; want it read in batches (≤ 20)", n)
	}
}
