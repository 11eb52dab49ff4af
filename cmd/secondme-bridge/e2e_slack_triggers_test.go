package main

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/secondme-bridge/secondme-bridge/platforms/slack/slacktest"
	"github.com/secondme-bridge/secondme-bridge/secondme/secondmetest"
)

// TestE2ESlackThreadFollowUp: in a thread where the bot answered a user,
// that user's later messages are answered without a mention, in the same
// session; another user's are not.
func TestE2ESlackThreadFollowUp(t *testing.T) {
	t.Parallel()
	e := startE2E(t, e2eOptions{slack: true})
	linkSlackUser(t, e, "U1", "42", "Ada")
	ctx := slackCtx(t)

	e.sm.QueueStream(secondmetest.Script{Deltas: []string{"First ", "answer."}, SessionID: "labs_sess_thread"})
	p, err := e.sl.Mention(ctx, "U1", slackChannel, "", "start a thread")
	if err != nil {
		t.Fatalf("mention: %v", err)
	}
	waitSlackReply(t, e, slackChannel, p.TS, "First answer.")

	e.sm.QueueStream(secondmetest.Script{Deltas: []string{"Second ", "answer."}})
	if _, err := e.sl.Say(ctx, "U1", slackChannel, p.TS, "and without a mention?"); err != nil {
		t.Fatalf("follow-up: %v", err)
	}
	waitSlackMessage(t, e, slackChannel, p.TS, 2, "Second answer.")
	messages, sessions := chatMessages(e)
	if !slices.Equal(messages, []string{"start a thread", "and without a mention?"}) || !slices.Equal(sessions, []string{"", "labs_sess_thread"}) {
		t.Fatalf("chat messages %q sessions %q, want the follow-up in session labs_sess_thread", messages, sessions)
	}

	// Another (linked) user in the same thread, without a mention: not
	// answered. U2 then mentions the bot there and is answered in a
	// conversation of their own; U2's deliveries are handled in order, so by
	// then the follow-up has been dropped.
	linkSlackUser(t, e, "U2", "43", "Grace")
	if _, err := e.sl.Say(ctx, "U2", slackChannel, p.TS, "can I join?"); err != nil {
		t.Fatalf("other user's follow-up: %v", err)
	}
	e.sm.QueueStream(secondmetest.Script{Deltas: []string{"Hello ", "Grace."}})
	if _, err := e.sl.Mention(ctx, "U2", slackChannel, p.TS, "hello?"); err != nil {
		t.Fatalf("other user's mention: %v", err)
	}
	waitSlackMessage(t, e, slackChannel, p.TS, 3, "Hello Grace.")
	chats := e.sm.RequestsTo(secondmetest.PathChatStream)
	messages, sessions = chatMessages(e)
	if len(chats) != 3 || messages[2] != "hello?" || chats[2].UserID != "43" || sessions[2] != "" {
		t.Errorf("chat messages %q sessions %q: want U2's mention only, in a new session", messages, sessions)
	}
	for _, m := range e.sl.Messages() {
		if m.Ephemeral && m.EphemeralUser == "U2" {
			t.Errorf("U2 got a private notice %q", m.Display())
		}
	}
	e.sl.AssertNoPings(t)
	e.assertNoSecrets(t)
}

// TestE2ESlackShortcuts: "Save to SecondMe" saves the message as a note
// and confirms privately; "Ask my avatar" answers about the message in its
// thread.
func TestE2ESlackShortcuts(t *testing.T) {
	t.Parallel()
	e := startE2E(t, e2eOptions{slack: true})
	linkSlackUser(t, e, "U1", "42", "Ada")
	ctx := slackCtx(t)
	msg, err := e.sl.Say(ctx, "U2", slackChannel, "", "Ship v2 on Friday &amp; celebrate")
	if err != nil {
		t.Fatalf("say: %v", err)
	}

	ack, err := e.sl.SendShortcut(ctx, slacktest.Shortcut{
		User: "U1", CallbackID: "save_to_secondme", Channel: slackChannel,
		MessageTS: msg.TS, MessageText: "Ship v2 on Friday &amp; celebrate", MessageUser: "U2",
	})
	if err != nil {
		t.Fatalf("save shortcut: %v", err)
	}
	if ack.Latency > 3*time.Second {
		t.Errorf("shortcut acknowledged after %s", ack.Latency)
	}
	saved := waitResponsePost(t, e, ack.ResponseURL, func(p slacktest.ResponsePost) bool { return p.Display() != "" })
	if saved.Display() != "Saved as a SecondMe note." || saved.ResponseType != "ephemeral" {
		t.Errorf("save confirmation = %q (%s), want the private \"Saved as a SecondMe note.\"", saved.Display(), saved.ResponseType)
	}
	if notes := e.sm.Notes("42"); len(notes) != 1 || notes[0].Content != "Ship v2 on Friday & celebrate" {
		t.Errorf("notes at SecondMe = %+v", notes)
	}
	if n := len(e.sl.Calls("chat.postMessage")); n != 0 {
		t.Errorf("saving posted %d public messages", n)
	}

	e.sm.QueueStream(secondmetest.Script{Deltas: []string{"Sounds ", "like ", "a plan."}, Delay: 40 * time.Millisecond})
	if _, err := e.sl.SendShortcut(ctx, slacktest.Shortcut{
		User: "U1", CallbackID: "ask_my_avatar", Channel: slackChannel,
		MessageTS: msg.TS, MessageText: "Ship v2 on Friday &amp; celebrate", MessageUser: "U2",
	}); err != nil {
		t.Fatalf("ask shortcut: %v", err)
	}
	waitSlackReply(t, e, slackChannel, msg.TS, "Sounds like a plan.")
	if messages, _ := chatMessages(e); len(messages) != 1 || !strings.Contains(messages[0], "> Ship v2 on Friday & celebrate") {
		t.Errorf("chat messages = %q, want a question quoting the message", messages)
	}
	e.sl.AssertNoPings(t)
	e.assertNoSecrets(t)
}

// TestE2ESlackIgnored: messages from bots (and the bot itself), edits and
// other message subtypes are never answered, not even in a DM.
func TestE2ESlackIgnored(t *testing.T) {
	t.Parallel()
	e := startE2E(t, e2eOptions{slack: true})
	linkSlackUser(t, e, "U1", "42", "Ada")
	ctx := slackCtx(t)
	dm := e.sl.DMChannel("U1")
	edited := json.RawMessage(`{"type":"message","user":"U1","text":"edited text","ts":"1700000000.000001","edited":{"user":"U1","ts":"1700000099.000001"}}`)
	ignored := map[string]slacktest.InnerEvent{
		"bot message": {Type: "message", Subtype: "bot_message", BotID: "B2", Text: "beep", Channel: dm, ChannelType: "im"},
		"bot user":    {Type: "message", User: "U9", BotID: "B9", Text: "from another app", Channel: dm, ChannelType: "im"},
		"ourselves":   {Type: "message", User: e.sl.BotUserID(), Text: "my own reply", Channel: dm, ChannelType: "im"},
		"edit":        {Type: "message", Subtype: "message_changed", Text: "", Channel: dm, ChannelType: "im", Message: edited},
		"edited mention": {Type: "app_mention", User: "U1", Text: "<@" + e.sl.BotUserID() + "> edited", Channel: slackChannel,
			Edited: &slacktest.Edited{User: "U1", TS: "1700000099.000002"}},
		"me message":            {Type: "message", Subtype: "me_message", User: "U1", Text: "waves", Channel: dm, ChannelType: "im"},
		"channel join":          {Type: "message", Subtype: "channel_join", User: "U1", Text: "<@U1> has joined", Channel: slackChannel, ChannelType: "channel"},
		"plain channel message": {Type: "message", User: "U1", Text: "just chatting", Channel: slackChannel, ChannelType: "channel"},
	}
	var threads []string
	for name, ev := range ignored {
		ev.TS, ev.Team = e.sl.NewTS(), e.sl.TeamID()
		threads = append(threads, ev.Channel+"/"+ev.TS)
		if _, err := e.sl.SendEvent(ctx, ev); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
	}
	// A real DM afterwards is answered, and it is the only thing answered.
	e.sm.QueueStream(secondmetest.Script{Deltas: []string{"Only ", "this."}})
	d, err := e.sl.DM(ctx, "U1", "", "a real question")
	if err != nil {
		t.Fatalf("DM: %v", err)
	}
	waitSlackReply(t, e, dm, d.TS, "Only this.")
	if messages, _ := chatMessages(e); !slices.Equal(messages, []string{"a real question"}) {
		t.Errorf("chat messages = %q, want the real DM only", messages)
	}
	for _, m := range e.sl.Messages() {
		if m.Bot && m.ThreadTS != d.TS {
			t.Errorf("bot posted %q in %s/%s (thread %q); ignored events: %q", m.Display(), m.Channel, m.TS, m.ThreadTS, threads)
		}
	}
	e.sl.AssertNoPings(t)
	e.assertNoSecrets(t)
}

// TestE2ESlackUnlinkedNamesSlackCommand: a user who has not linked gets a
// private invitation that names Slack's command (/secondme link, not
// Discord's /link), and nothing reaches SecondMe.
func TestE2ESlackUnlinkedNamesSlackCommand(t *testing.T) {
	t.Parallel()
	e := startE2E(t, e2eOptions{slack: true})
	if _, err := e.sl.Mention(slackCtx(t), "U7", slackChannel, "", "hello?"); err != nil {
		t.Fatalf("mention: %v", err)
	}
	var invite slacktest.Message
	slackWaitFor(t, e, func() bool {
		for _, m := range e.sl.Messages() {
			if m.Bot && m.Ephemeral && m.EphemeralUser == "U7" {
				invite = m
				return true
			}
		}
		return false
	}, func() string { return "no private invitation for U7" })
	text := invite.Text + invite.Markdown
	if !strings.Contains(text, "run /secondme link") || strings.Contains(text, "run /link") {
		t.Errorf("invitation = %q, want it to name /secondme link", text)
	}
	if n := len(e.sm.RequestsTo(secondmetest.PathChatStream)); n != 0 {
		t.Errorf("%d chat requests for an unlinked user", n)
	}
	e.sl.AssertNoPings(t)
	e.assertNoSecrets(t)
}
