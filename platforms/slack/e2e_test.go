package slack

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/secondme-bridge/secondme-bridge/platforms"
	"github.com/secondme-bridge/secondme-bridge/platforms/slack/slacktest"
)

// echoBridge is a miniature bridge: it answers every addressed message with
// reply(text), streaming natively when the adapter allows it and falling
// back to post + edit otherwise, the way the real bridge uses the adapter.
type echoBridge struct {
	a     *Adapter
	reply func(string) string
	errs  chan error
}

func (b *echoBridge) HandleEvent(_ context.Context, ev platforms.Event) {
	if !ev.Addressed || ev.Kind != platforms.EventMessage {
		return
	}
	go func() { b.errs <- b.answer(ev) }()
}

func (b *echoBridge) answer(ev platforms.Event) error {
	ctx := context.Background()
	to := platforms.Target{Workspace: ev.Workspace, Channel: ev.Channel, Thread: ev.Thread, DM: ev.DM, User: ev.User.ID}
	_ = b.a.Typing(ctx, to)
	text := b.reply(ev.Text)
	half := len(text) / 2
	if b.a.CanStream(to) {
		ref, err := b.a.StartStream(ctx, to, text[:half])
		if err == nil {
			if err := b.a.AppendStream(ctx, ref, text[half:]); err != nil {
				return err
			}
			return b.a.StopStream(ctx, ref)
		}
	}
	ref, err := b.a.Send(ctx, to, platforms.Message{Text: text[:half] + "…"})
	if err != nil {
		return err
	}
	_, err = b.a.Edit(ctx, ref, platforms.Message{Text: text})
	return err
}

func TestEndToEnd(t *testing.T) {
	t.Parallel()
	reply := func(s string) string { return "You said: " + strings.ToUpper(s) + " — **done**" }
	for _, c := range []struct {
		name     string
		http     bool
		noStream bool
	}{{"socket stream", false, false}, {"socket fallback", false, true}, {"http stream", true, false}} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			fake := newFake(t)
			if c.noStream {
				fake.SetNativeStreaming("T1", false)
			}
			b := &echoBridge{reply: reply, errs: make(chan error, 10)}
			if c.http {
				b.a, _, _ = startHTTP(t, fake, b)
			} else {
				b.a, _ = newAdapter(t, fake, nil)
				run(t, b.a, b)
				fake.WaitConnections(t, 1, 5*time.Second)
			}
			ctx := t.Context()

			p, err := fake.Mention(ctx, "U1", "C1", "", "hello")
			if err != nil {
				t.Fatalf("Mention: %v", err)
			}
			fake.WaitReplyText(t, "C1", p.ReplyThread(), reply("hello"), 5*time.Second)
			if err := <-b.errs; err != nil {
				t.Fatalf("answer: %v", err)
			}

			d, err := fake.DM(ctx, "U2", "", "in private")
			if err != nil {
				t.Fatalf("DM: %v", err)
			}
			// The exact final text: the fallback posts, then edits, and a
			// loaded machine can stall the edit for a while after the post.
			fake.WaitReplyText(t, fake.DMChannel("U2"), d.ReplyThread(), reply("in private"), 5*time.Second)
			if err := <-b.errs; err != nil {
				t.Fatalf("answer: %v", err)
			}
			streams := 0
			for _, m := range fake.Messages() {
				if m.Stream {
					streams++
				}
			}
			if c.noStream && (streams != 0 || len(fake.Calls("chat.update")) != 2) {
				t.Errorf("fallback: %d streams, %d updates", streams, len(fake.Calls("chat.update")))
			}
			if !c.noStream && streams != 2 {
				t.Errorf("native: %d streams, want 2", streams)
			}
			fake.AssertNoPings(t)
		})
	}
}

// TestEndToEndSlashCommandLinkFlow is the shape of "/secondme link": an
// ephemeral answer with a link button through the response_url.
func TestEndToEndSlashCommandLinkFlow(t *testing.T) {
	t.Parallel()
	fake := newFake(t)
	a, rec, _ := startSocket(t, fake, nil)
	ack, err := fake.SendSlashCommand(t.Context(), slacktest.SlashCommand{User: "U1", Channel: "C1", Text: "link"})
	if err != nil {
		t.Fatalf("slash: %v", err)
	}
	ev := rec.wait(t, 1)[0]
	to := platforms.Target{Workspace: ev.Workspace, Channel: ev.Channel, User: ev.User.ID, Interaction: ev.Interaction, Ephemeral: true}
	msg := platforms.Message{Text: "Open the link to connect.", Buttons: []platforms.LinkButton{{Label: "Link SecondMe", URL: "https://go.second.me/oauth/?state=s1"}}}
	if err := a.SendEphemeral(t.Context(), to, msg); err != nil {
		t.Fatalf("SendEphemeral: %v", err)
	}
	posts := fake.ResponsePosts(ack.ResponseURL)
	if len(posts) != 1 || posts[0].ResponseType != "ephemeral" || !strings.Contains(string(posts[0].Blocks), "https://go.second.me/oauth/?state=s1") {
		t.Errorf("link answer = %+v", posts)
	}
}
