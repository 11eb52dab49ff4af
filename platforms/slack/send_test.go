package slack

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/secondme-bridge/secondme-bridge/platforms"
	"github.com/secondme-bridge/secondme-bridge/platforms/slack/slacktest"
)

const pingText = "hey <!channel> <!here> <!everyone> <@U123> <@W9|w> <!subteam^S1|@devs> @here and @channel"

func TestSendEditDelete(t *testing.T) {
	t.Parallel()
	fake := newFake(t)
	a, _ := newAdapter(t, fake, nil)
	ctx := t.Context()
	to := platforms.Target{Workspace: "T1", Channel: "C1", Thread: "1700000000.000001", User: "U1"}

	ref, err := a.Send(ctx, to, platforms.Message{Text: "**hi** " + pingText})
	if err != nil {
		t.Fatalf("Send: %v", err)
	}
	if ref.Channel != "C1" || ref.ID == "" || ref.Extra != "m|T1" {
		t.Errorf("ref = %+v", ref)
	}
	call := fake.Calls("chat.postMessage")[0]
	if call.Form.Get("thread_ts") != string(to.Thread) || call.Form.Get("unfurl_links") != "false" || call.Form.Get("unfurl_media") != "false" {
		t.Errorf("postMessage form = %v", call.Form)
	}
	m, _ := fake.Message(string(ref.Channel), string(ref.ID))
	if m.Markdown == "" || m.Text != m.Markdown || !strings.HasPrefix(m.Markdown, "**hi** hey <\u200b!channel>") {
		t.Errorf("posted text %q / markdown %q", m.Text, m.Markdown)
	}

	ref2, err := a.Edit(ctx, ref, platforms.Message{Text: "edited <@U5>"})
	if err != nil || ref2 != ref {
		t.Fatalf("Edit = %+v, %v", ref2, err)
	}
	if m, _ = fake.Message(string(ref.Channel), string(ref.ID)); m.Display() != "edited <\u200b@U5>" || len(m.Edits) != 1 {
		t.Errorf("after edit: %q edits %v", m.Display(), m.Edits)
	}
	if err := a.Delete(ctx, ref); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	if m, _ = fake.Message(string(ref.Channel), string(ref.ID)); !m.Deleted {
		t.Error("message not deleted")
	}
	fake.AssertNoPings(t)
}

func TestSendLimitsAndButtons(t *testing.T) {
	t.Parallel()
	fake := newFake(t)
	a, _ := newAdapter(t, fake, nil)
	ctx := t.Context()
	to := platforms.Target{Workspace: "T1", Channel: "C1"}

	if _, err := a.Send(ctx, to, platforms.Message{Text: strings.Repeat("é", MaxMessageChars+1)}); !errors.Is(err, platforms.ErrTooLong) {
		t.Errorf("Send over the limit = %v, want ErrTooLong", err)
	}
	if n := len(fake.Calls("chat.postMessage")); n != 0 {
		t.Errorf("a too-long message was sent (%d calls)", n)
	}
	if _, err := a.Send(ctx, to, platforms.Message{Text: strings.Repeat("é", MaxMessageChars)}); err != nil {
		t.Errorf("Send at the limit: %v", err)
	}
	if _, err := a.Send(ctx, to, platforms.Message{}); err == nil {
		t.Error("Send of an empty message = nil error")
	}
	if _, err := a.Send(ctx, to, platforms.Message{Text: "x", Buttons: []platforms.LinkButton{{Label: "Go", URL: "javascript:alert(1)"}}}); err == nil {
		t.Error("a non-http button URL was accepted")
	}
	ref, err := a.Send(ctx, to, platforms.Message{Text: "Link your account", Buttons: []platforms.LinkButton{{Label: "Link SecondMe", URL: "https://go.second.me/oauth/?state=abc"}}})
	if err != nil {
		t.Fatalf("Send with a button: %v", err)
	}
	m, _ := fake.Message(string(ref.Channel), string(ref.ID))
	if !strings.Contains(string(m.Blocks), `"type":"actions"`) || !strings.Contains(string(m.Blocks), `"url":"https://go.second.me/oauth/?state=abc"`) {
		t.Errorf("blocks = %s", m.Blocks)
	}
	// A long reply is rejected by Slack itself as msg_too_long: also ErrTooLong.
	fake.FailMethodN("chat.update", "msg_too_long", 1)
	if _, err := a.Edit(ctx, ref, platforms.Message{Text: "x"}); !errors.Is(err, platforms.ErrTooLong) {
		t.Errorf("Edit with msg_too_long = %v, want ErrTooLong", err)
	}
}

func TestRateLimitNoRetry(t *testing.T) {
	t.Parallel()
	fake := newFake(t)
	a, _ := newAdapter(t, fake, nil)
	ctx := t.Context()
	to := platforms.Target{Workspace: "T1", Channel: "C1"}
	ref, err := a.Send(ctx, to, platforms.Message{Text: "one"})
	if err != nil {
		t.Fatalf("Send: %v", err)
	}

	fake.RateLimit("chat.update", 1, 2*time.Second)
	_, err = a.Edit(ctx, ref, platforms.Message{Text: "two"})
	rl, ok := errors.AsType[*platforms.RateLimitError](err)
	if !ok || rl.Platform != "slack" || rl.RetryAfter != 2*time.Second {
		t.Fatalf("Edit under 429 = %v, want RateLimitError after 2s", err)
	}
	if n := len(fake.Calls("chat.update")); n != 1 {
		t.Errorf("chat.update called %d times, want 1 (no retry)", n)
	}
	fake.RateLimit("chat.postMessage", 1, 0)
	if _, err := a.Send(ctx, to, platforms.Message{Text: "x"}); !isRateLimit(err) {
		t.Errorf("Send under 429 = %v", err)
	}
	fake.FailMethodN("chat.postMessage", "ratelimited", 1)
	if _, err := a.Send(ctx, to, platforms.Message{Text: "x"}); !isRateLimit(err) {
		t.Errorf("Send with ok:false ratelimited = %v", err)
	}
}

func isRateLimit(err error) bool {
	_, ok := errors.AsType[*platforms.RateLimitError](err)
	return ok
}

func TestEphemeralAndInteractions(t *testing.T) {
	t.Parallel()
	fake := newFake(t)
	a, rec, logs := startSocket(t, fake, nil)
	ctx := t.Context()

	// chat.postEphemeral without an interaction.
	if err := a.SendEphemeral(ctx, platforms.Target{Workspace: "T1", Channel: "C1", Thread: "1.2", User: "U1"}, platforms.Message{Text: "only you " + pingText}); err != nil {
		t.Fatalf("SendEphemeral: %v", err)
	}
	if c := fake.Calls("chat.postEphemeral"); len(c) != 1 || c[0].Form.Get("user") != "U1" || c[0].Form.Get("thread_ts") != "1.2" {
		t.Errorf("postEphemeral calls = %+v", c)
	}

	ack, err := fake.SendSlashCommand(ctx, slacktest.SlashCommand{User: "U1", Channel: "C1", Text: "whoami"})
	if err != nil {
		t.Fatalf("slash: %v", err)
	}
	ev := rec.wait(t, 1)[0]
	to := platforms.Target{Workspace: ev.Workspace, Channel: ev.Channel, User: ev.User.ID, Interaction: ev.Interaction, Ephemeral: true}

	// SendEphemeral with the interaction answers through the response_url.
	if err := a.SendEphemeral(ctx, to, platforms.Message{Text: "You are Ada"}); err != nil {
		t.Fatalf("SendEphemeral(interaction): %v", err)
	}
	// Send ephemeral + Edit: replace_original on the same response_url.
	ref, err := a.Send(ctx, to, platforms.Message{Text: "Linking…"})
	if err != nil {
		t.Fatalf("Send(interaction, ephemeral): %v", err)
	}
	if strings.Contains(ref.Extra, "response") || !strings.HasPrefix(ref.Extra, "r|T1|") {
		t.Errorf("response ref extra = %q", ref.Extra)
	}
	if b := a.UpdateBudgets(ref); len(b) != 1 || b[0].Burst != 3 || !strings.HasPrefix(b[0].Key, "slack:T1:response_url:") {
		t.Errorf("response_url budgets = %+v", b)
	}
	if _, err := a.Edit(ctx, ref, platforms.Message{Text: "Linked as Ada"}); err != nil {
		t.Fatalf("Edit(response ref): %v", err)
	}
	posts := fake.ResponsePosts(ack.ResponseURL)
	want := []struct {
		text    string
		replace bool
	}{{"You are Ada", false}, {"Linking…", false}, {"Linked as Ada", true}}
	if len(posts) != len(want) {
		t.Fatalf("response posts = %+v", posts)
	}
	for i, w := range want {
		if posts[i].Display() != w.text || posts[i].ReplaceOriginal != w.replace || posts[i].ResponseType != "ephemeral" {
			t.Errorf("post %d = %+v, want %q replace=%v ephemeral", i, posts[i], w.text, w.replace)
		}
	}
	// Slack allows five posts per response_url; the sixth fails cleanly.
	for range 2 {
		if _, err := a.Edit(ctx, ref, platforms.Message{Text: "again"}); err != nil {
			t.Fatalf("Edit: %v", err)
		}
	}
	_, err = a.Edit(ctx, ref, platforms.Message{Text: "one too many"})
	if err == nil || strings.Contains(err.Error(), ack.ResponseURL) || strings.Contains(err.Error(), "/response/") {
		t.Errorf("sixth response_url post = %v, want an error without the URL", err)
	}

	// Public answer: a normal message in the channel, editable with chat.update.
	pub := to
	pub.Ephemeral = false
	ref, err = a.Send(ctx, pub, platforms.Message{Text: "public answer"})
	if err != nil || ref.Extra != "m|T1" || ref.ID == "" {
		t.Fatalf("Send(interaction, public) = %+v, %v", ref, err)
	}
	// …or through the response_url when the bot is not in the channel.
	ack2, _ := fake.SendSlashCommand(ctx, slacktest.SlashCommand{User: "U1", Channel: "C7", Text: "ask hi"})
	ev2 := rec.wait(t, 2)[1]
	fake.FailMethodN("chat.postMessage", "not_in_channel", 1)
	ref, err = a.Send(ctx, platforms.Target{Workspace: "T1", Channel: "C7", User: "U1", Interaction: ev2.Interaction}, platforms.Message{Text: "in channel"})
	if err != nil || !strings.HasPrefix(ref.Extra, "r|") {
		t.Fatalf("Send(not in channel) = %+v, %v", ref, err)
	}
	if p := fake.ResponsePosts(ack2.ResponseURL); len(p) != 1 || p[0].ResponseType != "in_channel" {
		t.Errorf("in_channel fallback posts = %+v", p)
	}

	// Forged or foreign handles are refused.
	other, _ := newSealer("xoxb-other-token")
	foreign, _ := other.seal(interaction{ResponseURL: "http://127.0.0.1:1/x", Channel: "C1", Expires: time.Now().Add(time.Minute).Unix()})
	expired, _ := a.sealer.seal(interaction{ResponseURL: "http://127.0.0.1:1/x", Channel: "C1", Expires: time.Now().Add(-time.Minute).Unix()})
	for name, h := range map[string]string{"garbage": "h1.AAAA", "foreign": foreign, "expired": expired, "plain": "https://hooks.slack.com/x"} {
		bad := to
		bad.Interaction = h
		if err := a.SendEphemeral(ctx, bad, platforms.Message{Text: "x"}); !errors.Is(err, ErrInvalidHandle) {
			t.Errorf("%s handle: %v, want ErrInvalidHandle", name, err)
		}
	}
	fake.AssertNoPings(t)
	assertNoSecrets(t, "logs", logs.String(), ack.ResponseURL, ack2.ResponseURL, fake.BotToken(), fake.AppToken())
}

func TestUpdateBudgets(t *testing.T) {
	t.Parallel()
	fake := newFake(t)
	a, _ := newAdapter(t, fake, nil)
	cases := []struct {
		extra string
		want  []platforms.Budget
	}{
		{"m|T1", []platforms.Budget{{Key: "slack:T1:chat.update", Rate: 50.0 / 60, Burst: 5}}},
		{"s|T9", []platforms.Budget{{Key: "slack:T9:appendStream", Rate: 100.0 / 60, Burst: 10}}},
		{"e|T1", nil},
		{"", nil},
	}
	for _, c := range cases {
		if diff := cmp.Diff(c.want, a.UpdateBudgets(platforms.MessageRef{Channel: "C1", ID: "1.1", Extra: c.extra})); diff != "" {
			t.Errorf("UpdateBudgets(%q) (-want +got):\n%s", c.extra, diff)
		}
	}
	if _, err := a.Edit(t.Context(), platforms.MessageRef{Channel: "C1", Extra: "e|T1"}, platforms.Message{Text: "x"}); err == nil {
		t.Error("editing an ephemeral message = nil error")
	}
}

func TestTyping(t *testing.T) {
	t.Parallel()
	fake := newFake(t)
	a, _ := newAdapter(t, fake, nil)
	ctx := t.Context()

	if err := a.Typing(ctx, platforms.Target{Channel: "D1", Thread: "1.1", User: "U1"}); err != nil {
		t.Fatalf("Typing: %v", err)
	}
	c := fake.Calls("assistant.threads.setStatus")
	if len(c) != 1 || c[0].Form.Get("channel_id") != "D1" || c[0].Form.Get("thread_ts") != "1.1" || c[0].Form.Get("status") == "" {
		t.Fatalf("setStatus calls = %+v", c)
	}
	if err := a.Typing(ctx, platforms.Target{Channel: "C1"}); err != nil || len(fake.Calls("assistant.threads.setStatus")) != 1 {
		t.Errorf("Typing without a thread = %v, must not call Slack", err)
	}

	fake.RateLimit("assistant.threads.setStatus", 1, time.Second)
	if err := a.Typing(ctx, platforms.Target{Channel: "C2", Thread: "1.1"}); !isRateLimit(err) {
		t.Errorf("Typing under 429 = %v", err)
	}
	fake.FailMethod("assistant.threads.setStatus", "channel_not_found")
	for range 3 {
		if err := a.Typing(ctx, platforms.Target{Channel: "C2", Thread: "1.1"}); err != nil {
			t.Errorf("Typing where Slack refuses it = %v, want nil", err)
		}
	}
	if n := len(fake.Calls("assistant.threads.setStatus")); n != 3 {
		t.Errorf("setStatus called %d times, want 3 (refused once, then skipped)", n)
	}
}

func TestInteractionWithoutResponseURL(t *testing.T) {
	t.Parallel()
	fake := newFake(t)
	a, _ := newAdapter(t, fake, nil)
	h, err := a.sealer.seal(interaction{Team: "T1", Channel: "C1", User: "U1", Expires: time.Now().Add(time.Minute).Unix()})
	if err != nil {
		t.Fatal(err)
	}
	if err := a.SendEphemeral(t.Context(), platforms.Target{Interaction: h}, platforms.Message{Text: "private"}); err != nil {
		t.Fatalf("SendEphemeral: %v", err)
	}
	if c := fake.Calls("chat.postEphemeral"); len(c) != 1 || c[0].Form.Get("channel") != "C1" || c[0].Form.Get("user") != "U1" {
		t.Errorf("postEphemeral calls = %+v", c)
	}
}

func TestSendBudgets(t *testing.T) {
	t.Parallel()
	fake := newFake(t)
	a, _ := newAdapter(t, fake, nil)
	want := []platforms.Budget{{Key: "slack:T1:post:C1", Rate: 1, Burst: 3}}
	if diff := cmp.Diff(want, a.SendBudgets(platforms.Target{Workspace: "T1", Channel: "C1", Thread: "1.1"})); diff != "" {
		t.Errorf("SendBudgets (-want +got):\n%s", diff)
	}
}
