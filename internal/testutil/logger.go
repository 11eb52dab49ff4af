package testutil

import (
	"io"
	"log/slog"
	"sync"
	"testing"
)

// Logger returns a logger at level that writes to t's output and to also.
// Lines logged after t has finished (by a goroutine still shutting down)
// go to also only: the testing package panics on output after a test ends.
func Logger(t testing.TB, level slog.Level, also ...io.Writer) *slog.Logger {
	t.Helper()
	w := &testWriter{w: t.Output()}
	t.Cleanup(w.stop)
	return slog.New(slog.NewTextHandler(io.MultiWriter(append([]io.Writer{w}, also...)...), &slog.HandlerOptions{Level: level}))
}

// testWriter writes to w until stop.
type testWriter struct {
	mu   sync.Mutex
	w    io.Writer
	done bool
}

func (w *testWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.done {
		return len(p), nil
	}
	return w.w.Write(p)
}

func (w *testWriter) stop() {
	w.mu.Lock()
	w.done = true
	w.mu.Unlock()
}
