package main

import (
	"context"
	"encoding/json"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/secondme-bridge/secondme-bridge/platforms/slack/slacktest"
	"github.com/secondme-bridge/secondme-bridge/secondme/secondmetest"
)

// Shared pieces of the Slack end-to-end tests (e2e_slack_*_test.go): the
// real serve command against slacktest and secondmetest.

// slackWait bounds every wait of the Slack end-to-end tests.
const slackWait = 20 * time.Second

// slackChannel is the public channel the tests talk in.
const slackChannel = "C1"

// zwsp is the zero-width space the bridge puts into mentions to make them
// inert.
const zwsp = "\u200b"

func slackCtx(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), slackWait)
	t.Cleanup(cancel)
	return ctx
}

// slackWaitFor polls cond every 10ms until it holds, failing t with what()
// after slackWait.
func slackWaitFor(t *testing.T, e *e2e, cond func() bool, what func() string) {
	t.Helper()
	deadline := time.Now().Add(slackWait)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s: %s\nlogs:\n%s", slackWait, what(), e.logs)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// slackSettled reports whether the bot has replied in the thread and every
// native stream there is stopped.
func slackSettled(msgs []slacktest.Message) bool {
	if len(msgs) == 0 {
		return false
	}
	for _, m := range msgs {
		if m.Stream && !m.Stopped {
			return false
		}
	}
	return true
}

// waitSlackReply waits until the bot's reply in channel/thread (thread ""
// for top-level messages) is finished and, with the zero-width spaces of
// neutralized mentions removed, is exactly want; it returns the reply's
// messages.
func waitSlackReply(t *testing.T, e *e2e, channel, thread, want string) []slacktest.Message {
	t.Helper()
	var msgs []slacktest.Message
	slackWaitFor(t, e, func() bool {
		msgs = e.sl.BotReplies(channel, thread)
		return slackSettled(msgs) && strings.ReplaceAll(e.sl.ReplyText(channel, thread), zwsp, "") == want
	}, func() string {
		return "reply in " + channel + "/" + thread + " is " + strconv.Quote(e.sl.ReplyText(channel, thread)) + ", want " + strconv.Quote(want)
	})
	return msgs
}

// waitSlackMessage waits until one of the bot's messages in the thread
// shows want and every stream there is stopped, checks that the thread
// holds n bot messages, and returns them.
func waitSlackMessage(t *testing.T, e *e2e, channel, thread string, n int, want string) []slacktest.Message {
	t.Helper()
	var msgs []slacktest.Message
	slackWaitFor(t, e, func() bool {
		msgs = e.sl.BotReplies(channel, thread)
		return slackSettled(msgs) && slices.ContainsFunc(msgs, func(m slacktest.Message) bool {
			return strings.ReplaceAll(m.Display(), zwsp, "") == want
		})
	}, func() string {
		return "no bot message " + strconv.Quote(want) + " in " + channel + "/" + thread + ": " + strings.Join(displays(msgs), " | ")
	})
	if len(msgs) != n {
		t.Errorf("thread %s/%s holds %d bot messages, want %d: %q", channel, thread, len(msgs), n, displays(msgs))
	}
	return msgs
}

func displays(msgs []slacktest.Message) []string {
	out := make([]string, 0, len(msgs))
	for _, m := range msgs {
		out = append(out, m.Display())
	}
	return out
}

// buttonURLs returns the URLs of the link buttons in Slack blocks.
func buttonURLs(blocks json.RawMessage) []string {
	var bs []struct {
		Type     string `json:"type"`
		Elements []struct {
			Type string `json:"type"`
			URL  string `json:"url"`
		} `json:"elements"`
	}
	if json.Unmarshal(blocks, &bs) != nil {
		return nil
	}
	var out []string
	for _, b := range bs {
		for _, el := range b.Elements {
			if b.Type == "actions" && el.Type == "button" && el.URL != "" {
				out = append(out, el.URL)
			}
		}
	}
	return out
}

// waitResponsePost waits for a post to responseURL that match accepts.
func waitResponsePost(t *testing.T, e *e2e, responseURL string, match func(slacktest.ResponsePost) bool) slacktest.ResponsePost {
	t.Helper()
	var found slacktest.ResponsePost
	slackWaitFor(t, e, func() bool {
		for _, p := range e.sl.ResponsePosts(responseURL) {
			if match(p) {
				found = p
				return true
			}
		}
		return false
	}, func() string {
		return "no matching response_url post; posts: " + strconv.Quote(strings.Join(responseTexts(e.sl.ResponsePosts(responseURL)), " | "))
	})
	return found
}

func responseTexts(posts []slacktest.ResponsePost) []string {
	out := make([]string, 0, len(posts))
	for _, p := range posts {
		out = append(out, p.Display())
	}
	return out
}

// linkSlackUser runs "/secondme link" as user, follows the private link's
// URL through the fake authorize page, and checks the browser page and the
// private "Linked as" message in Slack. It returns the link URL and the
// command's response_url.
func linkSlackUser(t *testing.T, e *e2e, user, smUserID, smName string) (linkURL, responseURL string) {
	t.Helper()
	return linkSlackUserAs(t, e, user, secondmetest.User{ID: smUserID, Name: smName})
}

// linkSlackUserAs is linkSlackUser to the SecondMe account sm (its name
// and avatar picture).
func linkSlackUserAs(t *testing.T, e *e2e, user string, sm secondmetest.User) (linkURL, responseURL string) {
	t.Helper()
	smName := sm.Name
	e.sm.AddUser(sm)
	e.sm.SetAuthorizeDecision(secondmetest.AuthorizeDecision{UserID: sm.ID})
	ack, err := e.sl.SendSlashCommand(slackCtx(t), slacktest.SlashCommand{User: user, Channel: slackChannel, Text: "link"})
	if err != nil {
		t.Fatalf("/secondme link: %v\nlogs:\n%s", err, e.logs)
	}
	if ack.Latency > 3*time.Second || (ack.HTTPStatus != 0 && ack.HTTPStatus != 200) {
		t.Errorf("/secondme link acknowledged after %s with HTTP status %d", ack.Latency, ack.HTTPStatus)
	}
	prompt := waitResponsePost(t, e, ack.ResponseURL, func(p slacktest.ResponsePost) bool {
		return len(buttonURLs(p.Blocks)) > 0
	})
	if prompt.ResponseType != "ephemeral" || prompt.ReplaceOriginal {
		t.Errorf("link prompt response_type %q replace_original %v, want a new ephemeral message", prompt.ResponseType, prompt.ReplaceOriginal)
	}
	linkURL = buttonURLs(prompt.Blocks)[0]
	// The one-time link is a credential: it must not be anywhere public.
	for _, m := range e.sl.Messages() {
		if m.Bot && !m.Ephemeral && (strings.Contains(m.Text, linkURL) || strings.Contains(string(m.Blocks), linkURL)) {
			t.Errorf("link URL posted publicly in %s/%s", m.Channel, m.TS)
		}
	}
	code, page := e.followLink(t, linkURL, "Slack user <strong>")
	if code != 200 || !strings.Contains(page, "is now linked to the SecondMe account <strong>"+smName) ||
		!strings.Contains(page, "Go back to Slack") || strings.Contains(page, "Discord") {
		t.Fatalf("link page = %d:\n%s\nlogs:\n%s", code, page, e.logs)
	}
	linked := waitResponsePost(t, e, ack.ResponseURL, func(p slacktest.ResponsePost) bool {
		return strings.Contains(p.Display(), "Linked as "+smName)
	})
	if linked.ResponseType != "ephemeral" {
		t.Errorf("\"Linked as\" message has response_type %q, want ephemeral", linked.ResponseType)
	}
	return linkURL, ack.ResponseURL
}

// chatMessages returns the message and sessionId of every chat/stream
// request SecondMe received, in order.
func chatMessages(e *e2e) (messages, sessions []string) {
	for _, r := range e.sm.RequestsTo(secondmetest.PathChatStream) {
		m, _ := r.JSON["message"].(string)
		s, _ := r.JSON["sessionId"].(string)
		messages, sessions = append(messages, m), append(sessions, s)
	}
	return messages, sessions
}

// TestE2ESlackLinkThenMention is the whole path on Slack:
// "/secondme link" → the private link → the fake authorize page → "Linked
// as …" privately → a mention → the reply streams in the mention's thread →
// its final text equals the upstream text exactly.
func TestE2ESlackLinkThenMention(t *testing.T) {
	t.Parallel()
	e := startE2E(t, e2eOptions{slack: true})
	linkURL, responseURL := linkSlackUser(t, e, "U1", "42", "Ada Lovelace")

	deltas := []string{"Hello ", "from ", "your ", "avatar. ", "@everyone ", "and ", "<!here> ", "<@U2> ", "ping ", "nobody."}
	e.sm.QueueStream(secondmetest.Script{Deltas: deltas, Delay: 60 * time.Millisecond})
	want := strings.Join(deltas, "")
	p, err := e.sl.Mention(slackCtx(t), "U1", slackChannel, "", "hi there")
	if err != nil {
		t.Fatalf("mention: %v", err)
	}
	msgs := waitSlackReply(t, e, slackChannel, p.TS, want)
	if len(msgs) != 1 {
		t.Fatalf("got %d reply messages, want 1", len(msgs))
	}
	m := msgs[0]
	if !m.Stream || m.RecipientUserID != "U1" || m.RecipientTeamID != e.sl.TeamID() {
		t.Errorf("reply: stream %v to %q/%q, want a native stream to U1/%s", m.Stream, m.RecipientUserID, m.RecipientTeamID, e.sl.TeamID())
	}
	if len(m.Appends) == 0 {
		t.Errorf("reply was not streamed: it arrived in one piece")
	}
	if top := e.sl.BotReplies(slackChannel, ""); len(top) != 0 {
		t.Errorf("bot posted %d top-level messages, want the reply in the thread only", len(top))
	}
	msgsIn, _ := chatMessages(e)
	chats := e.sm.RequestsTo(secondmetest.PathChatStream)
	if len(chats) != 1 || msgsIn[0] != "hi there" || chats[0].JSON["appId"] != "secondme-bridge" || chats[0].UserID != "42" {
		t.Errorf("chat requests = %+v", chats)
	}
	// The one-time link id and the response_url are credentials too.
	logs := e.logs.String()
	if id := linkURL[strings.LastIndex(linkURL, "/")+1:]; strings.Contains(logs, id) {
		t.Errorf("logs contain the one-time link id %q", id)
	}
	if strings.Contains(logs, responseURL) {
		t.Errorf("logs contain the response_url")
	}
	e.sl.AssertNoPings(t)
	e.assertNoSecrets(t)
}

// TestE2ESlackDM: every DM is answered, in the DM message's thread, and one
// user's DMs share one SecondMe session.
func TestE2ESlackDM(t *testing.T) {
	t.Parallel()
	e := startE2E(t, e2eOptions{slack: true})
	linkSlackUser(t, e, "U1", "42", "Ada")
	dm := e.sl.DMChannel("U1")

	first := []string{"Hi ", "in ", "private, ", "**Ada**."}
	e.sm.QueueStream(secondmetest.Script{Deltas: first, SessionID: "labs_sess_dm", Delay: 40 * time.Millisecond})
	d1, err := e.sl.DM(slackCtx(t), "U1", "", "first question")
	if err != nil {
		t.Fatalf("DM: %v", err)
	}
	msgs := waitSlackReply(t, e, dm, d1.TS, strings.Join(first, ""))
	if len(msgs) != 1 || msgs[0].RecipientUserID != "" {
		t.Errorf("DM reply messages = %+v, want one (native stream without recipient)", msgs)
	}

	second := []string{"Still ", "the ", "same ", "conversation."}
	e.sm.QueueStream(secondmetest.Script{Deltas: second, Delay: 40 * time.Millisecond})
	d2, err := e.sl.DM(slackCtx(t), "U1", "", "second question")
	if err != nil {
		t.Fatalf("DM: %v", err)
	}
	waitSlackReply(t, e, dm, d2.TS, strings.Join(second, ""))

	messages, sessions := chatMessages(e)
	if len(messages) != 2 || messages[0] != "first question" || messages[1] != "second question" {
		t.Fatalf("chat messages = %q", messages)
	}
	if sessions[0] != "" || sessions[1] != "labs_sess_dm" {
		t.Errorf("chat sessionIds = %q, want the second DM to continue the first DM's session %q", sessions, "labs_sess_dm")
	}
	e.sl.AssertNoPings(t)
	e.assertNoSecrets(t)
}

// TestE2ESlackAsk: "/secondme ask <text>" is acknowledged at once and
// answered in the channel with the exact upstream text.
func TestE2ESlackAsk(t *testing.T) {
	t.Parallel()
	e := startE2E(t, e2eOptions{slack: true})
	linkSlackUser(t, e, "U1", "42", "Ada")

	deltas := []string{"The ", "answer ", "is ", "`42` ", "— ", "obviously."}
	e.sm.QueueStream(secondmetest.Script{Deltas: deltas, Delay: 50 * time.Millisecond})
	ack, err := e.sl.SendSlashCommand(slackCtx(t), slacktest.SlashCommand{User: "U1", Channel: slackChannel, Text: "ask what is the answer?"})
	if err != nil {
		t.Fatalf("/secondme ask: %v", err)
	}
	if ack.Latency > 3*time.Second {
		t.Errorf("/secondme ask acknowledged after %s", ack.Latency)
	}
	msgs := waitSlackReply(t, e, slackChannel, "", strings.Join(deltas, ""))
	if len(msgs) != 1 || len(msgs[0].Edits) == 0 {
		t.Errorf("ask reply = %+v, want one message streamed by edits", msgs)
	}
	if messages, _ := chatMessages(e); len(messages) != 1 || messages[0] != "what is the answer?" {
		t.Errorf("chat messages = %q", messages)
	}
	e.sl.AssertNoPings(t)
	e.assertNoSecrets(t)
}
