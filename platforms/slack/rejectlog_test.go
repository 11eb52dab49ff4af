package slack

import (
	"bytes"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/secondme-bridge/secondme-bridge/platforms/slack/slacktest"
)

// A burst of unsigned requests to the Slack routes is one summary line,
// not one warning each.
func TestHTTPUnsignedFloodIsOneSummaryLine(t *testing.T) {
	t.Parallel()
	fake := newFake(t)
	_, srv, logs := startHTTP(t, fake, &recorder{})
	body := []byte(`{"type":"event_callback"}`)
	for i := range 30 {
		req, _ := slacktest.NewSignedRequest(t.Context(), srv.URL+PathEvents, "application/json", body, "wrong-secret", time.Now())
		if i%2 == 1 {
			req, _ = http.NewRequestWithContext(t.Context(), http.MethodPost, srv.URL+PathCommands, bytes.NewReader(body))
		}
		if status, _ := post(t, req); status != http.StatusUnauthorized {
			t.Fatalf("request %d: status %d, want 401", i, status)
		}
	}
	text := logs.String()
	if n := strings.Count(text, "slack requests rejected"); n != 1 {
		t.Errorf("%d rejection lines for 30 unsigned requests, want 1 summary line:\n%s", n, text)
	}
	if strings.Contains(text, "slack request rejected ") || strings.Count(text, "level=WARN") > 1 {
		t.Errorf("per-request warnings logged:\n%s", text)
	}
}

// The requests counted during an interval are logged together when it
// ends; a quiet interval closes the window, and the next rejection is
// logged at once again.
func TestRejectLogSummarizes(t *testing.T) {
	t.Parallel()
	var buf syncBuffer
	l := newRejectLog(slog.New(slog.NewTextHandler(&buf, nil)), 50*time.Millisecond)
	l.add(PathEvents, "invalid signature")
	if n := strings.Count(buf.String(), "slack requests rejected"); n != 1 {
		t.Fatalf("first rejection: %d lines, want 1 at once", n)
	}
	for range 5 {
		l.add(PathCommands, "stale timestamp")
	}
	l.add("/slack/../../etc/passwd", "missing signature headers")
	waitFor(t, func() bool { return strings.Count(buf.String(), "slack requests rejected") == 2 })
	text := buf.String()
	second := text[strings.LastIndex(text, "slack requests rejected"):]
	for _, want := range []string{"count=6", "missing signature headers=1", "stale timestamp=5", PathCommands + "=5", "other=1"} {
		if !strings.Contains(second, want) {
			t.Errorf("summary line %q lacks %q", second, want)
		}
	}
	if strings.Contains(text, "passwd") {
		t.Error("an attacker-chosen path was logged")
	}
	// After a quiet interval the window closes; the next one logs at once.
	waitFor(t, func() bool {
		l.mu.Lock()
		defer l.mu.Unlock()
		return !l.open
	})
	l.add(PathEvents, "invalid signature")
	if n := strings.Count(buf.String(), "slack requests rejected"); n != 3 {
		t.Errorf("rejection after a quiet interval: %d lines, want 3", n)
	}
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met within 10s")
		}
		time.Sleep(5 * time.Millisecond)
	}
}
