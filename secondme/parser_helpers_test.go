package secondme

import (
	"context"
	"io"
	"strings"
	"testing"
)

// chunkReader returns data in reads of the given sizes (cycled), to
// exercise lines split across network reads.
type chunkReader struct {
	data  []byte
	sizes []int
	i     int
}

func (r *chunkReader) Read(p []byte) (int, error) {
	if len(r.data) == 0 {
		return 0, io.EOF
	}
	n := len(r.data)
	if len(r.sizes) > 0 {
		n = r.sizes[r.i%len(r.sizes)]
		r.i++
	}
	n = max(1, min(n, len(p), len(r.data)))
	copy(p, r.data[:n])
	r.data = r.data[n:]
	return n, nil
}

// parseAll runs body through a Stream (no idle timeout) read in chunks of
// sizes and returns the events and the final error.
func parseAll(t testing.TB, body string, sizes ...int) ([]Event, error) {
	t.Helper()
	s := newStream(context.Background(), 0, "/api/secondme/chat/stream", []string{"lba_at_secret"})
	s.attach(io.NopCloser(&chunkReader{data: []byte(body), sizes: sizes}), 200)
	var evs []Event
	for s.Next() {
		evs = append(evs, s.Current())
	}
	return evs, s.Err()
}

// textOf concatenates the delta texts.
func textOf(evs []Event) string {
	var b strings.Builder
	for _, ev := range evs {
		if ev.Type == EventDelta {
			b.WriteString(ev.Text)
		}
	}
	return b.String()
}
