package main

import (
	"os"
	"strings"
	"testing"
	"time"

	"github.com/secondme-bridge/secondme-bridge/platforms/slack"
	"github.com/secondme-bridge/secondme-bridge/platforms/slack/slacktest"
	"github.com/secondme-bridge/secondme-bridge/secondme/secondmetest"
	"github.com/secondme-bridge/secondme-bridge/store/storetest"
)

// hangingStream queues a stream that sends deltas and then waits for the
// client to leave; the channel receives when the fake saw it leave.
func hangingStream(e *e2e, deltas ...string) <-chan time.Time {
	closed := make(chan time.Time, 1)
	e.sm.QueueStream(secondmetest.Script{Deltas: deltas, Hang: true, Done: func(string) { closed <- time.Now() }})
	return closed
}

func waitUpstreamClosed(t *testing.T, e *e2e, closed <-chan time.Time, asked time.Time) {
	t.Helper()
	select {
	case at := <-closed:
		lag := at.Sub(asked)
		t.Logf("SecondMe stream closed %v after the stop", lag)
		if lag > time.Second {
			t.Errorf("SecondMe stream closed %v after the stop, want within 1s", lag)
		}
	case <-time.After(slackWait):
		t.Fatalf("the SecondMe stream was never closed\nlogs:\n%s", e.logs)
	}
}

// TestE2ESlackNativeStop: a DM starts an agent session, titled from the
// message and processing while the avatar streams natively; the agent
// view's native stop (agent_session_stopped) closes the SecondMe stream
// within a second, the halted stream message keeps its text plus the
// notice, and the session is active again.
func TestE2ESlackNativeStop(t *testing.T) {
	t.Parallel()
	e := startE2E(t, e2eOptions{slack: true})
	linkSlackUser(t, e, "U1", "42", "Ada")
	dm := e.sl.DMChannel("U1")
	closed := hangingStream(e, "Thinking ", "about ", "your week")
	d, err := e.sl.DM(slackCtx(t), "U1", "", "What did I note this week?")
	if err != nil {
		t.Fatal(err)
	}
	slackWaitFor(t, e, func() bool {
		s, ok := e.sl.Session(dm, d.TS)
		return ok && s.Status == "processing" && s.Title == "What did I note this week?" &&
			strings.Contains(e.sl.ReplyText(dm, d.TS), "your week")
	}, func() string {
		s, _ := e.sl.Session(dm, d.TS)
		return "session " + s.Status + " " + s.Title + ", reply " + e.sl.ReplyText(dm, d.TS)
	})
	asked := time.Now()
	if _, halted, err := e.sl.StopSession(slackCtx(t), "U1", dm, d.TS); err != nil || len(halted) != 1 {
		t.Fatalf("native stop: halted %v, %v", halted, err)
	}
	waitUpstreamClosed(t, e, closed, asked)
	waitSlackMessage(t, e, dm, d.TS, 1, "Thinking about your week\n\n⏹ Stopped: ask again to continue.")
	slackWaitFor(t, e, func() bool {
		s, _ := e.sl.Session(dm, d.TS)
		return s.Status == "active"
	}, func() string {
		s, _ := e.sl.Session(dm, d.TS)
		return "session statuses " + strings.Join(s.Statuses, ",")
	})
	s, _ := e.sl.Session(dm, d.TS)
	if s.Statuses[0] != "processing" {
		t.Errorf("session statuses %q, want processing first", s.Statuses)
	}
	e.sl.AssertNoPings(t)
	e.assertNoSecrets(t)
}

// TestE2ESlackStopButton: with post + update (native streaming off), the
// streaming message carries a Block Kit Stop button; a click by someone
// else gets a private refusal; the owner's click stops the reply and the
// final update removes the button.
func TestE2ESlackStopButton(t *testing.T) {
	t.Parallel()
	e := startE2E(t, e2eOptions{slack: true})
	e.sl.SetNativeStreaming(e.sl.TeamID(), false)
	linkSlackUser(t, e, "U1", "42", "Ada")
	closed := hangingStream(e, "Posted ", "and ", "updated")
	p, reply := mentionUntilStopButton(t, e, "updated")

	ack, err := e.sl.Click(slackCtx(t), "U2", "C1", reply.TS, slack.StopActionID)
	if err != nil {
		t.Fatal(err)
	}
	refusal := waitResponsePost(t, e, ack.ResponseURL, func(p slacktest.ResponsePost) bool {
		return strings.Contains(p.Display(), "Only the person who asked can stop this reply.")
	})
	if refusal.ResponseType == "in_channel" || refusal.ReplaceOriginal {
		t.Errorf("refusal %+v, want a private answer that leaves the reply alone", refusal)
	}
	select {
	case <-closed:
		t.Fatal("a stranger's click closed the stream")
	case <-time.After(300 * time.Millisecond):
	}

	asked := time.Now()
	if _, err := e.sl.Click(slackCtx(t), "U1", "C1", reply.TS, slack.StopActionID); err != nil {
		t.Fatal(err)
	}
	waitUpstreamClosed(t, e, closed, asked)
	waitSlackMessage(t, e, "C1", p.TS, 1, "Posted and updated\n\n⏹ Stopped: ask again to continue.")
	if e.sl.HasButton("C1", reply.TS, slack.StopActionID) {
		t.Error("the final update left the Stop button")
	}
	e.sl.AssertNoPings(t)
	e.assertNoSecrets(t)
}

// TestE2ESlackStopAcrossReplicas: two serve processes of one deployment
// share Redis and receive Slack over HTTP (a load balancer's job: here the
// fake delivers to one replica, then the other). The reply streams on the
// first; the owner's click reaches the second, which stops it on the first
// through the store within a second. On a Redis Cluster too when one is
// configured.
func TestE2ESlackStopAcrossReplicas(t *testing.T) {
	t.Parallel()
	urls := map[string]string{"standalone": testRedisURL(t)}
	if os.Getenv(storetest.ClusterEnv) != "" {
		urls["cluster"] = clusterRedisURL(t)
	}
	for name, url := range urls {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			prefix := "{" + strings.TrimSuffix(uniquePrefix(t), ":") + "}:"
			reps := startReplicas(t, e2eOptions{slack: true, slackMode: "http", redisURL: url, keyPrefix: prefix}, 2)
			e := reps[0]
			e.sl.SetNativeStreaming(e.sl.TeamID(), false)
			linkSlackUser(t, e, "U1", "42", "Ada")
			closed := hangingStream(e, "Streaming ", "on ", "replica one")
			p, reply := mentionUntilStopButton(t, e, "replica one")

			e.sl.DeliverOverHTTP(reps[1].base, slackSigningSecret)
			asked := time.Now()
			if _, err := e.sl.Click(slackCtx(t), "U1", "C1", reply.TS, slack.StopActionID); err != nil {
				t.Fatal(err)
			}
			waitUpstreamClosed(t, e, closed, asked)
			waitSlackMessage(t, e, "C1", p.TS, 1, "Streaming on replica one\n\n⏹ Stopped: ask again to continue.")
			if e.sl.HasButton("C1", reply.TS, slack.StopActionID) {
				t.Error("the final update left the Stop button")
			}
			// Through the store from replica two to replica one. Replica
			// two logs its request after publishing it, so its line may
			// come after replica one has already finished the reply.
			waitLog(t, reps[1].logs, "stop requested for a reply on another replica", 1)
			waitLog(t, e.logs, "reply stopped from another replica", 1)
		})
	}
}

// mentionUntilStopButton mentions the bot as U1 in C1 and waits until the
// streaming reply shows text and carries the Stop button; it returns the
// mention and the reply.
func mentionUntilStopButton(t *testing.T, e *e2e, text string) (slacktest.Posted, slacktest.Message) {
	t.Helper()
	p, err := e.sl.Mention(slackCtx(t), "U1", "C1", "", "a long answer please")
	if err != nil {
		t.Fatal(err)
	}
	var reply slacktest.Message
	slackWaitFor(t, e, func() bool {
		for _, m := range e.sl.BotReplies("C1", p.TS) {
			if strings.Contains(m.Display(), text) && e.sl.HasButton("C1", m.TS, slack.StopActionID) {
				reply = m
				return true
			}
		}
		return false
	}, func() string {
		return "no streaming message with a Stop button: " + strings.Join(displays(e.sl.BotReplies("C1", p.TS)), " | ")
	})
	return p, reply
}
