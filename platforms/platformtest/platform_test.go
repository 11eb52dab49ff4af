package platformtest_test

import (
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/secondme-bridge/secondme-bridge/platforms"
	"github.com/secondme-bridge/secondme-bridge/platforms/platformtest"
)

var to = platforms.Target{Workspace: "W1", Channel: "C1", User: "U1"}

func msg(text string) platforms.Message { return platforms.Message{Text: text} }

func TestCapabilitiesMatchOptions(t *testing.T) {
	t.Parallel()
	for mask := range 1 << 8 {
		on := func(bit int) bool { return mask&(1<<bit) != 0 }
		opts := platformtest.Options{
			NoEdit: !on(0), NoStream: !on(1), NoTyping: !on(2), NoEphemeral: !on(3), NoDelete: !on(4), NoThreads: !on(6),
			AgentSessions: on(7),
		}
		if on(5) {
			opts.Budgets = func(platforms.MessageRef) []platforms.Budget { return nil }
		}
		pl := platformtest.New(opts).As()
		c := platforms.ResolveCaps(pl)
		got := []bool{c.Editor != nil, c.Streamer != nil, c.Typer != nil, c.Ephemeraler != nil, c.Deleter != nil, c.Budgeter != nil, c.ThreadOpener != nil, c.AgentSessions != nil}
		want := []bool{on(0), on(1), on(2), on(3), on(4), on(5), on(6), on(7)}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("mask %08b: capabilities mismatch (-want +got):\n%s", mask, diff)
		}
		// Only the resolved Caps expose an ability: a type assertion
		// on the platform finds none, whatever the options.
		_, isEditor := pl.(platforms.Editor)
		_, isStreamer := pl.(platforms.Streamer)
		_, isOpener := pl.(platforms.ThreadOpener)
		_, isAgent := pl.(platforms.AgentSessions)
		if isEditor || isStreamer || isOpener || isAgent {
			t.Errorf("mask %08b: %T implements an optional interface itself", mask, pl)
		}
	}
}

func TestOpenThread(t *testing.T) {
	t.Parallel()
	p := platformtest.New(platformtest.Options{})
	op := platforms.ResolveCaps(p.As()).ThreadOpener
	th, err := op.OpenThread(t.Context(), platforms.Target{Channel: "C1", ReplyTo: "M7"}, "a question")
	if err != nil || th != "M7" {
		t.Fatalf("OpenThread = %q, %v; want M7 (the starter message's id)", th, err)
	}
	if _, err := op.OpenThread(t.Context(), platforms.Target{Channel: "C1"}, "x"); !errors.Is(err, platformtest.ErrNoStarter) {
		t.Errorf("OpenThread without ReplyTo: %v, want ErrNoStarter", err)
	}
	calls := p.CallsOf(platformtest.CallOpenThread)
	if len(calls) != 2 || calls[0].Text != "a question" || calls[0].Thread != "M7" || calls[1].Err == nil {
		t.Errorf("recorded calls: %+v", calls)
	}
}

func TestDefaults(t *testing.T) {
	t.Parallel()
	pl := platformtest.New(platformtest.Options{}).As()
	if pl.Name() != "fake" || pl.Limits().MaxMessageChars != platformtest.DefaultMaxMessageChars {
		t.Errorf("defaults: name %q, limits %+v", pl.Name(), pl.Limits())
	}
	if platforms.ResolveCaps(pl).Budgeter != nil {
		t.Error("Budgeter enabled without Options.Budgets")
	}
	if pl.Ready() {
		t.Error("Ready before Run")
	}
}

func TestSendEditDeleteRecorded(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	p := platformtest.New(platformtest.Options{Name: "discord"})
	pl := p.As()
	ref, err := pl.Send(ctx, to, platforms.Message{Text: "…", Buttons: []platforms.LinkButton{{Label: "Open", URL: "https://x"}}})
	if err != nil {
		t.Fatalf("Send: %v", err)
	}
	if ref.Channel != "C1" || ref.ID == "" {
		t.Fatalf("Send ref = %+v", ref)
	}
	for _, text := range []string{"Hello", "Hello world"} {
		if got, err := platforms.ResolveCaps(pl).Editor.Edit(ctx, ref, msg(text)); err != nil || got != ref {
			t.Fatalf("Edit(%q) = %+v, %v", text, got, err)
		}
	}
	if err := platforms.ResolveCaps(pl).Typer.Typing(ctx, to); err != nil {
		t.Fatalf("Typing: %v", err)
	}
	if err := platforms.ResolveCaps(pl).Ephemeraler.SendEphemeral(ctx, to, msg("only you")); err != nil {
		t.Fatalf("SendEphemeral: %v", err)
	}
	if err := platforms.ResolveCaps(pl).Deleter.Delete(ctx, ref); err != nil {
		t.Fatalf("Delete: %v", err)
	}

	calls := p.Calls()
	kinds := make([]platformtest.CallKind, len(calls))
	for i, c := range calls {
		kinds[i] = c.Kind
		if c.Seq != i+1 || c.At.IsZero() || c.Err != nil {
			t.Errorf("call %d = %+v", i, c)
		}
		if i > 0 && c.At.Before(calls[i-1].At) {
			t.Errorf("call %d recorded before call %d", i, i-1)
		}
	}
	wantKinds := []platformtest.CallKind{
		platformtest.CallSend, platformtest.CallEdit, platformtest.CallEdit,
		platformtest.CallTyping, platformtest.CallEphemeral, platformtest.CallDelete,
	}
	if diff := cmp.Diff(wantKinds, kinds); diff != "" {
		t.Errorf("call kinds (-want +got):\n%s", diff)
	}
	if calls[0].Ref != ref || calls[0].Buttons[0].Label != "Open" || calls[2].Text != "Hello world" {
		t.Errorf("send/edit details not recorded: %+v", calls[:3])
	}
	if calls[4].Target != to || calls[4].Text != "only you" {
		t.Errorf("ephemeral call = %+v", calls[4])
	}
	m, ok := p.Message(ref.ID)
	if !ok || m.Text != "Hello world" || m.Edits != 2 || !m.Deleted || m.Stream != platformtest.StreamNone {
		t.Errorf("message state = %+v", m)
	}
	if m.Buttons != nil {
		t.Errorf("edit without buttons kept buttons: %+v", m.Buttons)
	}
	if _, err := platforms.ResolveCaps(pl).Editor.Edit(ctx, ref, msg("again")); !errors.Is(err, platformtest.ErrUnknownMessage) {
		t.Errorf("Edit after Delete: err = %v, want ErrUnknownMessage", err)
	}
}

func TestValidation(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	p := platformtest.New(platformtest.Options{Limits: platforms.Limits{MaxMessageChars: 5}})
	pl := p.As()
	if _, err := pl.Send(ctx, to, msg("长长长长长")); err != nil {
		t.Errorf("Send of 5 runes (15 bytes): %v", err)
	}
	if _, err := pl.Send(ctx, to, msg("123456")); !errors.Is(err, platforms.ErrTooLong) {
		t.Errorf("Send of 6 runes: err = %v, want ErrTooLong", err)
	}
	if _, err := pl.Send(ctx, to, msg("  ")); !errors.Is(err, platformtest.ErrEmptyMessage) {
		t.Errorf("Send of blanks: err = %v, want ErrEmptyMessage", err)
	}
	if _, err := pl.Send(ctx, to, platforms.Message{Buttons: []platforms.LinkButton{{Label: "Link", URL: "https://x"}}}); err != nil {
		t.Errorf("Send of buttons only: %v", err)
	}
	bogus := platforms.MessageRef{Channel: "C1", ID: "nope"}
	if _, err := platforms.ResolveCaps(pl).Editor.Edit(ctx, bogus, msg("x")); !errors.Is(err, platformtest.ErrUnknownMessage) {
		t.Errorf("Edit of unknown ref: err = %v", err)
	}
	if err := platforms.ResolveCaps(pl).Ephemeraler.SendEphemeral(ctx, to, msg("toolong")); !errors.Is(err, platforms.ErrTooLong) {
		t.Errorf("SendEphemeral too long: err = %v", err)
	}
	if n := len(p.Messages()); n != 2 {
		t.Errorf("%d messages stored, want 2 (failed sends store nothing)", n)
	}
	if n := len(p.Calls()); n != 6 {
		t.Errorf("%d calls recorded, want 6 (failed ones included)", n)
	}
}

func TestFailNextRateLimit(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	p := platformtest.New(platformtest.Options{Name: "slack"})
	ed := platforms.ResolveCaps(p.As()).Editor
	ref, err := p.As().Send(ctx, to, msg("a"))
	if err != nil {
		t.Fatal(err)
	}
	p.FailNext(platformtest.CallEdit, 2, 3*time.Second)
	for i := range 2 {
		_, err := ed.Edit(ctx, ref, msg("b"))
		var rl *platforms.RateLimitError
		if !errors.As(err, &rl) || rl.RetryAfter != 3*time.Second || rl.Platform != "slack" {
			t.Fatalf("edit %d: err = %v, want RateLimitError{slack, 3s}", i, err)
		}
	}
	if _, err := ed.Edit(ctx, ref, msg("c")); err != nil {
		t.Fatalf("third edit: %v", err)
	}
	if m, _ := p.Message(ref.ID); m.Text != "c" || m.Edits != 1 {
		t.Errorf("message = %+v, want text c after one successful edit", m)
	}
	edits := p.CallsOf(platformtest.CallEdit)
	if len(edits) != 3 || edits[0].Err == nil || edits[1].Err == nil || edits[2].Err != nil {
		t.Errorf("edit calls = %+v", edits)
	}
	// Sends were not affected by the edit failures.
	if _, err := p.As().Send(ctx, to, msg("d")); err != nil {
		t.Errorf("send: %v", err)
	}
}

func TestFailNextWithAndHook(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	boom := errors.New("boom")
	var hooked []platformtest.CallKind
	var mu sync.Mutex
	p := platformtest.New(platformtest.Options{Hook: func(c platformtest.Call) error {
		mu.Lock()
		defer mu.Unlock()
		hooked = append(hooked, c.Kind)
		if c.Text == "fail me" {
			return &platforms.RateLimitError{Platform: "fake", RetryAfter: time.Second}
		}
		return nil
	}})
	pl := p.As()
	p.FailNextWith(platformtest.CallSend, 1, boom)
	if _, err := pl.Send(ctx, to, msg("x")); !errors.Is(err, boom) {
		t.Errorf("send: err = %v, want boom", err)
	}
	var rl *platforms.RateLimitError
	if _, err := pl.Send(ctx, to, msg("fail me")); !errors.As(err, &rl) {
		t.Errorf("hooked send: err = %v, want RateLimitError", err)
	}
	if _, err := pl.Send(ctx, to, msg("fine")); err != nil {
		t.Errorf("send: %v", err)
	}
	p.SetHook(nil)
	if _, err := pl.Send(ctx, to, msg("fail me")); err != nil {
		t.Errorf("send after SetHook(nil): %v", err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(hooked) != 3 {
		t.Errorf("hook saw %d calls, want 3", len(hooked))
	}
}

func TestStreaming(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	p := platformtest.New(platformtest.Options{MaxStreamChars: 12})
	st := platforms.ResolveCaps(p.As()).Streamer
	if !st.CanStream(to) {
		t.Fatal("CanStream = false")
	}
	ref, err := st.StartStream(ctx, to, "Hel")
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range []string{"lo", " world"} {
		if err := st.AppendStream(ctx, ref, d); err != nil {
			t.Fatalf("AppendStream(%q): %v", d, err)
		}
	}
	if err := st.AppendStream(ctx, ref, "!!!!"); !errors.Is(err, platforms.ErrTooLong) {
		t.Errorf("append past MaxStreamChars: err = %v", err)
	}
	m, _ := p.Message(ref.ID)
	if m.Text != "Hello world" || m.Appends != 2 || m.Stream != platformtest.StreamOpen {
		t.Errorf("open stream = %+v", m)
	}
	if err := st.StopStream(ctx, ref); err != nil {
		t.Fatal(err)
	}
	if m, _ := p.Message(ref.ID); m.Stream != platformtest.StreamClosed || m.Stream.String() != "closed" {
		t.Errorf("stream after stop = %v", m.Stream)
	}
	if err := st.AppendStream(ctx, ref, "x"); !errors.Is(err, platformtest.ErrStreamNotOpen) {
		t.Errorf("append after stop: err = %v", err)
	}
	if err := st.StopStream(ctx, ref); !errors.Is(err, platformtest.ErrStreamNotOpen) {
		t.Errorf("second stop: err = %v", err)
	}
}

func TestStreamUnsupported(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	p := platformtest.New(platformtest.Options{CanStream: func(to platforms.Target) bool { return to.Thread != "" }})
	st := platforms.ResolveCaps(p.As()).Streamer
	threaded := to
	threaded.Thread = "T1"
	if st.CanStream(to) || !st.CanStream(threaded) {
		t.Fatal("Options.CanStream not consulted")
	}
	ref, err := st.StartStream(ctx, threaded, "a")
	if err != nil {
		t.Fatal(err)
	}
	p.SetStreamUnsupported(true)
	if st.CanStream(threaded) {
		t.Error("CanStream true after SetStreamUnsupported")
	}
	if _, err := st.StartStream(ctx, threaded, "b"); !errors.Is(err, platforms.ErrStreamUnsupported) {
		t.Errorf("StartStream: err = %v, want ErrStreamUnsupported", err)
	}
	if err := st.AppendStream(ctx, ref, "c"); !errors.Is(err, platforms.ErrStreamUnsupported) {
		t.Errorf("AppendStream: err = %v, want ErrStreamUnsupported", err)
	}
	p.SetStreamUnsupported(false)
	if err := st.AppendStream(ctx, ref, "d"); err != nil {
		t.Errorf("AppendStream after lifting: %v", err)
	}
}

func TestBudgets(t *testing.T) {
	t.Parallel()
	want := []platforms.Budget{{Key: "chan:C1", Rate: 1, Burst: 5}}
	p := platformtest.New(platformtest.Options{Budgets: func(ref platforms.MessageRef) []platforms.Budget {
		return []platforms.Budget{{Key: "chan:" + string(ref.Channel), Rate: 1, Burst: 5}}
	}})
	got := platforms.ResolveCaps(p.As()).Budgeter.UpdateBudgets(platforms.MessageRef{Channel: "C1", ID: "m1"})
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("UpdateBudgets (-want +got):\n%s", diff)
	}
}

func TestMoveOnEdit(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	p := platformtest.New(platformtest.Options{MoveOnEdit: true})
	pl := p.As()
	ref, err := pl.Send(ctx, to, msg("a"))
	if err != nil {
		t.Fatal(err)
	}
	moved, err := platforms.ResolveCaps(pl).Editor.Edit(ctx, ref, msg("b"))
	if err != nil || moved == ref || moved.Channel != ref.Channel {
		t.Fatalf("Edit = %+v, %v; want a new ref in the same channel", moved, err)
	}
	if _, err := platforms.ResolveCaps(pl).Editor.Edit(ctx, ref, msg("c")); !errors.Is(err, platformtest.ErrUnknownMessage) {
		t.Errorf("Edit of the old ref: err = %v, want ErrUnknownMessage", err)
	}
	if _, err := platforms.ResolveCaps(pl).Editor.Edit(ctx, moved, msg("d")); err != nil {
		t.Errorf("Edit of the new ref: %v", err)
	}
	msgs := p.Messages()
	if len(msgs) != 1 || msgs[0].Text != "d" || msgs[0].Edits != 2 {
		t.Errorf("messages = %+v", msgs)
	}
	if calls := p.CallsOf(platformtest.CallEdit); calls[0].MovedTo != moved || calls[1].MovedTo != (platforms.MessageRef{}) {
		t.Errorf("edit calls = %+v", calls)
	}
}
