package discord

import (
	"sync"
	"testing"
	"time"

	"github.com/secondme-bridge/secondme-bridge/platforms"
	"github.com/secondme-bridge/secondme-bridge/platforms/discord/discordtest"
)

// command dispatches a slash command and returns its event.
func command(t *testing.T, srv *discordtest.Server, rec *recorder, name string, opts map[string]string) (discordtest.Interaction, platforms.Event) {
	t.Helper()
	in, err := srv.SlashCommand(guildID, channelID, alice, name, opts)
	mustNoErr(t, err, name)
	return in, rec.event(t, "int:"+in.ID)
}

func TestInteractionAnswersAndFollowups(t *testing.T) {
	t.Parallel()
	srv := threadedServer(t)
	a, rec := startAdapter(t, srv, nil)
	ctx := waitCtx(t)
	in, ev := command(t, srv, rec, "link", nil)
	to := platforms.Target{Channel: ev.Channel, User: ev.User.ID, Interaction: ev.Interaction, Ephemeral: true}

	// Typing is pointless under "thinking…".
	mustNoErr(t, a.Typing(ctx, to), "typing")
	if n := srv.CountCalls("POST", "/channels/{id}/typing"); n != 0 {
		t.Errorf("typing calls = %d, want 0 for an interaction", n)
	}
	ref, err := a.Send(ctx, to, platforms.Message{
		Text:    "Link your account",
		Buttons: []platforms.LinkButton{{Label: "Link SecondMe", URL: "https://bridge.example.com/link/abc"}},
	})
	mustNoErr(t, err, "first answer")
	orig, ok := srv.OriginalResponse(in.ID)
	if !ok || orig.ID != string(ref.ID) || orig.Content != "Link your account" || !orig.Ephemeral || len(orig.Buttons) != 1 || orig.Flags&128 != 0 {
		t.Fatalf("original = %+v (ref %+v)", orig, ref)
	}
	// Later answers are follow-ups: public, then private.
	f1, err := a.Send(ctx, platforms.Target{Channel: ev.Channel, Interaction: ev.Interaction}, platforms.Message{Text: "second"})
	mustNoErr(t, err, "follow-up")
	mustNoErr(t, a.SendEphemeral(ctx, to, platforms.Message{Text: "Linked as Alice"}), "ephemeral follow-up")
	fs := srv.Followups(in.ID)
	if len(fs) != 2 || fs[0].ID != string(f1.ID) || fs[0].Ephemeral || fs[1].Content != "Linked as Alice" || !fs[1].Ephemeral {
		t.Fatalf("follow-ups = %+v", fs)
	}
	// Edits go to @original and to the follow-up's own id.
	_, err = a.Edit(ctx, ref, platforms.Message{Text: "Link your account (edited)"})
	mustNoErr(t, err, "edit original")
	_, err = a.Edit(ctx, f1, platforms.Message{Text: "second (edited)"})
	mustNoErr(t, err, "edit follow-up")
	if o, _ := srv.OriginalResponse(in.ID); o.Content != "Link your account (edited)" || len(o.Buttons) != 0 {
		t.Errorf("original after edit = %+v", o)
	}
	if m, _ := srv.Message(string(f1.ID)); m.Content != "second (edited)" || m.Edits != 1 {
		t.Errorf("follow-up after edit = %+v", m)
	}
	if n := srv.CountCalls("PATCH", "/webhooks/{app}/{token}/messages/@original"); n != 2 {
		t.Errorf("PATCH @original = %d, want 2", n)
	}
	mustNoErr(t, a.Delete(ctx, f1), "delete follow-up")
	mustNoErr(t, a.Delete(ctx, ref), "delete original")
	if m, _ := srv.Message(string(f1.ID)); !m.Deleted {
		t.Error("follow-up not deleted")
	}
	if o, _ := srv.OriginalResponse(in.ID); !o.Deleted {
		t.Error("original not deleted")
	}
	srv.AssertNoPings(t)
}

func TestPrivateAnswerToPublicDeferral(t *testing.T) {
	t.Parallel()
	srv := threadedServer(t)
	a, rec := startAdapter(t, srv, nil)
	ctx := waitCtx(t)
	in, ev := command(t, srv, rec, "ask", map[string]string{"message": "hi"})

	ref, err := a.Send(ctx, platforms.Target{Channel: ev.Channel, Interaction: ev.Interaction, Ephemeral: true},
		platforms.Message{Text: "Run /link first"})
	mustNoErr(t, err, "private answer")
	fs := srv.Followups(in.ID)
	if len(fs) != 1 || !fs[0].Ephemeral || fs[0].ID != string(ref.ID) {
		t.Errorf("follow-ups = %+v, want one ephemeral", fs)
	}
	if o, _ := srv.OriginalResponse(in.ID); !o.Deleted {
		t.Errorf("public placeholder = %+v, want deleted", o)
	}
}

func TestConcurrentFirstAnswersUseOriginalOnce(t *testing.T) {
	t.Parallel()
	srv := threadedServer(t)
	a, rec := startAdapter(t, srv, nil)
	ctx := waitCtx(t)
	in, ev := command(t, srv, rec, "ask", map[string]string{"message": "hi"})

	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			_, err := a.Send(ctx, platforms.Target{Interaction: ev.Interaction}, platforms.Message{Text: "part"})
			if err != nil {
				t.Errorf("send: %v", err)
			}
		})
	}
	wg.Wait()
	if n := srv.CountCalls("PATCH", "/webhooks/{app}/{token}/messages/@original"); n != 1 {
		t.Errorf("PATCH @original = %d, want 1", n)
	}
	if n := len(srv.Followups(in.ID)); n != 3 {
		t.Errorf("follow-ups = %d, want 3", n)
	}
}

// TestInteractionHandleWithoutMemory answers an interaction from an adapter
// that did not receive it (a restart, another replica): it asks Discord
// whether @original is still pending.
func TestInteractionHandleWithoutMemory(t *testing.T) {
	t.Parallel()
	srv := threadedServer(t)
	_, rec := startAdapter(t, srv, nil)
	ctx := waitCtx(t)
	other, err := New(testConfig(srv), testLogger(t))
	mustNoErr(t, err, "New")
	in, ev := command(t, srv, rec, "whoami", nil)

	to := platforms.Target{Interaction: ev.Interaction, Ephemeral: true}
	_, err = other.Send(ctx, to, platforms.Message{Text: "first"})
	mustNoErr(t, err, "first")
	if o, _ := srv.OriginalResponse(in.ID); o.Content != "first" {
		t.Errorf("original = %+v, want answered through @original", o)
	}
	third, err := New(testConfig(srv), testLogger(t))
	mustNoErr(t, err, "New")
	_, err = third.Send(ctx, to, platforms.Message{Text: "second"})
	mustNoErr(t, err, "second")
	if fs := srv.Followups(in.ID); len(fs) != 1 || fs[0].Content != "second" || !fs[0].Ephemeral {
		t.Errorf("follow-ups = %+v, want one", fs)
	}
	if n := srv.CountCalls("GET", "/webhooks/{app}/{token}/messages/@original"); n != 2 {
		t.Errorf("GET @original = %d, want 2", n)
	}
}

func TestInteractionMovesBeforeTokenExpiry(t *testing.T) {
	t.Parallel()
	srv := threadedServer(t)
	a, rec := startAdapter(t, srv, nil)
	ctx := waitCtx(t)
	var mu sync.Mutex
	offset := time.Duration(0)
	setClock(a, func() time.Time {
		mu.Lock()
		defer mu.Unlock()
		return time.Now().Add(offset)
	})
	advance := func(d time.Duration) {
		mu.Lock()
		offset += d
		mu.Unlock()
	}

	in, ev := command(t, srv, rec, "ask", map[string]string{"message": "a long question"})
	ref, err := a.Send(ctx, platforms.Target{Channel: ev.Channel, Interaction: ev.Interaction}, platforms.Message{Text: "thinking about it"})
	mustNoErr(t, err, "answer")
	advance(13 * time.Minute)
	ref2, err := a.Edit(ctx, ref, platforms.Message{Text: "still inside the window"})
	mustNoErr(t, err, "edit at 13 min")
	if ref2 != ref {
		t.Errorf("ref changed at 13 min: %+v", ref2)
	}
	advance(time.Minute + time.Second)
	moved, err := a.Edit(ctx, ref, platforms.Message{Text: "moved to the channel"})
	mustNoErr(t, err, "edit at 14 min")
	if moved.Extra != "" || moved.Channel != channelID || moved.ID == ref.ID {
		t.Fatalf("moved ref = %+v", moved)
	}
	if m, _ := srv.Message(string(moved.ID)); m.Content != "moved to the channel" || m.InteractionID != "" {
		t.Errorf("moved message = %+v", m)
	}
	if o, _ := srv.OriginalResponse(in.ID); !o.Deleted {
		t.Error("old interaction response not deleted")
	}
	// From then on the bridge edits the channel message.
	_, err = a.Edit(ctx, moved, platforms.Message{Text: "final"})
	mustNoErr(t, err, "edit moved")
	if m, _ := srv.Message(string(moved.ID)); m.Content != "final" {
		t.Errorf("final = %+v", m)
	}

	// A stale interaction: public sends go to the channel, private ones to DMs.
	srv.ExpireInteraction(in.ID)
	ref3, err := a.Send(ctx, platforms.Target{Channel: ev.Channel, Interaction: ev.Interaction}, platforms.Message{Text: "late public"})
	mustNoErr(t, err, "late public")
	if ref3.Channel != channelID || ref3.Extra != "" {
		t.Errorf("late public ref = %+v", ref3)
	}
	mustNoErr(t, a.SendEphemeral(ctx, platforms.Target{User: platforms.UserID(alice.ID), Interaction: ev.Interaction}, platforms.Message{Text: "Linked as Alice"}), "late private")
	if dms := srv.MessagesIn(srv.DMChannel(alice.ID)); len(dms) != 1 || dms[0].Content != "Linked as Alice" {
		t.Errorf("dms = %+v", dms)
	}
	srv.AssertNoPings(t)
}

func TestEphemeralInteractionMessagesAreNotMoved(t *testing.T) {
	t.Parallel()
	srv := threadedServer(t)
	a, rec := startAdapter(t, srv, nil)
	ctx := waitCtx(t)
	start := time.Now()
	setClock(a, func() time.Time { return start })
	in, ev := command(t, srv, rec, "memory", nil)
	ref, err := a.Send(ctx, platforms.Target{Interaction: ev.Interaction, Ephemeral: true}, platforms.Message{Text: "private"})
	mustNoErr(t, err, "answer")
	setClock(a, func() time.Time { return start.Add(14*time.Minute + time.Second) })
	got, err := a.Edit(ctx, ref, platforms.Message{Text: "still private"})
	mustNoErr(t, err, "edit")
	if got != ref {
		t.Errorf("ephemeral ref moved: %+v", got)
	}
	if o, _ := srv.OriginalResponse(in.ID); o.Content != "still private" {
		t.Errorf("original = %+v", o)
	}
}

func TestBadInteractionHandles(t *testing.T) {
	t.Parallel()
	a, err := New(Config{Token: "t", ApplicationID: "1"}, nil)
	mustNoErr(t, err, "New")
	ctx := t.Context()
	for _, h := range []string{"x", "i1:app:chan:notanumber:0:tok", "i1::chan:1:0:tok", "i1:app:chan:1:2:tok", "i2:app:chan:1:0:tok"} {
		if _, err := a.Send(ctx, platforms.Target{Interaction: h}, platforms.Message{Text: "x"}); err == nil {
			t.Errorf("send with handle %q succeeded", h)
		}
	}
	if _, err := a.Edit(ctx, platforms.MessageRef{ID: "1", Extra: "z|nope"}, platforms.Message{Text: "x"}); err == nil {
		t.Error("edit with a bad extra succeeded")
	}
	if err := a.Delete(ctx, platforms.MessageRef{ID: "1", Extra: "o|i1:x"}); err == nil {
		t.Error("delete with a bad extra succeeded")
	}
}

func setClock(a *Adapter, f func() time.Time) { a.clock.Store(&f) }
