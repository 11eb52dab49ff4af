package slack

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/secondme-bridge/secondme-bridge/platforms"
	"github.com/secondme-bridge/secondme-bridge/platforms/slack/slacktest"
)

func TestSocketMentionInChannel(t *testing.T) {
	t.Parallel()
	fake := newFake(t)
	fake.AddUser(slacktest.User{ID: "U1", Name: "ada", DisplayName: "Ada", Locale: "fr-FR"})
	_, rec, _ := startSocket(t, fake, nil)

	p, err := fake.Mention(t.Context(), "U1", "C1", "", "hello   there &amp; you")
	if err != nil {
		t.Fatalf("Mention: %v", err)
	}
	for _, a := range p.Acks {
		if a.Latency > 3*time.Second {
			t.Errorf("ack took %s, want < 3s", a.Latency)
		}
	}
	got := rec.wait(t, 1)
	want := platforms.Event{
		Kind: platforms.EventMessage, Platform: "slack",
		DedupeIDs: []string{"ev:" + p.EventIDs[0], "msg:T1:C1:" + p.TS},
		User:      platforms.User{ID: "U1", Scope: "T1", DisplayName: "Ada", Locale: "fr-FR"},
		Workspace: "T1", Channel: "C1", Thread: platforms.ThreadID(p.TS), Text: "hello there & you", MessageID: platforms.MessageID(p.TS),
		Addressed: true, HumanTrigger: true,
	}
	if diff := cmp.Diff(want, got[0]); diff != "" {
		t.Errorf("event (-want +got):\n%s", diff)
	}
	// The message twin of the mention (same channel and ts) is not emitted.
	if evs := rec.settle(); len(evs) != 1 {
		t.Errorf("got %d events, want 1 (message twin suppressed): %+v", len(evs), evs)
	}
}

func TestSocketMentionInThreadAndRedelivery(t *testing.T) {
	t.Parallel()
	fake := newFake(t)
	_, rec, _ := startSocket(t, fake, nil)

	root := fake.NewTS()
	p, err := fake.Mention(t.Context(), "U1", "C1", root, "follow up")
	if err != nil {
		t.Fatalf("Mention: %v", err)
	}
	if _, err := fake.Redeliver(t.Context(), p, 0, 1); err != nil {
		t.Fatalf("Redeliver: %v", err)
	}
	evs := rec.wait(t, 2)
	if string(evs[0].Thread) != root || string(evs[0].ReplyToID) != root || string(evs[0].MessageID) != p.TS {
		t.Errorf("thread/reply/message = %q/%q/%q, want %q/%q/%q", evs[0].Thread, evs[0].ReplyToID, evs[0].MessageID, root, root, p.TS)
	}
	if diff := cmp.Diff(evs[0].DedupeIDs, evs[1].DedupeIDs); diff != "" {
		t.Errorf("redelivery must carry the same dedupe ids (-first +retry):\n%s", diff)
	}
}

func TestSocketDM(t *testing.T) {
	t.Parallel()
	fake := newFake(t)
	_, rec, _ := startSocket(t, fake, nil)

	top, err := fake.DM(t.Context(), "U2", "", "hi avatar")
	if err != nil {
		t.Fatalf("DM: %v", err)
	}
	in, err := fake.DM(t.Context(), "U2", top.TS, "and <@UBOT> more")
	if err != nil {
		t.Fatalf("DM: %v", err)
	}
	evs := rec.wait(t, 2)
	ch := fake.DMChannel("U2")
	for i, c := range []struct {
		ev     platforms.Event
		thread string
		text   string
	}{{evs[0], top.TS, "hi avatar"}, {evs[1], top.TS, "and more"}} {
		if !c.ev.DM || !c.ev.Addressed || string(c.ev.Channel) != ch || string(c.ev.Thread) != c.thread || c.ev.Text != c.text {
			t.Errorf("DM event %d = %+v, want DM addressed in %s thread %s text %q", i, c.ev, ch, c.thread, c.text)
		}
	}
	if string(evs[1].MessageID) != in.TS || string(evs[1].ReplyToID) != top.TS {
		t.Errorf("DM thread reply ids = %q/%q", evs[1].MessageID, evs[1].ReplyToID)
	}
}

func TestSocketThreadFollowUpNotAddressed(t *testing.T) {
	t.Parallel()
	fake := newFake(t)
	_, rec, _ := startSocket(t, fake, nil)

	if _, err := fake.Say(t.Context(), "U1", "C1", "", "top-level chatter"); err != nil {
		t.Fatalf("Say: %v", err)
	}
	root := fake.NewTS()
	p, err := fake.Say(t.Context(), "U1", "G1", root, "and another thing")
	if err != nil {
		t.Fatalf("Say: %v", err)
	}
	evs := rec.wait(t, 1)
	if ev := evs[0]; ev.Addressed || string(ev.Thread) != root || ev.Channel != "G1" || string(ev.MessageID) != p.TS || ev.DM {
		t.Errorf("follow-up = %+v, want unaddressed in G1 thread %s", ev, root)
	}
	if evs := rec.settle(); len(evs) != 1 {
		t.Errorf("top-level chatter must be ignored, got %d events", len(evs))
	}
}

func TestSocketIgnoresBotsEditsAndSubtypes(t *testing.T) {
	t.Parallel()
	fake := newFake(t)
	_, rec, _ := startSocket(t, fake, nil)
	ctx := t.Context()
	thread := fake.NewTS()
	dm := fake.DMChannel("U1")
	ignored := []slacktest.InnerEvent{
		{Type: "message", BotID: "B9", Text: "bot talk", Channel: dm, ChannelType: "im"},
		{Type: "message", User: "UBOT", Text: "my own reply", Channel: dm, ChannelType: "im"},
		{Type: "message", Subtype: "message_changed", Channel: dm, ChannelType: "im", Message: []byte(`{"type":"message","user":"U1","text":"edited","ts":"1.1","edited":{"user":"U1","ts":"2"}}`)},
		{Type: "message", Subtype: "message_deleted", Channel: dm, ChannelType: "im"},
		{Type: "message", Subtype: "channel_join", User: "U1", Text: "joined", Channel: "C1", ChannelType: "channel", ThreadTS: thread},
		{Type: "message", Subtype: "thread_broadcast", User: "U1", Text: "also to channel", Channel: "C1", ChannelType: "channel", ThreadTS: thread},
		{Type: "message", Subtype: "bot_message", BotID: "B9", Text: "workflow", Channel: "C1", ChannelType: "channel", ThreadTS: thread},
		{Type: "app_mention", BotID: "B9", User: "U9", Text: "<@UBOT> from a bot", Channel: "C1"},
		{Type: "app_mention", User: "U1", Text: "<@UBOT> edited", Channel: "C1", Edited: &slacktest.Edited{User: "U1", TS: "2"}},
	}
	for i, ev := range ignored {
		ev.TS = fake.NewTS()
		a, err := fake.SendEvent(ctx, ev)
		if err != nil || a.EnvelopeID == "" {
			t.Fatalf("event %d not acknowledged: %v", i, err)
		}
	}
	// (file_share messages are handled: see TestFilesOfEachKind.)
	// An event type slack-go does not know is acknowledged too.
	if _, err := fake.SendEnvelope(ctx, "events_api", slacktest.EventCallback("T1", "A1", "EvX", map[string]any{"type": "made_up_event"}), 0); err != nil {
		t.Fatalf("unknown event type not acknowledged: %v", err)
	}
	if _, err := fake.DM(ctx, "U1", "", "sentinel"); err != nil {
		t.Fatalf("DM: %v", err)
	}
	rec.wait(t, 1)
	if evs := rec.settle(); len(evs) != 1 || evs[0].Text != "sentinel" {
		t.Errorf("only the sentinel should pass, got %+v", evs)
	}
}

func TestSocketAcksBeforeHandler(t *testing.T) {
	t.Parallel()
	fake := newFake(t)
	a, _ := newAdapter(t, fake, nil)
	rec := &recorder{block: make(chan struct{})}
	run(t, a, rec)
	fake.WaitConnections(t, 1, 5*time.Second)

	// The handler is blocked, yet every delivery is acknowledged at once.
	ctx, cancel := context.WithTimeout(t.Context(), 3*time.Second)
	defer cancel()
	for i := range 3 {
		if _, err := fake.DM(ctx, "U1", "", "msg"); err != nil {
			t.Fatalf("delivery %d not acknowledged while the handler is busy: %v", i, err)
		}
	}
	close(rec.block)
	evs := rec.wait(t, 3)
	for i, ev := range evs[1:] {
		if ev.MessageID < evs[i].MessageID {
			t.Errorf("events out of order: %s before %s", evs[i].MessageID, ev.MessageID)
		}
	}
}

func TestSocketSlashCommands(t *testing.T) {
	t.Parallel()
	fake := newFake(t)
	_, rec, logs := startSocket(t, fake, nil)

	cases := []struct {
		text string
		want platforms.Command
	}{
		{"link", platforms.Command{Name: "link"}},
		{"UNLINK", platforms.Command{Name: "unlink"}},
		{"ask what is   the <https://x.io|plan>?", platforms.Command{Name: "ask", Args: "what is the plan (https://x.io)?"}},
		{"new", platforms.Command{Name: "new"}},
		{"whoami", platforms.Command{Name: "whoami"}},
		{"memory  coffee", platforms.Command{Name: "memory", Args: "coffee"}},
		{"note buy milk &amp; eggs", platforms.Command{Name: "note", Args: "buy milk & eggs"}},
		{"sessions", platforms.Command{Name: "sessions"}},
		{"help", platforms.Command{Name: "help"}},
		{"", platforms.Command{Name: "help"}},
		{"dance now", platforms.Command{Name: "help"}},
	}
	var urls []string
	for _, c := range cases {
		a, err := fake.SendSlashCommand(t.Context(), slacktest.SlashCommand{User: "U1", Channel: "C1", Text: c.text})
		if err != nil {
			t.Fatalf("slash %q: %v", c.text, err)
		}
		if a.Latency > 3*time.Second || len(a.Payload) != 0 {
			t.Errorf("slash %q: ack latency %s payload %s, want fast and empty", c.text, a.Latency, a.Payload)
		}
		urls = append(urls, a.ResponseURL)
	}
	evs := rec.wait(t, len(cases))
	for i, c := range cases {
		ev := evs[i]
		if ev.Kind != platforms.EventCommand || ev.Command == nil || *ev.Command != c.want {
			t.Errorf("slash %q: command %+v, want %+v", c.text, ev.Command, c.want)
			continue
		}
		if ev.Interaction == "" || strings.Contains(ev.Interaction, "response") || ev.Channel != "C1" || ev.Workspace != "T1" || !ev.Addressed {
			t.Errorf("slash %q: event %+v", c.text, ev)
		}
		if len(ev.DedupeIDs) != 1 || !strings.HasPrefix(ev.DedupeIDs[0], "cmd:T1:") {
			t.Errorf("slash %q: dedupe ids %v", c.text, ev.DedupeIDs)
		}
	}
	assertNoSecrets(t, "logs", logs.String(), append(urls, fake.BotToken(), fake.AppToken())...)
}

func TestSocketSlashCommandInDM(t *testing.T) {
	t.Parallel()
	fake := newFake(t)
	_, rec, _ := startSocket(t, fake, nil)
	if _, err := fake.SendSlashCommand(t.Context(), slacktest.SlashCommand{User: "U1", Channel: fake.DMChannel("U1"), Text: "whoami"}); err != nil {
		t.Fatalf("slash: %v", err)
	}
	if ev := rec.wait(t, 1)[0]; !ev.DM {
		t.Errorf("slash command in a DM: DM = false")
	}
}

func TestSocketShortcuts(t *testing.T) {
	t.Parallel()
	fake := newFake(t)
	_, rec, _ := startSocket(t, fake, nil)
	ctx := t.Context()
	root := fake.NewTS()
	msgTS := fake.NewTS()

	if _, err := fake.SendShortcut(ctx, slacktest.Shortcut{User: "U1", CallbackID: "save_to_secondme", Channel: "C1", MessageTS: msgTS, ThreadTS: root, MessageText: "remember <@U7|bob> likes tea"}); err != nil {
		t.Fatalf("shortcut: %v", err)
	}
	if _, err := fake.SendShortcut(ctx, slacktest.Shortcut{User: "U1", CallbackID: "ask_my_avatar", Channel: "C1", MessageTS: msgTS, MessageText: "what about this?"}); err != nil {
		t.Fatalf("shortcut: %v", err)
	}
	// Unknown shortcuts and block actions (link button clicks) are only acknowledged.
	if _, err := fake.SendShortcut(ctx, slacktest.Shortcut{User: "U1", CallbackID: "other", Channel: "C1", MessageTS: msgTS}); err != nil {
		t.Fatalf("shortcut: %v", err)
	}
	if _, err := fake.SendEnvelope(ctx, "interactive", []byte(`{"type":"block_actions","user":{"id":"U1"},"actions":[{"action_id":"link_0"}]}`), 0); err != nil {
		t.Fatalf("block action not acknowledged: %v", err)
	}
	evs := rec.wait(t, 2)
	want := []struct {
		name, args, thread string
	}{{"save", "remember @bob likes tea", root}, {"askabout", "what about this?", msgTS}}
	for i, w := range want {
		ev := evs[i]
		if ev.Kind != platforms.EventCommand || ev.Command.Name != w.name || ev.Command.Args != w.args || string(ev.Thread) != w.thread || string(ev.ReplyToID) != msgTS || ev.Interaction == "" {
			t.Errorf("shortcut %d = %+v (command %+v), want %s %q in thread %s", i, ev, ev.Command, w.name, w.args, w.thread)
		}
	}
	if evs := rec.settle(); len(evs) != 2 {
		t.Errorf("got %d events, want 2", len(evs))
	}
}

func TestSocketReconnect(t *testing.T) {
	t.Parallel()
	fake := newFake(t)
	_, rec, _ := startSocket(t, fake, nil)

	fake.Disconnect()
	fake.WaitConnections(t, 2, 10*time.Second)
	if _, err := fake.DM(t.Context(), "U1", "", "after reconnect"); err != nil {
		t.Fatalf("DM after reconnect: %v", err)
	}
	if ev := rec.wait(t, 1)[0]; ev.Text != "after reconnect" {
		t.Errorf("text = %q", ev.Text)
	}
	fake.DropConnections()
	fake.WaitConnections(t, 3, 15*time.Second)
	if got := fake.ConnectionsOpened(); got < 3 {
		t.Errorf("apps.connections.open called %d times, want >= 3", got)
	}
}

func TestSocketUsersInfoFailure(t *testing.T) {
	t.Parallel()
	fake := newFake(t)
	fake.FailMethod("users.info", "missing_scope")
	_, rec, _ := startSocket(t, fake, nil)
	for range 2 {
		if _, err := fake.DM(t.Context(), "U1", "", "hi"); err != nil {
			t.Fatalf("DM: %v", err)
		}
	}
	for _, ev := range rec.wait(t, 2) {
		if ev.User.Locale != "" || ev.User.ID != "U1" {
			t.Errorf("user = %+v, want no locale", ev.User)
		}
	}
	if n := len(fake.Calls("users.info")); n != 1 {
		t.Errorf("users.info called %d times, want 1 (failure cached)", n)
	}
}

func TestRunErrors(t *testing.T) {
	t.Parallel()
	fake := newFake(t)

	a, _ := newAdapter(t, fake, func(c *Config) { c.BotToken = "xoxb-wrong" })
	select {
	case err := <-run(t, a, &recorder{}):
		if err == nil || strings.Contains(err.Error(), "xoxb-wrong") {
			t.Errorf("Run with a bad token = %v, want an error without the token", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Run with a bad token did not return")
	}

	b, _ := newAdapter(t, fake, func(c *Config) { c.AppToken = "xapp-wrong" })
	select {
	case err := <-run(t, b, &recorder{}):
		if err == nil || strings.Contains(err.Error(), "xapp-wrong") {
			t.Errorf("Run with a bad app token = %v, want an error without the token", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Run with a bad app token did not return")
	}

	c, _ := newAdapter(t, fake, nil)
	if err := c.Run(t.Context(), nil); err == nil {
		t.Error("Run(nil handler) = nil, want an error")
	}
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- c.Run(ctx, &recorder{}) }()
	fake.WaitConnections(t, 1, 5*time.Second)
	if err := c.Run(t.Context(), &recorder{}); err == nil {
		t.Error("second Run = nil, want an error")
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("Run after cancel = %v, want nil", err)
	}
	if c.Ready() {
		t.Error("Ready after Run returned")
	}
}
