package bridge

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/secondme-bridge/secondme-bridge/bridge/linking/linkingtest"
	"github.com/secondme-bridge/secondme-bridge/platforms/platformtest"
	"github.com/secondme-bridge/secondme-bridge/secondme"
	"github.com/secondme-bridge/secondme-bridge/secondme/secondmetest"
	"github.com/secondme-bridge/secondme-bridge/store"
)

func TestCommandHelpAndUnknown(t *testing.T) {
	t.Parallel()
	h := newHarness(t, hopts{})
	ev := h.cmd("u1", "c1", "help", "")
	h.deliver(ev)
	c := h.waitEphemeral("• /link: connect your SecondMe account")
	if c.Target.Interaction != ev.Interaction || !c.Target.Ephemeral {
		t.Errorf("help target = %+v", c.Target)
	}
	h.deliver(h.cmd("u1", "c1", "dance", ""))
	h.waitEphemeral("Unknown command: try /help.")
}

func TestCommandLinkFlow(t *testing.T) {
	t.Parallel()
	mux := http.NewServeMux()
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	h := newHarness(t, hopts{publicURL: srv.URL})
	h.linker.Routes(mux)
	h.sm.AddUser(secondmetest.User{ID: "sm-ada", Name: "Ada"})
	h.sm.AddUser(secondmetest.User{ID: "sm-bob", Name: "Bob"})

	linkOnce := func(smUser string) {
		t.Helper()
		ev := h.cmd("u1", "c1", "link", "")
		before := len(h.p.CallsOf(platformtest.CallEphemeral))
		h.deliver(ev)
		calls, err := h.p.WaitForCalls(t.Context(), platformtest.CallEphemeral, before+1)
		if err != nil {
			t.Fatal(err)
		}
		c := calls[before]
		if len(c.Buttons) != 1 || c.Buttons[0].Label != "Link SecondMe" || !strings.HasPrefix(c.Buttons[0].URL, srv.URL+"/link/") {
			t.Fatalf("link message = %+v", c)
		}
		if c.Target.Interaction != ev.Interaction || !c.Target.Ephemeral {
			t.Errorf("the link was not sent privately: %+v", c.Target)
		}
		h.sm.SetAuthorizeDecision(secondmetest.AuthorizeDecision{UserID: smUser})
		end, err := linkingtest.Follow(t.Context(), c.Buttons[0].URL)
		if err != nil {
			t.Fatal(err)
		}
		if end.Status != http.StatusOK || end.URL.Path != "/oauth/callback" {
			t.Fatalf("link flow ended with %d at %s", end.Status, end.URL)
		}
	}
	linkOnce("sm-ada")
	c := h.waitEphemeral("Linked as Ada.")
	if c.Target.Interaction == "" || c.Target.User != "u1" {
		t.Errorf("the link notice went to %+v", c.Target)
	}
	linkOnce("sm-bob")
	h.waitEphemeral("Linked as Bob (replaced Ada).")

	// The new link is used at once.
	h.deliver(h.msg("u1", "c1", "", "who am I talking to?"))
	h.waitReplies(1)
	if uid := h.chatCalls()[0].UserID; uid != "sm-bob" {
		t.Errorf("chat went to SecondMe user %q, want sm-bob", uid)
	}

	// Link creation is rate-limited per user.
	for range 4 {
		h.deliver(h.cmd("u1", "c1", "link", ""))
	}
	h.waitEphemeral("You've asked for too many links")
}

func TestCommandLinkPrivateOnly(t *testing.T) {
	t.Parallel()
	h := newHarness(t, hopts{platform: platformtest.Options{NoEphemeral: true}})
	ev := h.cmd("u1", "c1", "link", "")
	ev.Interaction = ""
	h.deliver(ev)
	h.waitText("I can only show that privately: try it in a direct message.")
	for _, c := range h.p.Calls() {
		if len(c.Buttons) > 0 {
			t.Errorf("a link was posted publicly: %+v", c)
		}
	}
}

func TestCommandUnlinkAndNew(t *testing.T) {
	t.Parallel()
	h := newHarness(t, hopts{})
	link := h.link("u1", "Ada")
	h.deliver(h.msg("u1", "c1", "", "remember me"))
	h.waitReplies(1)
	h.settle()
	h.deliver(h.cmd("u1", "c1", "unlink", ""))
	h.waitEphemeral("Unlinked your SecondMe account Ada; your conversations with it here are forgotten.")
	if _, err := h.st.Links().GetLink(t.Context(), link.Key); err == nil {
		t.Error("the link is still stored")
	}
	h.deliver(h.cmd("u1", "c1", "unlink", ""))
	h.waitEphemeral("No SecondMe account is linked to you.")
	h.deliver(h.msg("u1", "c1", "", "still there?"))
	h.waitEphemeral("You haven't linked your SecondMe account yet: run /link to connect it.")
	h.deliver(h.cmd("u2", "c1", "new", ""))
	h.waitEphemeral("Started a new conversation")
}

func TestCommandAskAnsweredInPlace(t *testing.T) {
	t.Parallel()
	h := newHarness(t, hopts{})
	h.link("u1", "Ada")
	ev := h.cmd("u1", "c1", "ask", "what is new?")
	h.deliver(ev)
	h.waitReplies(1)
	msgs := h.p.Messages()
	if len(msgs) != 1 || msgs[0].Text != secondmetest.EchoReply("what is new?") || msgs[0].Target.Interaction != ev.Interaction {
		t.Fatalf("the ask was not answered through its interaction\n%s", h.p.Dump())
	}
	h.deliver(h.cmd("u1", "c1", "ask", "  "))
	h.waitEphemeral("Usage: /ask <your question>")
}

func TestCommandAskAbout(t *testing.T) {
	t.Parallel()
	h := newHarness(t, hopts{})
	h.link("u1", "Ada")
	h.deliver(h.cmd("u1", "c1", "askabout", "The launch moves to Friday.\nPlease confirm."))
	h.waitReplies(1)
	if got, want := h.chatCalls()[0].JSON["message"], "What do you make of this message?\n\n> The launch moves to Friday.\n> Please confirm."; got != want {
		t.Errorf("asked %q, want %q", got, want)
	}
	h.deliver(h.cmd("u1", "c1", "askabout", ""))
	h.waitEphemeral("That message has no text to ask about.")
}

func TestCommandWhoami(t *testing.T) {
	t.Parallel()
	shades := []secondme.Shade{
		{Name: "Secret hobby", ConfidenceLevel: "VERY_HIGH"},
		{Name: "Climbing", NamePublic: "Outdoor sports", ConfidenceLevel: "HIGH", ConfidenceLevelPublic: "HIGH", HasPublicContent: true},
		{Name: "Cooking", NamePublic: "Cooking", ConfidenceLevel: "LOW", ConfidenceLevelPublic: "LOW", HasPublicContent: true},
	}
	setup := func(t *testing.T, opts platformtest.Options) *harness {
		h := newHarness(t, hopts{platform: opts})
		h.sm.AddUser(secondmetest.User{ID: "sm-ada", Name: "Ada", Bio: "Mathematician.", Shades: shades})
		h.linkAs("u1", "sm-ada", "Ada")
		return h
	}
	t.Run("private", func(t *testing.T) {
		t.Parallel()
		h := setup(t, platformtest.Options{})
		h.deliver(h.cmd("u1", "c1", "whoami", ""))
		c := h.waitEphemeral("**Ada**")
		if want := "**Ada**\nMathematician.\nInterests: Secret hobby, Climbing, Cooking\nYour replies here come from your avatar, as “Ada” with your SecondMe picture."; c.Text != want {
			t.Errorf("whoami = %q, want %q", c.Text, want)
		}
	})
	t.Run("public", func(t *testing.T) {
		t.Parallel()
		h := setup(t, platformtest.Options{NoEphemeral: true})
		ev := h.cmd("u1", "c1", "whoami", "")
		ev.Interaction = ""
		h.deliver(ev)
		got := h.waitText("**Ada**")
		if want := "**Ada**\nMathematician.\nInterests: Outdoor sports, Cooking\nYour replies here come from your avatar, as “Ada” with your SecondMe picture.\n(public profile only; use this command in a direct message to see everything)"; got != want {
			t.Errorf("whoami = %q, want %q", got, want)
		}
	})
	t.Run("not linked", func(t *testing.T) {
		t.Parallel()
		h := setup(t, platformtest.Options{})
		h.deliver(h.cmd("u2", "c1", "whoami", ""))
		h.waitEphemeral("run /link to connect it")
	})
}

func TestCommandMemory(t *testing.T) {
	t.Parallel()
	h := newHarness(t, hopts{})
	var mems []secondme.KeyMemory
	for i := range 7 {
		mems = append(mems, secondme.KeyMemory{FactObject: "Coffee", FactContent: "Coffee fact number " + itoa(int64(i))})
	}
	mems = append(mems, secondme.KeyMemory{FactObject: "Tea", FactContent: "Green tea"})
	h.sm.AddUser(secondmetest.User{ID: "sm-ada", Name: "Ada", KeyMemories: mems})
	h.linkAs("u1", "sm-ada", "Ada")
	h.deliver(h.cmd("u1", "c1", "memory", "coffee"))
	c := h.waitEphemeral("Key memories matching")
	if !strings.HasPrefix(c.Text, "Key memories matching “coffee”:\n• **Coffee**: Coffee fact number 0\n") ||
		strings.Count(c.Text, "\n• ") != 5 || !strings.HasSuffix(c.Text, "\nPage 1 of 2 (7 results).") {
		t.Errorf("memory = %q", c.Text)
	}
	h.deliver(h.cmd("u1", "c1", "memory", "espresso"))
	h.waitEphemeral("No key memories match “espresso”.")
	h.deliver(h.cmd("u1", "c1", "memory", ""))
	h.waitEphemeral("Usage: /memory <keyword>")
}

func TestCommandNoteAndSave(t *testing.T) {
	t.Parallel()
	h := newHarness(t, hopts{})
	h.link("u1", "Ada")
	h.deliver(h.cmd("u1", "c1", "note", "buy milk"))
	h.waitEphemeral("Saved as a SecondMe note.")
	if notes := h.sm.Notes("sm-u1"); len(notes) != 1 || notes[0].Content != "buy milk" {
		t.Errorf("notes = %+v", notes)
	}
	h.sm.QueueResponse(secondmetest.PathNoteAdd, secondmetest.ErrorResponse(404, "resource.fetch.not_found", "gone"))
	h.deliver(h.cmd("u1", "c1", "save", "The meeting is at 3pm."))
	h.waitEphemeral("SecondMe notes are unavailable, so I saved it to your key memory instead.")
	mems := h.sm.KeyMemories("sm-u1")
	if len(mems) != 1 || mems[0].FactContent != "The meeting is at 3pm." {
		t.Errorf("key memories = %+v", mems)
	}
	h.deliver(h.cmd("u1", "c1", "note", ""))
	h.waitEphemeral("Usage: /note <text>")
	h.deliver(h.cmd("u1", "c1", "save", ""))
	h.waitEphemeral("That message has no text to save.")
	h.deliver(h.cmd("u1", "c1", "note", strings.Repeat("x", secondme.MaxNoteContentRunes+1)))
	h.waitEphemeral("That's too long to save")
}

func TestCommandSessions(t *testing.T) {
	t.Parallel()
	h := newHarness(t, hopts{})
	h.link("u1", "Ada")
	h.deliver(h.cmd("u1", "c1", "sessions", ""))
	h.waitEphemeral("No conversations through this bridge yet.")
	h.sm.AddSession("sm-u1", secondme.Session{SessionID: "labs_sess_other", AppID: "another-app"})
	h.deliver(h.msg("u1", "c1", "", "plan my week"))
	h.waitReplies(1)
	h.deliver(h.cmd("u1", "c1", "sessions", ""))
	c := h.waitEphemeral("Your recent conversations through this bridge:")
	lines := strings.Split(c.Text, "\n")
	if len(lines) != 2 || !strings.Contains(lines[1], "(2 messages)") || !strings.Contains(lines[1], " UTC — ") {
		t.Errorf("sessions = %q", c.Text)
	}
	for _, r := range h.sm.RequestsTo(secondmetest.PathSessionList) {
		if r.Query.Get("appId") != testAppID {
			t.Errorf("session/list without the app id: %v", r.Query)
		}
	}
}

func TestChineseTexts(t *testing.T) {
	t.Parallel()
	h := newHarness(t, hopts{platform: edits()})
	ev := h.msg("u9", "c1", "", "你好")
	ev.User.Locale = "zh-CN"
	h.deliver(ev)
	h.waitEphemeral("你还没有绑定 SecondMe 账号：运行 /link 即可绑定。")
	help := h.cmd("u9", "c1", "help", "")
	help.User.Locale = "zh-Hans-SG"
	h.deliver(help)
	h.waitEphemeral("• /link：绑定你的 SecondMe 账号")

	h.link("u1", "Ada")
	h.sm.QueueStream(secondmetest.Script{Deltas: []string{"一半", "的回答"}, Drop: true})
	ev = h.msg("u1", "c1", "", "你好")
	ev.User.Locale = "zh-TW"
	h.deliver(ev)
	h.waitReplies(1)
	if got := h.p.Messages()[0].Text; got != "一半的回答\n\n⚠️ 回复中断——请再问一次以继续" {
		t.Errorf("zh interrupted reply = %q", got)
	}
}

func TestLinkCompletedReplaced(t *testing.T) {
	t.Parallel()
	h := newHarness(t, hopts{})
	p := store.PendingLink{User: store.UserKey{Platform: testPlatform, User: "u1"}, Locale: "zh", Channel: "c1", Interaction: "it-9"}
	h.b.LinkCompleted(t.Context(), p, store.Link{Name: "Ada"}, &store.Link{Name: "Bob"})
	c := h.waitEphemeral("已绑定为 Ada（替换了 Bob）。")
	if c.Target.Interaction != "it-9" || !c.Target.Ephemeral || c.Target.User != "u1" {
		t.Errorf("target = %+v", c.Target)
	}
}
