package secondme_test

import (
	"context"
	"errors"
	"net/http"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/secondme-bridge/secondme-bridge/secondme"
	"github.com/secondme-bridge/secondme-bridge/secondme/secondmetest"
)

// drain reads a stream to its end and returns the text and Err.
func drain(st *secondme.Stream) (string, error) {
	var b strings.Builder
	for st.Next() {
		if ev := st.Current(); ev.Type == secondme.EventDelta {
			b.WriteString(ev.Text)
		}
	}
	return b.String(), st.Err()
}

func TestStreamFramings(t *testing.T) {
	t.Parallel()
	deltas := []string{"Hel", "lo, ", "wor", "ld — 你好 😀", "\n\nbye \"q\""}
	want := strings.Join(deltas, "")
	scripts := map[string]secondmetest.Script{
		"default":             {},
		"blank lines":         {BlankLines: true},
		"crlf":                {CRLF: true},
		"crlf blank lines":    {CRLF: true, BlankLines: true},
		"no space":            {NoSpace: true},
		"comments":            {Comments: true},
		"chunks of 1 byte":    {ChunkSize: 1},
		"chunks of 5 bytes":   {ChunkSize: 5, BlankLines: true},
		"split lines":         {SplitLines: true, CRLF: true},
		"delays":              {Delay: 2 * time.Millisecond, ChunkSize: 17},
		"no session event":    {NoSessionEvent: true},
		"raw older reference": {Raw: "event: session\ndata: {\"sessionId\": \"labs_sess_r\"}\n\n" + rawDeltas(deltas) + "data: [DONE]\n\n", ChunkSize: 3},
	}
	for name, sc := range scripts {
		s, c := setup(t)
		tok := userWithToken(t, s)
		if sc.Raw == "" {
			sc.Deltas = deltas
		}
		s.QueueStream(sc)
		st, err := c.ChatStream(t.Context(), tok, secondme.ChatRequest{Message: "hi"})
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		text, err := drain(st)
		if err != nil || text != want {
			t.Errorf("%s: text %q err %v", name, text, err)
		}
		if cur := st.Current(); cur.Type != secondme.EventDone {
			t.Errorf("%s: last event %+v", name, cur)
		}
	}
}

func rawDeltas(deltas []string) string {
	var b strings.Builder
	for _, d := range deltas {
		b.WriteString(`data: {"choices": [{"delta": {"content": "` + strings.NewReplacer("\n", `\n`, `"`, `\"`).Replace(d) + `"}}]}` + "\n\n")
	}
	return b.String()
}

func TestStreamLongDeltaOverHTTP(t *testing.T) {
	t.Parallel()
	s, c := setup(t)
	tok := userWithToken(t, s)
	big := strings.Repeat("é", 1<<20) // 2 MiB of UTF-8 in one data: line
	s.QueueStream(secondmetest.Script{Deltas: []string{"a", big, "z"}, ChunkSize: 100 << 10})
	st, err := c.ChatStream(t.Context(), tok, secondme.ChatRequest{Message: "hi"})
	if err != nil {
		t.Fatal(err)
	}
	if text, err := drain(st); err != nil || text != "a"+big+"z" {
		t.Errorf("len %d err %v", len(text), err)
	}
}

func TestStreamEndings(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		sc    secondmetest.Script
		check func(error) bool
	}{
		{"event error", secondmetest.Script{Error: &secondmetest.StreamError{Code: 500, Message: "model overloaded"}},
			func(err error) bool {
				var ae *secondme.APIError
				return errors.As(err, &ae) && ae.Code == 500 && ae.Message == "model overloaded" && secondme.IsRetryable(err)
			}},
		{"event error with subCode", secondmetest.Script{Error: &secondmetest.StreamError{Code: 403, Message: "banned", SubCode: "secondme.app.banned"}},
			func(err error) bool {
				var ae *secondme.APIError
				return errors.As(err, &ae) && ae.SubCode == "secondme.app.banned"
			}},
		{"drop", secondmetest.Script{Drop: true},
			func(err error) bool { return errors.Is(err, secondme.ErrIncompleteStream) && secondme.IsRetryable(err) }},
		{"abort", secondmetest.Script{Abort: true, ChunkSize: 4},
			func(err error) bool { return errors.Is(err, secondme.ErrIncompleteStream) }},
	}
	for _, tc := range tests {
		s, c := setup(t)
		tok := userWithToken(t, s)
		tc.sc.Deltas = []string{"partial ", "text"}
		s.QueueStream(tc.sc)
		st, err := c.ChatStream(t.Context(), tok, secondme.ChatRequest{Message: "hi"})
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		text, err := drain(st)
		if text != "partial text" || !tc.check(err) {
			t.Errorf("%s: text %q err %v", tc.name, text, err)
		}
		if st.Next() {
			t.Errorf("%s: Next after the end", tc.name)
		}
		// The partial reply is in the session history. The fake records it
		// when its handler returns, which can be just after the client has
		// read the end of the stream: wait for it.
		var msgs []secondme.SessionMessage
		for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(5 * time.Millisecond) {
			msgs = s.Messages(s.Sessions("42")[0].SessionID)
			if msgs[len(msgs)-1].Content == "partial text" || time.Now().After(deadline) {
				break
			}
		}
		if msgs[len(msgs)-1].Content != "partial text" {
			t.Errorf("%s: history %+v", tc.name, msgs)
		}
	}
}

func TestStreamErrorEventRedacted(t *testing.T) {
	t.Parallel()
	s, c := setup(t)
	tok := userWithToken(t, s)
	s.QueueStream(secondmetest.Script{Error: &secondmetest.StreamError{Code: 401, Message: "bad token " + tok}})
	st, _ := c.ChatStream(t.Context(), tok, secondme.ChatRequest{Message: "hi"})
	_, err := drain(st)
	if err == nil || strings.Contains(err.Error(), tok) || strings.Contains(err.Error(), tok[7:]) {
		t.Errorf("err %v", err)
	}
}

func TestStreamIdleTimeout(t *testing.T) {
	t.Parallel()
	s, c := setup(t, secondme.WithIdleTimeout(400*time.Millisecond))
	tok := userWithToken(t, s)
	// Slow but steady bytes (60 ms apart, well inside the 400 ms idle
	// timeout even on a loaded CI machine) keep the stream alive.
	s.QueueStream(secondmetest.Script{Deltas: []string{"a", "b", "c", "d"}, Delay: 60 * time.Millisecond})
	st, err := c.ChatStream(t.Context(), tok, secondme.ChatRequest{Message: "hi"})
	if err != nil {
		t.Fatal(err)
	}
	if text, err := drain(st); err != nil || text != "abcd" {
		t.Fatalf("steady stream: %q %v", text, err)
	}
	// Silence ends it.
	s.QueueStream(secondmetest.Script{Deltas: []string{"first"}, Hang: true})
	st, err = c.ChatStream(t.Context(), tok, secondme.ChatRequest{Message: "hi"})
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	text, err := drain(st)
	if !errors.Is(err, secondme.ErrIdleTimeout) || text != "first" || !secondme.IsRetryable(err) {
		t.Errorf("hang: text %q err %v", text, err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("idle timeout took %v", d)
	}
	// Silence before the headers too.
	s.SetDelay(secondmetest.PathChatStream, 10*time.Second)
	start = time.Now()
	if _, err := c.ChatStream(t.Context(), tok, secondme.ChatRequest{Message: "hi"}); !errors.Is(err, secondme.ErrIdleTimeout) {
		t.Errorf("before headers: %v", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("idle timeout before headers took %v", d)
	}
}

// The stream ignores the HTTP client's Timeout: long replies are not cut.
func TestStreamIgnoresHTTPClientTimeout(t *testing.T) {
	t.Parallel()
	s := secondmetest.New(t)
	hc := &http.Client{Transport: s.HTTPClient().Transport, Timeout: 100 * time.Millisecond}
	c := s.Client(secondme.WithHTTPClient(hc))
	tok := s.IssueToken("42").AccessToken
	s.QueueStream(secondmetest.Script{Deltas: []string{"1", "2", "3", "4", "5"}, Delay: 50 * time.Millisecond})
	st, err := c.ChatStream(t.Context(), tok, secondme.ChatRequest{Message: "hi"})
	if err != nil {
		t.Fatal(err)
	}
	if text, err := drain(st); err != nil || text != "12345" {
		t.Errorf("text %q err %v", text, err)
	}
}

// Nor does the per-call timeout of WithTimeout, which is for
// non-streaming calls.
func TestStreamIgnoresCallTimeout(t *testing.T) {
	t.Parallel()
	s, c := setup(t, secondme.WithTimeout(100*time.Millisecond))
	tok := userWithToken(t, s)
	s.QueueStream(secondmetest.Script{Deltas: []string{"1", "2", "3", "4", "5"}, Delay: 50 * time.Millisecond})
	st, err := c.ChatStream(t.Context(), tok, secondme.ChatRequest{Message: "hi"})
	if err != nil {
		t.Fatal(err)
	}
	if text, err := drain(st); err != nil || text != "12345" {
		t.Errorf("text %q err %v", text, err)
	}
}

func TestStreamContextEnds(t *testing.T) {
	t.Parallel()
	for _, useDeadline := range []bool{false, true} {
		s, c := setup(t)
		tok := userWithToken(t, s)
		hold := make(chan struct{})
		defer close(hold)
		s.QueueStream(secondmetest.Script{Deltas: []string{"one", "two"}, Hold: hold, HoldAfter: 1})
		ctx, cancel := context.WithCancel(t.Context())
		if useDeadline {
			// Room for the request and the first delta on a loaded
			// machine: the deadline must fall while the stream holds.
			ctx, cancel = context.WithTimeout(t.Context(), time.Second)
		}
		st, err := c.ChatStream(ctx, tok, secondme.ChatRequest{Message: "hi"})
		if err != nil {
			t.Fatal(err)
		}
		// start is when the stream was told to end: the deadline, or the
		// cancel() call. Next must return promptly after it.
		start, _ := ctx.Deadline()
		var text string
		for st.Next() {
			if ev := st.Current(); ev.Type == secondme.EventDelta {
				text += ev.Text
				if !useDeadline && start.IsZero() {
					start = time.Now()
					cancel()
				}
			}
		}
		err = st.Err()
		want := context.Canceled
		if useDeadline {
			want = context.DeadlineExceeded
		}
		if !errors.Is(err, want) || text != "one" || secondme.IsRetryable(err) {
			t.Errorf("deadline=%v: text %q err %v", useDeadline, text, err)
		}
		if time.Since(start) > time.Second {
			t.Error("slow")
		}
		cancel()
	}
}

func TestStreamCloseConcurrent(t *testing.T) {
	t.Parallel()
	s, c := setup(t)
	tok := userWithToken(t, s)
	hold := make(chan struct{})
	defer close(hold)
	s.QueueStream(secondmetest.Script{Deltas: []string{"one", "two"}, Hold: hold, HoldAfter: 1})
	st, err := c.ChatStream(t.Context(), tok, secondme.ChatRequest{Message: "hi"})
	if err != nil {
		t.Fatal(err)
	}
	got := make(chan error, 1)
	firstDelta := make(chan struct{})
	go func() {
		once := sync.Once{}
		for st.Next() {
			if st.Current().Type == secondme.EventDelta {
				once.Do(func() { close(firstDelta) })
			}
		}
		got <- st.Err()
	}()
	<-firstDelta
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() { _ = st.Close() })
	}
	wg.Wait()
	select {
	case err := <-got:
		if !errors.Is(err, secondme.ErrStreamClosed) {
			t.Errorf("err = %v, want ErrStreamClosed", err)
		}
	case <-time.After(3 * time.Second):
		t.Fatal("Next did not return after Close")
	}
	if err := st.Close(); err != nil {
		t.Errorf("Close again: %v", err)
	}
}

func TestStreamDoneThenClose(t *testing.T) {
	t.Parallel()
	s, c := setup(t)
	tok := userWithToken(t, s)
	st, err := c.ChatStream(t.Context(), tok, secondme.ChatRequest{Message: "hi"})
	if err != nil {
		t.Fatal(err)
	}
	text, err := drain(st)
	if err != nil || text != secondmetest.EchoReply("hi") {
		t.Fatalf("%q %v", text, err)
	}
	_ = st.Close()
	_ = st.Close()
	if st.Next() || st.Err() != nil {
		t.Errorf("after done+close: Err %v", st.Err())
	}
	// Close before reading anything.
	st, _ = c.ChatStream(t.Context(), tok, secondme.ChatRequest{Message: "hi"})
	_ = st.Close()
	if st.Next() || !errors.Is(st.Err(), secondme.ErrStreamClosed) {
		t.Errorf("closed early: %v", st.Err())
	}
}

// TestStreamNoGoroutineLeak is not parallel: it counts goroutines.
func TestStreamNoGoroutineLeak(t *testing.T) { //nolint:paralleltest // counts process goroutines
	s := secondmetest.New(t)
	tr := &http.Transport{}
	c := s.Client(secondme.WithHTTPClient(&http.Client{Transport: tr}), secondme.WithIdleTimeout(100*time.Millisecond))
	tok := s.IssueToken("42").AccessToken
	base := runtime.NumGoroutine()
	hold := make(chan struct{})
	defer close(hold)
	for i := range 5 {
		// Cancelled, idle, closed early, failed and complete streams.
		ctx, cancel := context.WithCancel(t.Context())
		s.QueueStream(secondmetest.Script{Deltas: []string{"x"}, Hold: hold, HoldAfter: 1})
		st, err := c.ChatStream(ctx, tok, secondme.ChatRequest{Message: "hi"})
		if err != nil {
			t.Fatal(err)
		}
		st.Next()
		st.Next()
		cancel()
		_, _ = drain(st)

		s.QueueStream(secondmetest.Script{Hang: true})
		st, _ = c.ChatStream(t.Context(), tok, secondme.ChatRequest{Message: "hi"})
		if _, err := drain(st); !errors.Is(err, secondme.ErrIdleTimeout) {
			t.Fatalf("round %d: %v", i, err)
		}

		s.QueueStream(secondmetest.Script{Hold: hold})
		st, _ = c.ChatStream(t.Context(), tok, secondme.ChatRequest{Message: "hi"})
		_ = st.Close()

		s.QueueStream(secondmetest.Script{Response: &secondmetest.Response{Status: 500}})
		_, _ = c.ChatStream(t.Context(), tok, secondme.ChatRequest{Message: "hi"})

		st, _ = c.ChatStream(t.Context(), tok, secondme.ChatRequest{Message: "hi"})
		_, _ = drain(st)
	}
	tr.CloseIdleConnections()
	var n int
	for range 100 {
		if n = runtime.NumGoroutine(); n <= base {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	buf := make([]byte, 1<<20)
	t.Errorf("goroutines: %d before, %d after\n%s", base, n, buf[:runtime.Stack(buf, true)])
}

// Delta lines around the stream's 1 KiB read buffer (one shorter, one
// exactly filling it with its newline, several longer, in chunks that split
// them anywhere) arrive whole and in order.
func TestStreamLinesAroundReadBuffer(t *testing.T) {
	t.Parallel()
	s, c := setup(t)
	tok := userWithToken(t, s)
	var deltas []string
	for _, n := range []int{1, 900, 960, 961, 962, 1023, 1024, 1025, 2047, 2049, 5000} {
		deltas = append(deltas, strings.Repeat("d", n), "|")
	}
	for _, chunk := range []int{7, 1000, 1024, 4096} {
		s.QueueStream(secondmetest.Script{Deltas: deltas, ChunkSize: chunk})
		st, err := c.ChatStream(t.Context(), tok, secondme.ChatRequest{Message: "hi"})
		if err != nil {
			t.Fatal(err)
		}
		if text, err := drain(st); err != nil || text != strings.Join(deltas, "") {
			t.Errorf("chunks of %d: len %d (want %d), err %v", chunk, len(text), len(strings.Join(deltas, "")), err)
		}
	}
}
