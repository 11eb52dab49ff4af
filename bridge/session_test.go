package bridge

import (
	"strings"
	"testing"
	"time"

	"github.com/secondme-bridge/secondme-bridge/secondme/secondmetest"
)

// chatCall is the part of a chat/stream request these tests look at.
type chatCall struct {
	message, session, systemPrompt, appID, header string
}

func (h *harness) chatCallsDecoded() []chatCall {
	var out []chatCall
	for _, r := range h.chatCalls() {
		str := func(k string) string { s, _ := r.JSON[k].(string); return s }
		out = append(out, chatCall{
			message: str("message"), session: str("sessionId"), systemPrompt: str("systemPrompt"),
			appID: str("appId"), header: r.Header.Get("X-App-Id"),
		})
	}
	return out
}

// asked returns the messages of the chat calls so far, in order, joined by
// commas.
func (h *harness) asked() string {
	var msgs []string
	for _, c := range h.chatCallsDecoded() {
		msgs = append(msgs, c.message)
	}
	return strings.Join(msgs, ",")
}

func TestSessionsAcrossTurns(t *testing.T) {
	t.Parallel()
	for _, kind := range storeKinds {
		t.Run(kind, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t, hopts{store: kind, platform: edits(), cfg: func(c *Config) { c.SystemPrompt = "Be brief." }})
			h.link("u1", "Ada")
			h.sm.QueueStream(secondmetest.Script{Deltas: []string{"one"}, SessionID: "labs_sess_A"})
			h.deliver(h.msg("u1", "c1", "t1", "first"))
			h.waitReplies(1)
			key := conversationKey(h.p.Events()[0])
			h.settle()
			conv, err := h.st.Conversations().GetConversation(t.Context(), key)
			if err != nil || conv.SessionID != "labs_sess_A" {
				t.Fatalf("stored conversation = %+v, %v; want session labs_sess_A", conv, err)
			}
			h.deliver(h.msg("u1", "c1", "t1", "second"))
			h.waitReplies(2)
			reset := h.cmd("u1", "c1", "new", "")
			reset.Thread = "t1"
			h.deliver(reset)
			h.waitEphemeral("Started a new conversation")
			h.sm.QueueStream(secondmetest.Script{Deltas: []string{"three"}, SessionID: "labs_sess_B"})
			h.deliver(h.msg("u1", "c1", "t1", "third"))
			h.waitReplies(3)
			h.deliver(h.msg("u1", "c1", "t1", "fourth"))
			h.waitReplies(4)
			// Another thread is another conversation.
			h.deliver(h.msg("u1", "c1", "t2", "elsewhere"))
			h.waitReplies(5)

			calls := h.chatCallsDecoded()
			want := []chatCall{
				{"first", "", "Be brief.", testAppID, testAppID},
				{"second", "labs_sess_A", "", testAppID, testAppID},
				{"third", "", "Be brief.", testAppID, testAppID},
				{"fourth", "labs_sess_B", "", testAppID, testAppID},
				{"elsewhere", "", "Be brief.", testAppID, testAppID},
			}
			if len(calls) != len(want) {
				t.Fatalf("calls = %+v", calls)
			}
			for i := range want {
				if calls[i] != want[i] {
					t.Errorf("call %d = %+v, want %+v", i, calls[i], want[i])
				}
			}
		})
	}
}

func TestSessionTTLStartsFresh(t *testing.T) {
	t.Parallel()
	h := newHarness(t, hopts{platform: edits(), cfg: func(c *Config) { c.SessionTTL = 400 * time.Millisecond }})
	h.link("u1", "Ada")
	h.deliver(h.msg("u1", "c1", "", "first"))
	h.waitReplies(1)
	h.deliver(h.msg("u1", "c1", "", "soon after"))
	h.waitReplies(2)
	h.settle()
	time.Sleep(600 * time.Millisecond)
	h.deliver(h.msg("u1", "c1", "", "much later"))
	h.waitReplies(3)
	calls := h.chatCallsDecoded()
	if calls[0].session != "" || calls[1].session == "" || calls[2].session != "" {
		t.Errorf("sessions = %q, %q, %q; want new, reused, new", calls[0].session, calls[1].session, calls[2].session)
	}
}

func TestSessionGoneStartsNewOne(t *testing.T) {
	t.Parallel()
	h := newHarness(t, hopts{platform: edits()})
	h.link("u1", "Ada")
	h.deliver(h.msg("u1", "c1", "", "first"))
	h.waitReplies(1)
	first := h.chatCallsDecoded()
	_ = first
	for _, s := range h.sm.Sessions("sm-u1") {
		h.sm.DeleteSession(s.SessionID)
	}
	h.deliver(h.msg("u1", "c1", "", "second"))
	h.waitReplies(2)
	calls := h.chatCallsDecoded()
	if len(calls) != 3 || calls[1].session == "" || calls[2].session != "" || calls[2].message != "second" {
		t.Fatalf("calls = %+v; want the stale session, then a new one", calls)
	}
	if got := h.p.Messages()[1].Text; got != secondmetest.EchoReply("second") {
		t.Errorf("reply = %q", got)
	}
}
