package testutil

import (
	"io"
	"log/slog"
	"strings"
	"testing"
)

// endingTB is a test whose output the test reads and whose end it decides.
type endingTB struct {
	testing.TB
	out      SyncBuffer
	cleanups []func()
}

func (e *endingTB) Helper()           {}
func (e *endingTB) Output() io.Writer { return &e.out }
func (e *endingTB) Cleanup(f func())  { e.cleanups = append(e.cleanups, f) }
func (e *endingTB) end() {
	for _, f := range e.cleanups {
		f()
	}
}

// Lines go to the test's output and the extra writers while the test runs;
// after it ended (a goroutine still shutting down) only to the extra
// writers, never to the finished test (which panics once every test is
// done).
func TestLoggerStopsAtTheEnd(t *testing.T) {
	t.Parallel()
	tb := &endingTB{TB: t}
	var also SyncBuffer
	log := Logger(tb, slog.LevelInfo, &also)
	log.Info("during")
	log.Debug("below the level")
	tb.end()
	log.Info("after")
	if out := tb.out.String(); !strings.Contains(out, "during") || strings.Contains(out, "after") || strings.Contains(out, "below") {
		t.Errorf("test output %q: want the info line logged during the test only", out)
	}
	if got := also.String(); !strings.Contains(got, "during") || !strings.Contains(got, "after") {
		t.Errorf("extra writer got %q, want both info lines", got)
	}
}
