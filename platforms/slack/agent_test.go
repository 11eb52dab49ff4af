package slack

import (
	"strings"
	"testing"
	"time"

	"github.com/secondme-bridge/secondme-bridge/platforms"
	"github.com/secondme-bridge/secondme-bridge/platforms/slack/slacktest"
)

// testPrompts are localized by language prefix, as the wiring does.
func testPrompts(locale string) []SuggestedPrompt {
	if strings.HasPrefix(locale, "zh") {
		return []SuggestedPrompt{{"介绍一下你自己", "介绍一下你自己"}, {"这周我记了什么？", "这周我记了什么？"}}
	}
	return []SuggestedPrompt{
		{"Introduce yourself", "Introduce yourself"}, {"My week", "What did I note about this week?"},
		{"Ideas", "Give me three ideas <!channel>"}, {"Plan", "Help me plan tomorrow"}, {"Fifth", "never sent"},
	}
}

// The native stop in the agent view: Slack halts the stream and sends
// agent_session_stopped, which reaches the bridge as a native EventStop
// naming the conversation; the bridge then sets the status back.
func TestSlackNativeStop(t *testing.T) {
	t.Parallel()
	fake := newFake(t)
	a, rec, _ := startSocket(t, fake, nil)
	ctx := t.Context()
	dm := fake.DMChannel("U1")
	p, err := fake.DM(ctx, "U1", "", "tell me a long story")
	if err != nil {
		t.Fatal(err)
	}
	msg := rec.wait(t, 1)[0]
	to := platforms.Target{Workspace: msg.Workspace, Channel: msg.Channel, Thread: msg.Thread, User: msg.User.ID, DM: true}
	if err := a.SetSessionStatus(ctx, to, platforms.SessionProcessing); err != nil {
		t.Fatalf("status processing: %v", err)
	}
	if err := a.SetSessionTitle(ctx, to, "tell me\n a long   story <!here>"); err != nil {
		t.Fatalf("title: %v", err)
	}
	ref, err := a.StartStream(ctx, to, "Once")
	if err != nil {
		t.Fatalf("start stream: %v", err)
	}
	_, halted, err := fake.StopSession(ctx, "U1", dm, p.TS)
	if err != nil || len(halted) != 1 || halted[0] != string(ref.ID) {
		t.Fatalf("stop session: %v, halted %v", err, halted)
	}
	ev := waitStops(t, rec, 1)[0]
	if ev.Stop == nil || !ev.Stop.Native || ev.Stop.ReplyID != "" || string(ev.Channel) != dm || string(ev.Thread) != p.TS ||
		ev.User.ID != "U1" || !ev.DM || len(ev.DedupeIDs) == 0 {
		t.Fatalf("native stop event = %+v (stop %+v)", ev, ev.Stop)
	}
	if err := a.SetSessionStatus(ctx, to, platforms.SessionActive); err != nil {
		t.Fatalf("status active: %v", err)
	}
	s, ok := fake.Session(dm, p.TS)
	if !ok || strings.Join(s.Statuses, ",") != "processing,active" || s.Initiator != "U1" {
		t.Fatalf("session = %+v", s)
	}
	fake.AssertNoPings(t) // the title's <!here> is neutralized
	if strings.Contains(s.Title, "\n") {
		t.Errorf("title %q spans lines", s.Title)
	}
	long := strings.Repeat("字", 300)
	if err := a.SetSessionTitle(ctx, to, long); err != nil {
		t.Fatalf("long title: %v", err)
	}
	if s, _ := fake.Session(dm, p.TS); len([]rune(s.Title)) != 200 {
		t.Errorf("long title kept %d characters, want 200", len([]rune(s.Title)))
	}
	// No thread: nothing to do, no call.
	n := len(fake.Calls("agents.sessions.setStatus"))
	if err := a.SetSessionStatus(ctx, platforms.Target{Workspace: "T1", Channel: platforms.ChannelID(dm)}, platforms.SessionProcessing); err != nil || len(fake.Calls("agents.sessions.setStatus")) != n {
		t.Errorf("status without a thread: %v, %d calls", err, len(fake.Calls("agents.sessions.setStatus"))-n)
	}
}

// Where the app is not an agent (or the plan lacks the surface), the
// session calls fail once, quietly, and are never made again.
func TestSlackAgentSurfaceLatchesOff(t *testing.T) {
	t.Parallel()
	fake := newFake(t)
	fake.SetAgentSurface(fake.TeamID(), false)
	a, _, logs := startSocket(t, fake, func(c *Config) { c.SuggestedPrompts = testPrompts })
	ctx := t.Context()
	to := platforms.Target{Workspace: platforms.WorkspaceID(fake.TeamID()), Channel: "D1", Thread: "1700000000.000001", User: "U1", DM: true}
	for range 3 {
		if err := a.SetSessionStatus(ctx, to, platforms.SessionProcessing); err != nil {
			t.Fatalf("status where refused: %v, want nil (fall back silently)", err)
		}
		if err := a.SetSessionTitle(ctx, to, "hello"); err != nil {
			t.Fatalf("title where refused: %v", err)
		}
	}
	calls := len(fake.Calls("agents.sessions.setStatus")) + len(fake.Calls("agents.sessions.rename"))
	if calls != 1 {
		t.Errorf("%d agent session calls, want 1 (latched off after the refusal)", calls)
	}
	if _, err := fake.SendEvent(ctx, slacktest.InnerEvent{Type: "app_home_opened", User: "U1", Channel: "D1", Tab: "messages"}); err != nil {
		t.Fatal(err)
	}
	time.Sleep(150 * time.Millisecond)
	if n := len(fake.Calls("assistant.threads.setSuggestedPrompts")); n != 0 {
		t.Errorf("suggested prompts tried %d times on a latched workspace", n)
	}
	if c := strings.Count(logs.String(), "slack agent surface unavailable"); c != 1 {
		t.Errorf("latch logged %d times, want once", c)
	}
	// Transient failures are returned, not latched.
	fake2 := newFake(t)
	b, _, _ := startSocket(t, fake2, nil)
	fake2.FailMethodN("agents.sessions.setStatus", "internal_error", 1)
	if err := b.SetSessionStatus(ctx, platforms.Target{Workspace: platforms.WorkspaceID(fake2.TeamID()), Channel: "D1", Thread: "1.1", User: "U1"}, platforms.SessionProcessing); err == nil {
		t.Error("a transient failure was swallowed")
	}
	if err := b.SetSessionStatus(ctx, platforms.Target{Workspace: platforms.WorkspaceID(fake2.TeamID()), Channel: "D1", Thread: "1.1", User: "U1"}, platforms.SessionProcessing); err != nil {
		t.Errorf("after a transient failure: %v", err)
	}
}

// Opening the Messages tab pins up to four localized prompts; the Home
// tab, app_context_changed and repeated visits within the hour do not
// set them again; app_context_changed is accepted without error.
func TestSlackSuggestedPrompts(t *testing.T) {
	t.Parallel()
	fake := newFake(t)
	fake.AddUser(slacktest.User{ID: "U8", Name: "li", Locale: "zh-CN"})
	_, rec, _ := startSocket(t, fake, func(c *Config) { c.SuggestedPrompts = testPrompts })
	ctx := t.Context()
	send := func(ev slacktest.InnerEvent) {
		t.Helper()
		ack, err := fake.SendEvent(ctx, ev)
		if err != nil {
			t.Fatalf("%s not acknowledged: %v (%+v)", ev.Type, err, ack)
		}
	}
	send(slacktest.InnerEvent{Type: "app_home_opened", User: "U1", Channel: "D1", Tab: "home"})
	send(slacktest.InnerEvent{Type: "app_context_changed", User: "U1", Channel: "D1", Context: []byte(`{"entities":[{"type":"channel","id":"C1"}]}`)})
	send(slacktest.InnerEvent{Type: "app_home_opened", User: "U1", Channel: "D1", Tab: "messages"})
	send(slacktest.InnerEvent{Type: "app_home_opened", User: "U8", Channel: "D8", Tab: "messages"})
	deadline := time.Now().Add(5 * time.Second)
	for len(fake.SuggestedPrompts("D1", "")) == 0 || len(fake.SuggestedPrompts("D8", "")) == 0 {
		if time.Now().After(deadline) {
			t.Fatalf("prompts not set: D1 %v, D8 %v", fake.SuggestedPrompts("D1", ""), fake.SuggestedPrompts("D8", ""))
		}
		time.Sleep(5 * time.Millisecond)
	}
	en, zh := fake.SuggestedPrompts("D1", ""), fake.SuggestedPrompts("D8", "")
	if len(en) != 4 || en[1].Message != "What did I note about this week?" || len(zh) != 2 || zh[0].Title != "介绍一下你自己" {
		t.Fatalf("prompts: en %+v, zh %+v", en, zh)
	}
	send(slacktest.InnerEvent{Type: "app_home_opened", User: "U1", Channel: "D1", Tab: "messages"})
	if evs := rec.settle(); len(evs) != 0 {
		t.Errorf("agent surface events reached the bridge: %+v", evs)
	}
	if n := len(fake.Calls("assistant.threads.setSuggestedPrompts")); n != 2 {
		t.Errorf("%d setSuggestedPrompts calls, want 2 (one per DM, none for Home or a repeat visit)", n)
	}
	fake.AssertNoPings(t)
}
