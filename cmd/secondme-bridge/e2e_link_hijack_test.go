package main

import (
	"net/http"
	"strings"
	"testing"

	"github.com/secondme-bridge/secondme-bridge/bridge/linking/linkingtest"
	"github.com/secondme-bridge/secondme-bridge/platforms/discord/discordtest"
	"github.com/secondme-bridge/secondme-bridge/platforms/slack/slacktest"
	"github.com/secondme-bridge/secondme-bridge/secondme/secondmetest"
)

// TestE2ELinkHijackRefused is the attack of issue 11 through the real
// binary and the fakes: the attacker runs /link, opens the link and clicks
// Continue in their own browser without following the redirect, and sends
// the SecondMe authorize URL to a victim; the victim approves in their own
// browser. The callback lands in the victim's browser, which lacks the
// attacker's cookie: refused before the code is exchanged. The attacker's
// chat account is not linked to the victim's SecondMe account (a mention
// gets the /link invitation, SecondMe hears no chat), and replaying the
// victim's callback in the attacker's browser finds the state spent.
func TestE2ELinkHijackRefused(t *testing.T) {
	t.Parallel()
	e := startE2E(t, e2eOptions{discord: true})
	attacker := discordtest.User{ID: "300000000000000666", Username: "mallory", GlobalName: "Mallory"}
	e.sm.AddUser(secondmetest.User{ID: "victim-7", Name: "Victoria"})
	ctx := waitCtx(t)

	in, err := e.dc.SlashCommand(discordtest.DefaultGuildID, discordtest.DefaultChannelID, attacker, "link", nil)
	if err != nil {
		t.Fatalf("/link: %v", err)
	}
	orig := dcWaitMessage(t, e, "no /link button", func(m discordtest.Message) bool {
		return m.InteractionID == in.ID && m.Original && len(m.Buttons) > 0
	})
	attackerBrowser := linkingtest.NewBrowser()
	confirm, err := attackerBrowser.Get(ctx, orig.Buttons[0].URL)
	if err != nil || confirm.Status != http.StatusOK || !strings.Contains(confirm.Body, "Discord user <strong>Mallory</strong>") {
		t.Fatalf("confirmation page = %d %v:\n%s", confirm.Status, err, confirm.Body)
	}
	authorizeURL, err := attackerBrowser.AuthorizeURL(ctx, confirm)
	if err != nil {
		t.Fatalf("continue: %v", err)
	}
	if !strings.HasPrefix(authorizeURL, e.sm.AuthorizeURL()) {
		t.Fatalf("continue redirected to %q, want SecondMe's authorize page", authorizeURL)
	}

	// The victim approves the forwarded URL in their own browser.
	e.sm.SetAuthorizeDecision(secondmetest.AuthorizeDecision{UserID: "victim-7"})
	victimPage, err := linkingtest.NewBrowser().Get(ctx, authorizeURL)
	if err != nil {
		t.Fatal(err)
	}
	if victimPage.Status != http.StatusForbidden || victimPage.URL.Path != "/oauth/callback" ||
		!strings.Contains(victimPage.Body, "Finish in the browser where you opened the link") ||
		!strings.Contains(victimPage.Body, "Run /link again") || strings.Contains(victimPage.Body, "/secondme link") {
		t.Fatalf("victim's callback page = %d at %s:\n%s", victimPage.Status, victimPage.URL, victimPage.Body)
	}
	if n := e.sm.ExchangeCount(); n != 0 {
		t.Errorf("the victim's code was exchanged %d times", n)
	}

	// The attacker replays the victim's callback in the browser that holds
	// the cookie: the state is spent.
	replay, err := attackerBrowser.Get(ctx, victimPage.URL.String())
	if err != nil {
		t.Fatal(err)
	}
	if replay.Status != http.StatusGone || e.sm.ExchangeCount() != 0 {
		t.Errorf("replayed callback = %d (exchanges %d), want 410 and none", replay.Status, e.sm.ExchangeCount())
	}

	// The attacker is not linked: a mention gets the invitation, and
	// SecondMe hears no chat in the victim's name.
	if _, err := e.dc.Mention(discordtest.DefaultGuildID, discordtest.DefaultChannelID, attacker, "search my memories"); err != nil {
		t.Fatal(err)
	}
	dm := e.dc.DMChannel(attacker.ID)
	dcWaitMessage(t, e, "no /link invitation for the attacker", func(m discordtest.Message) bool {
		return m.Content == dcTextNotLinked && m.ChannelID == dm
	})
	dcQuiet(t, e)
	if n := len(e.sm.RequestsTo(secondmetest.PathChatStream)); n != 0 {
		t.Errorf("SecondMe got %d chat requests after a refused link", n)
	}
	for _, m := range e.dc.Messages() {
		if strings.Contains(m.Content, "Linked as") {
			t.Errorf("the attacker was told %q", m.Content)
		}
	}
	if !strings.Contains(e.logs.String(), "not the browser that continued the link") {
		t.Error("the refused callback is not logged")
	}
	e.assertNoSecrets(t)
}

// TestE2ESlackLinkProblemsArePrivate: on Slack a user who is not linked and
// mentions the bot in a channel is told privately (an ephemeral message
// naming Slack's own command), never in the channel.
func TestE2ESlackLinkProblemsArePrivate(t *testing.T) {
	t.Parallel()
	e := startE2E(t, e2eOptions{slack: true})
	ctx := slackCtx(t)
	if _, err := e.sl.Mention(ctx, "U9", slackChannel, "", "who are you?"); err != nil {
		t.Fatalf("mention: %v", err)
	}
	const want = "You haven't linked your SecondMe account yet: run /secondme link to connect it."
	slackWaitFor(t, e, func() bool {
		for _, m := range e.sl.Messages() {
			if m.Bot && m.Ephemeral && m.EphemeralUser == "U9" && strings.Contains(m.Display(), want) {
				return true
			}
		}
		return false
	}, func() string { return "no private invitation to link for U9" })
	for _, m := range e.sl.Messages() {
		if m.Bot && !m.Ephemeral {
			t.Errorf("a public bot message %q in %s: link problems are told privately", m.Display(), m.Channel)
		}
	}
	if n := len(e.sm.RequestsTo(secondmetest.PathChatStream)); n != 0 {
		t.Errorf("SecondMe got %d chat requests for a user who is not linked", n)
	}
}

// TestE2ESlackLinkHijackRefused is the same attack on Slack: the
// attacker's "/secondme link", Continue in the attacker's browser, the
// victim's approval in theirs. Nothing is linked.
func TestE2ESlackLinkHijackRefused(t *testing.T) {
	t.Parallel()
	e := startE2E(t, e2eOptions{slack: true})
	e.sm.AddUser(secondmetest.User{ID: "victim-8", Name: "Victor"})
	ctx := slackCtx(t)
	ack, err := e.sl.SendSlashCommand(ctx, slacktest.SlashCommand{User: "U66", Channel: slackChannel, Text: "link"})
	if err != nil {
		t.Fatalf("/secondme link: %v", err)
	}
	prompt := waitResponsePost(t, e, ack.ResponseURL, func(p slacktest.ResponsePost) bool { return len(buttonURLs(p.Blocks)) > 0 })
	attackerBrowser := linkingtest.NewBrowser()
	confirm, err := attackerBrowser.Get(ctx, buttonURLs(prompt.Blocks)[0])
	if err != nil || confirm.Status != http.StatusOK {
		t.Fatalf("confirmation page = %d %v", confirm.Status, err)
	}
	authorizeURL, err := attackerBrowser.AuthorizeURL(ctx, confirm)
	if err != nil {
		t.Fatal(err)
	}
	e.sm.SetAuthorizeDecision(secondmetest.AuthorizeDecision{UserID: "victim-8"})
	victimPage, err := linkingtest.NewBrowser().Get(ctx, authorizeURL)
	if err != nil {
		t.Fatal(err)
	}
	if victimPage.Status != http.StatusForbidden || !strings.Contains(victimPage.Body, "Run /secondme link again") ||
		strings.Contains(victimPage.Body, "Discord") {
		t.Fatalf("victim's callback page = %d:\n%s", victimPage.Status, victimPage.Body)
	}
	if n := e.sm.ExchangeCount(); n != 0 {
		t.Errorf("the victim's code was exchanged %d times", n)
	}
	// The attacker is not linked: a mention gets the private invitation.
	if _, err := e.sl.Mention(ctx, "U66", slackChannel, "", "search my memories"); err != nil {
		t.Fatal(err)
	}
	const want = "You haven't linked your SecondMe account yet: run /secondme link to connect it."
	slackWaitFor(t, e, func() bool {
		for _, m := range e.sl.Messages() {
			if m.Ephemeral && m.EphemeralUser == "U66" && strings.Contains(m.Display(), want) {
				return true
			}
		}
		return false
	}, func() string { return "no invitation to link for the attacker" })
	if n := len(e.sm.RequestsTo(secondmetest.PathChatStream)); n != 0 {
		t.Errorf("SecondMe got %d chat requests after a refused link", n)
	}
	e.assertNoSecrets(t)
}
