package slack

import (
	"errors"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/secondme-bridge/secondme-bridge/platforms"
)

func TestCanStream(t *testing.T) {
	t.Parallel()
	fake := newFake(t)
	a, _ := newAdapter(t, fake, nil)
	off, _ := newAdapter(t, fake, func(c *Config) { c.NativeStreaming = false })
	ok := platforms.Target{Workspace: "T1", Channel: "C1", Thread: "1.1", User: "U1"}
	cases := map[string]struct {
		a    *Adapter
		to   platforms.Target
		want bool
	}{
		"channel thread":   {a, ok, true},
		"enterprise user":  {a, platforms.Target{Workspace: "T1", Channel: "C1", Thread: "1.1", User: "W1"}, true},
		"dm thread":        {a, platforms.Target{Workspace: "T1", Channel: "D1", Thread: "1.1", User: "U1", DM: true}, true},
		"no thread":        {a, platforms.Target{Workspace: "T1", Channel: "C1", User: "U1"}, false},
		"bot recipient":    {a, platforms.Target{Workspace: "T1", Channel: "C1", Thread: "1.1", User: "B1"}, false},
		"no recipient":     {a, platforms.Target{Workspace: "T1", Channel: "C1", Thread: "1.1"}, false},
		"native disabled":  {off, ok, false},
		"missing channels": {a, platforms.Target{Workspace: "T1", Thread: "1.1", User: "U1"}, false},
	}
	for name, c := range cases {
		if got := c.a.CanStream(c.to); got != c.want {
			t.Errorf("%s: CanStream = %v, want %v", name, got, c.want)
		}
	}
	if _, err := off.StartStream(t.Context(), ok, "x"); !errors.Is(err, platforms.ErrStreamUnsupported) {
		t.Errorf("StartStream with native streaming disabled = %v", err)
	}
}

func TestStreamInChannelAndDM(t *testing.T) {
	t.Parallel()
	fake := newFake(t)
	a, _ := newAdapter(t, fake, nil)
	ctx := t.Context()

	to := platforms.Target{Workspace: "T1", Channel: "C1", Thread: "1700000000.000001", User: "U1"}
	ref, err := a.StartStream(ctx, to, "Hello")
	if err != nil {
		t.Fatalf("StartStream: %v", err)
	}
	for _, d := range []string{", wor", "ld! <!he", "re> and <", "@U1> done"} {
		if err := a.AppendStream(ctx, ref, d); err != nil {
			t.Fatalf("AppendStream: %v", err)
		}
	}
	if err := a.AppendStream(ctx, ref, ""); err != nil {
		t.Fatalf("AppendStream(empty): %v", err)
	}
	if err := a.StopStream(ctx, ref); err != nil {
		t.Fatalf("StopStream: %v", err)
	}
	start := fake.Calls("chat.startStream")[0].Form
	if start.Get("recipient_user_id") != "U1" || start.Get("recipient_team_id") != "T1" || start.Get("thread_ts") != string(to.Thread) || start.Get("markdown_text") != "Hello" {
		t.Errorf("startStream form = %v", start)
	}
	if n := len(fake.Calls("chat.appendStream")); n != 4 {
		t.Errorf("appendStream calls = %d, want 4 (empty delta skipped)", n)
	}
	m, _ := fake.Message(string(ref.Channel), string(ref.ID))
	if !m.Stopped || strings.ReplaceAll(m.Markdown, zwsp, "") != "Hello, world! <!here> and <@U1> done" {
		t.Errorf("stream = %q stopped=%v", m.Markdown, m.Stopped)
	}
	if got := fake.ReplyText("C1", string(to.Thread)); got != m.Markdown {
		t.Errorf("ReplyText = %q", got)
	}
	fake.AssertNoPings(t) // pings split across appends are broken too
	if b := a.UpdateBudgets(ref); len(b) != 1 || b[0].Key != "slack:T1:appendStream" {
		t.Errorf("stream budgets = %+v", b)
	}

	dm := platforms.Target{Workspace: "T1", Channel: "D1", Thread: "1700000000.000002", User: "U1", DM: true}
	if _, err := a.StartStream(ctx, dm, "hi"); err != nil {
		t.Fatalf("StartStream(DM): %v", err)
	}
	start = fake.Calls("chat.startStream")[1].Form
	if start.Has("recipient_user_id") || start.Has("recipient_team_id") {
		t.Errorf("DM stream must not pass recipient ids: %v", start)
	}
}

func TestStreamSplitsLargeAppends(t *testing.T) {
	t.Parallel()
	fake := newFake(t)
	a, _ := newAdapter(t, fake, nil)
	ctx := t.Context()
	to := platforms.Target{Workspace: "T1", Channel: "C1", Thread: "1.1", User: "U1"}

	first := strings.Repeat("a", 12500)
	ref, err := a.StartStream(ctx, to, first)
	if err != nil {
		t.Fatalf("StartStream(12,500 chars): %v", err)
	}
	delta := strings.Repeat("日本語\n", 6250) // 25,000 characters
	if err := a.AppendStream(ctx, ref, delta); err != nil {
		t.Fatalf("AppendStream(25,000 chars): %v", err)
	}
	var total int
	for _, c := range fake.Calls("") {
		if c.Method == "chat.startStream" || c.Method == "chat.appendStream" {
			n := utf8.RuneCountInString(c.Form.Get("markdown_text"))
			if n > 12000 {
				t.Errorf("%s carried %d characters, more than 12,000", c.Method, n)
			}
			total += n
		}
	}
	if n := len(fake.Calls("chat.appendStream")); n != 4 {
		t.Errorf("appendStream calls = %d, want 4 (1 for the start overflow, 3 for the delta)", n)
	}
	m, _ := fake.Message(string(ref.Channel), string(ref.ID))
	if m.Markdown != first+delta || total != 37500 {
		t.Errorf("streamed %d characters, want 37,500 in order", total)
	}
}

func TestStreamLatchesOffOnPermanentError(t *testing.T) {
	t.Parallel()
	for _, code := range []string{"unknown_method", "feature_not_enabled", "channel_type_not_supported", "not_allowed_token_type", "missing_scope"} {
		t.Run(code, func(t *testing.T) {
			t.Parallel()
			fake := newFake(t)
			a, logs := newAdapter(t, fake, nil)
			fake.FailMethod("chat.startStream", code)
			to := platforms.Target{Workspace: "T1", Channel: "C1", Thread: "1.1", User: "U1"}
			_, err := a.StartStream(t.Context(), to, "hi")
			if !errors.Is(err, platforms.ErrStreamUnsupported) {
				t.Fatalf("StartStream = %v, want ErrStreamUnsupported", err)
			}
			if a.CanStream(to) {
				t.Error("CanStream still true after a permanent error")
			}
			other := to
			other.Workspace = "T2"
			if !a.CanStream(other) {
				t.Error("the latch must be per workspace")
			}
			if _, err := a.StartStream(t.Context(), to, "again"); !errors.Is(err, platforms.ErrStreamUnsupported) {
				t.Errorf("second StartStream = %v", err)
			}
			if n := len(fake.Calls("chat.startStream")); n != 1 {
				t.Errorf("chat.startStream called %d times, want 1", n)
			}
			if n := strings.Count(logs.String(), "native streaming refused"); n != 1 {
				t.Errorf("latch logged %d times, want once", n)
			}
		})
	}
}

func TestStreamErrorsThatDoNotLatch(t *testing.T) {
	t.Parallel()
	fake := newFake(t)
	a, _ := newAdapter(t, fake, nil)
	ctx := t.Context()
	to := platforms.Target{Workspace: "T1", Channel: "C1", Thread: "1.1", User: "U1"}

	// Native streaming turned off in the workspace latches (feature_not_enabled)…
	fake.SetNativeStreaming("T1", false)
	if _, err := a.StartStream(ctx, to, "x"); !errors.Is(err, platforms.ErrStreamUnsupported) || a.CanStream(to) {
		t.Errorf("workspace without streaming: %v, CanStream %v", err, a.CanStream(to))
	}

	// …a refused recipient only fails this stream.
	b, _ := newAdapter(t, fake, nil)
	fake.SetNativeStreaming("T1", true)
	fake.FailMethodN("chat.startStream", "invalid_recipient", 1)
	if _, err := b.StartStream(ctx, to, "x"); !errors.Is(err, platforms.ErrStreamUnsupported) || !b.CanStream(to) {
		t.Errorf("recipient error: %v, CanStream %v (want unsupported, not latched)", err, b.CanStream(to))
	}
	ref, err := b.StartStream(ctx, to, "x")
	if err != nil {
		t.Fatalf("StartStream: %v", err)
	}
	fake.RateLimit("chat.appendStream", 1, 0)
	if err := b.AppendStream(ctx, ref, "y"); !isRateLimit(err) || errors.Is(err, platforms.ErrStreamUnsupported) {
		t.Errorf("AppendStream under 429 = %v, want a RateLimitError only", err)
	}
	fake.FailMethodN("chat.appendStream", "msg_too_long", 1)
	if err := b.AppendStream(ctx, ref, "y"); !errors.Is(err, platforms.ErrTooLong) {
		t.Errorf("AppendStream msg_too_long = %v, want ErrTooLong", err)
	}
	if err := b.StopStream(ctx, ref); err != nil {
		t.Fatalf("StopStream: %v", err)
	}
	// A halted stream (stopped, or halted by the agent view's native stop)
	// takes no more: unsupported for this message, so the bridge updates it
	// instead, but nothing is latched.
	if err := b.AppendStream(ctx, ref, "late"); !errors.Is(err, platforms.ErrStreamUnsupported) || !b.CanStream(to) {
		t.Errorf("append after stop = %v, CanStream %v (want unsupported for this message, no latch)", err, b.CanStream(to))
	}
}
