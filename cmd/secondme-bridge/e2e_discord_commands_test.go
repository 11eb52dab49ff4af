package main

import (
	"strings"
	"testing"
	"time"

	"github.com/secondme-bridge/secondme-bridge/platforms/discord/discordtest"
	"github.com/secondme-bridge/secondme-bridge/secondme/secondmetest"
)

// TestE2EDiscordSlashCommands: /help, /whoami, /new and /unlink answer
// privately (an ephemeral deferral, then @original); /ask streams into
// @original publicly; /new makes the next message start a new SecondMe
// session; after /unlink a mention gets the invitation to /link.
func TestE2EDiscordSlashCommands(t *testing.T) {
	t.Parallel()
	e := startE2E(t, e2eOptions{discord: true})
	u := discordtest.DefaultUser
	linkDiscordUser(t, e, u, "42", "Ada Lovelace")

	// private runs a private command and returns its answer.
	private := func(name string, done func(string) bool) discordtest.Message {
		t.Helper()
		in, cb := dcSlash(t, e, u, name, nil)
		if cb.Type != 5 || cb.Flags&64 == 0 {
			t.Errorf("/%s callback = type %d flags %d, want a private deferral (5, 64)", name, cb.Type, cb.Flags)
		}
		m := dcWaitMessage(t, e, "/"+name+": no answer", func(m discordtest.Message) bool {
			return m.InteractionID == in.ID && m.Original && done(m.Content)
		})
		if !m.Ephemeral {
			t.Errorf("/%s answer is not ephemeral: %+v", name, m)
		}
		return m
	}
	// mention mentions the bot and waits for the reply's final text.
	mention := func(text, want string) {
		t.Helper()
		trigger, err := e.dc.Mention(discordtest.DefaultGuildID, discordtest.DefaultChannelID, u, text)
		if err != nil {
			t.Fatal(err)
		}
		dcWaitMessage(t, e, text+": no reply", func(m discordtest.Message) bool {
			return m.ReplyTo == trigger.ID && m.Content == want
		})
		dcQuiet(t, e)
	}

	private("help", func(s string) bool { return strings.HasPrefix(s, dcTextHelpStart) && strings.Contains(s, "/link") })
	private("whoami", func(s string) bool {
		return s == "**Ada Lovelace**\nYour replies here come from the bot: this bridge is set to answer as the bot (reply_as: bot)."
	})
	if reqs := e.sm.RequestsTo(secondmetest.PathUserInfo); len(reqs) == 0 || reqs[len(reqs)-1].UserID != "42" {
		t.Errorf("/whoami did not read user/info as user 42: %+v", reqs)
	}

	// /ask: public, streamed into @original.
	deltas := []string{"Asked ", "through ", "a ", "slash ", "command, ", "answered ", "in ", "place."}
	want := strings.Join(deltas, "")
	e.sm.QueueStream(secondmetest.Script{Deltas: deltas, Delay: 60 * time.Millisecond, SessionID: "labs_sess_ask"})
	in, cb := dcSlash(t, e, u, "ask", map[string]string{"message": "what is up?"})
	if cb.Type != 5 || cb.Flags&64 != 0 {
		t.Errorf("/ask callback = type %d flags %d, want a public deferral (5, 0)", cb.Type, cb.Flags)
	}
	dcWaitMessage(t, e, "/ask: no final answer", func(m discordtest.Message) bool {
		return m.InteractionID == in.ID && m.Original && m.Content == want
	})
	dcQuiet(t, e)
	orig, _ := e.dc.OriginalResponse(in.ID)
	if orig.Content != want || orig.Ephemeral || len(orig.History) < 2 {
		t.Errorf("/ask @original = %q ephemeral=%v versions %q; want %q, public, streamed", orig.Content, orig.Ephemeral, orig.History, want)
	}
	if f := e.dc.Followups(in.ID); len(f) != 0 {
		t.Errorf("/ask posted follow-ups: %+v", f)
	}

	// A mention in the same channel continues the /ask conversation.
	mention("and now?", secondmetest.EchoReply("and now?"))
	// /new, then the next message starts a new session.
	private("new", func(s string) bool { return s == dcTextNewSession })
	mention("fresh start", secondmetest.EchoReply("fresh start"))

	chats := dcChatCalls(e)
	if len(chats) != 3 {
		t.Fatalf("%d chat requests, want 3: %+v", len(chats), chats)
	}
	for i, want := range []struct{ message, session string }{
		{"what is up?", ""}, {"and now?", "labs_sess_ask"}, {"fresh start", ""},
	} {
		if msg := chats[i].JSON["message"]; msg != want.message || dcSessionOf(chats[i]) != want.session {
			t.Errorf("chat request %d = (%v, session %q), want (%q, session %q)", i, msg, dcSessionOf(chats[i]), want.message, want.session)
		}
	}

	// The message context menu: "Save to SecondMe" saves a note privately,
	// "Ask my avatar" asks about the message publicly.
	target, err := e.dc.Say(discordtest.DefaultGuildID, discordtest.DefaultChannelID, u, "The meeting moved to Friday.")
	if err != nil {
		t.Fatal(err)
	}
	save, err := e.dc.MessageCommand(discordtest.DefaultGuildID, discordtest.DefaultChannelID, u, "Save to SecondMe", target)
	if err != nil {
		t.Fatal(err)
	}
	if cb, err := e.dc.WaitCallback(waitCtx(t), save.ID); err != nil || cb.Type != 5 || cb.Flags&64 == 0 {
		t.Errorf("Save to SecondMe callback = %+v, %v; want a private deferral", cb, err)
	}
	saved := dcWaitMessage(t, e, "Save to SecondMe: no answer", func(m discordtest.Message) bool {
		return m.InteractionID == save.ID && m.Content == "Saved as a SecondMe note."
	})
	if !saved.Ephemeral {
		t.Errorf("Save to SecondMe answer is public: %+v", saved)
	}
	if notes := e.sm.Notes("42"); len(notes) != 1 || notes[0].Content != target.Content {
		t.Errorf("notes = %+v, want the message", notes)
	}
	askAbout, err := e.dc.MessageCommand(discordtest.DefaultGuildID, discordtest.DefaultChannelID, u, "Ask my avatar", target)
	if err != nil {
		t.Fatal(err)
	}
	prompt := "What do you make of this message?\n\n> The meeting moved to Friday."
	if cb, err := e.dc.WaitCallback(waitCtx(t), askAbout.ID); err != nil || cb.Type != 5 || cb.Flags&64 != 0 {
		t.Errorf("Ask my avatar callback = %+v, %v; want a public deferral", cb, err)
	}
	dcWaitMessage(t, e, "Ask my avatar: no answer", func(m discordtest.Message) bool {
		return m.InteractionID == askAbout.ID && m.Original && m.Content == secondmetest.EchoReply(prompt)
	})
	dcQuiet(t, e)
	chats = dcChatCalls(e)
	if len(chats) != 4 || chats[3].JSON["message"] != prompt {
		t.Errorf("Ask my avatar: chat requests = %+v, want a fourth asking %q", chats, prompt)
	}

	// /unlink, then a mention gets the invitation and SecondMe hears nothing.
	private("unlink", func(s string) bool {
		return strings.HasPrefix(s, "Unlinked your SecondMe account Ada Lovelace")
	})
	trigger, err := e.dc.Mention(discordtest.DefaultGuildID, discordtest.DefaultChannelID, u, "still there?")
	if err != nil {
		t.Fatal(err)
	}
	inv := dcWaitMessage(t, e, "no /link invitation after /unlink", func(m discordtest.Message) bool {
		return m.Content == dcTextNotLinked
	})
	if inv.ChannelID != e.dc.DMChannel(u.ID) && inv.ReplyTo != trigger.ID {
		t.Errorf("invitation %+v is neither in the user's DMs nor a reply to the mention", inv)
	}
	dcQuiet(t, e)
	if n := len(dcChatCalls(e)); n != len(chats) {
		t.Errorf("%d chat requests after /unlink, want still %d", n, len(chats))
	}
	e.dc.AssertNoPings(t)
	e.assertNoSecrets(t)
}

// TestE2EDiscordLinkWhereNotAllowed: /link in a channel outside
// discord.allowed_channels gets a private "I can't be used here" (in the
// user's language) at once, instead of no answer, and starts no link.
func TestE2EDiscordLinkWhereNotAllowed(t *testing.T) {
	t.Parallel()
	const allowed = "200000000000000099"
	e := startE2E(t, e2eOptions{discord: true, discordExtra: "  allowed_channels: [\"" + allowed + "\"]\n"})
	for locale, want := range map[string]string{
		"en-US": "I can't be used here: ask me in a channel where I'm allowed, or send me a direct message.",
		"zh-CN": "我不能在这里使用：请在允许我回复的频道中找我，或者给我发私信。",
	} {
		in, err := e.dc.SendInteraction(discordtest.Interaction{
			GuildID: discordtest.DefaultGuildID, ChannelID: discordtest.DefaultChannelID, User: discordtest.DefaultUser, Locale: locale,
			Data: map[string]any{"id": "1", "name": "link", "type": 1, "options": []any{}},
		})
		if err != nil {
			t.Fatal(err)
		}
		cb, err := e.dc.WaitCallback(waitCtx(t), in.ID)
		if err != nil {
			t.Fatalf("%s: no answer to /link in a channel the bot may not use: %v\nlogs:\n%s", locale, err, e.logs)
		}
		if cb.Type != 4 || cb.Flags&64 == 0 || cb.Content != want {
			t.Errorf("%s: callback = type %d flags %d %q, want a private %q", locale, cb.Type, cb.Flags, cb.Content, want)
		}
	}
	dcQuiet(t, e)
	for _, m := range e.dc.Messages() {
		if !m.Original || !m.Ephemeral || m.Edits != 0 || len(m.Buttons) != 0 {
			t.Errorf("the bot posted more than the private answers:%s", dcDump(e))
			break
		}
	}
	if n := len(e.sm.Requests()); n != 0 {
		t.Errorf("SecondMe got %d requests, want none", n)
	}
}
