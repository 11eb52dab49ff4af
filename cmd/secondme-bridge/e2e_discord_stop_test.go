package main

import (
	"strings"
	"testing"
	"time"

	"github.com/secondme-bridge/secondme-bridge/platforms/discord/discordtest"
	"github.com/secondme-bridge/secondme-bridge/secondme/secondmetest"
)

const dcTextStopped = "⏹ Stopped: ask again to continue."

// TestE2EDiscordStop: a streaming reply carries a Stop button; a click by
// someone else is refused privately and changes nothing; a click by the
// person who asked closes the SecondMe stream within a second, ends the
// message with the text so far and the notice, and removes the button;
// the next mention continues the same SecondMe session.
func TestE2EDiscordStop(t *testing.T) {
	t.Parallel()
	e := startE2E(t, e2eOptions{discord: true})
	u := discordtest.DefaultUser
	linkDiscordUser(t, e, u, "42", "Ada Lovelace")

	closed := make(chan time.Time, 1)
	e.sm.QueueStream(secondmetest.Script{
		Deltas: []string{"A long ", "story ", "begins"}, SessionID: "labs_sess_stop", Hang: true,
		Done: func(string) { closed <- time.Now() },
	})
	trigger, err := e.dc.Mention(discordtest.DefaultGuildID, discordtest.DefaultChannelID, u, "tell me everything")
	if err != nil {
		t.Fatal(err)
	}
	m := dcWaitMessage(t, e, "no streaming reply with a Stop button", func(m discordtest.Message) bool {
		return m.ReplyTo == trigger.ID && strings.Contains(m.Content, "begins") && len(m.Buttons) == 1 &&
			strings.HasPrefix(m.Buttons[0].CustomID, "secondme:stop:")
	})
	if m.Buttons[0].Label != "Stop" {
		t.Errorf("button label %q, want Stop", m.Buttons[0].Label)
	}
	custom := m.Buttons[0].CustomID

	bob := discordtest.User{ID: "300000000000000002", Username: "bob", GlobalName: "Bob"}
	in, err := e.dc.Click(m.ID, custom, bob)
	if err != nil {
		t.Fatal(err)
	}
	dcWaitFollowup(t, e, in.ID, "Only the person who asked can stop this reply.")
	select {
	case <-closed:
		t.Fatal("a stranger's click closed the stream")
	case <-time.After(300 * time.Millisecond):
	}

	asked := time.Now()
	if _, err := e.dc.Click(m.ID, custom, u); err != nil {
		t.Fatal(err)
	}
	select {
	case at := <-closed:
		lag := at.Sub(asked)
		t.Logf("SecondMe stream closed %v after the click", lag)
		if lag > time.Second {
			t.Errorf("SecondMe stream closed %v after the click, want within 1s", lag)
		}
	case <-time.After(e2eWait):
		t.Fatalf("the SecondMe stream was never closed\nlogs:\n%s", e.logs)
	}
	final := dcWaitMessage(t, e, "no stopped reply", func(x discordtest.Message) bool {
		return x.ID == m.ID && dcVisible(x.Content) == "A long story begins\n\n"+dcTextStopped && len(x.Buttons) == 0
	})
	if len(dcRepliesTo(e, trigger.ID)) != 1 {
		t.Errorf("replies:%s", dcDump(e))
	}
	_ = final

	// The session is kept.
	e.sm.QueueStream(secondmetest.Script{Deltas: []string{"continued"}})
	next, err := e.dc.Mention(discordtest.DefaultGuildID, discordtest.DefaultChannelID, u, "go on")
	if err != nil {
		t.Fatal(err)
	}
	dcWaitMessage(t, e, "no answer to the next mention", func(x discordtest.Message) bool {
		return x.ReplyTo == next.ID && x.Content == "continued" && len(x.Buttons) == 0
	})
	chats := dcChatCalls(e)
	if len(chats) != 2 || dcSessionOf(chats[1]) != "labs_sess_stop" {
		t.Errorf("the next message went to session %q, want labs_sess_stop", dcSessionOf(chats[len(chats)-1]))
	}
	e.assertNoSecrets(t)
}

// dcWaitFollowup waits for a private follow-up to the interaction with
// text.
func dcWaitFollowup(t *testing.T, e *e2e, interactionID, text string) {
	t.Helper()
	deadline := time.Now().Add(e2eWait)
	for time.Now().Before(deadline) {
		for _, f := range e.dc.Followups(interactionID) {
			if f.Ephemeral && f.Content == text {
				return
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("no private %q follow-up to %s: %+v\nlogs:\n%s", text, interactionID, e.dc.Followups(interactionID), e.logs)
}
