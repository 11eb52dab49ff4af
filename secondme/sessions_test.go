package secondme_test

import (
	"errors"
	"testing"
	"time"

	"github.com/secondme-bridge/secondme-bridge/secondme"
	"github.com/secondme-bridge/secondme-bridge/secondme/secondmetest"
)

// chat runs one chat turn and returns the reply and the announced session.
func chat(t *testing.T, c *secondme.Client, tok string, req secondme.ChatRequest) (text, session string) {
	t.Helper()
	st, err := c.ChatStream(t.Context(), tok, req)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	for st.Next() {
		switch ev := st.Current(); ev.Type {
		case secondme.EventDelta:
			text += ev.Text
		case secondme.EventSession:
			session = ev.SessionID
		}
	}
	if err := st.Err(); err != nil {
		t.Fatal(err)
	}
	return text, session
}

func TestSessionsReflectChats(t *testing.T) {
	t.Parallel()
	s, c := setup(t, secondme.WithAppID("bridge"))
	tok := userWithToken(t, s)
	_, sess := chat(t, c, tok, secondme.ChatRequest{Message: "first", SystemPrompt: "be brief"})
	if sess == "" {
		t.Fatal("no session announced")
	}
	_, again := chat(t, c, tok, secondme.ChatRequest{Message: "second", SessionID: sess})
	if again != "" {
		t.Errorf("session re-announced: %q", again)
	}
	chat(t, c, tok, secondme.ChatRequest{Message: "elsewhere", AppID: "other"})

	list, err := c.ListSessions(t.Context(), tok, "")
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 1 || list[0].SessionID != sess || list[0].AppID != "bridge" || list[0].MessageCount != 5 ||
		list[0].LastMessage != secondmetest.EchoReply("second") || list[0].LastUpdateTime.IsZero() {
		t.Errorf("ListSessions = %+v", list)
	}
	if q := s.RequestsTo(secondmetest.PathSessionList)[0].Query.Get("appId"); q != "bridge" {
		t.Errorf("appId query %q", q)
	}
	all, err := s.Client().ListSessions(t.Context(), tok, "")
	if err != nil || len(all) != 2 || all[0].AppID != "other" {
		t.Errorf("unfiltered list (newest first) = %+v, %v", all, err)
	}

	msgs, err := c.SessionMessages(t.Context(), tok, sess)
	if err != nil {
		t.Fatal(err)
	}
	var roles []string
	for i, m := range msgs {
		roles = append(roles, m.Role)
		if m.MessageID == "" || (i > 0 && !m.CreateTime.After(msgs[i-1].CreateTime)) {
			t.Errorf("message %d: %+v", i, m)
		}
	}
	want := []string{"system", "user", "assistant", "user", "assistant"}
	if len(roles) != len(want) || msgs[0].Content != "be brief" || msgs[2].Content != "echo: first" {
		t.Errorf("messages %+v", msgs)
	}
	for i := range want {
		if i < len(roles) && roles[i] != want[i] {
			t.Errorf("roles %v, want %v", roles, want)
			break
		}
	}
	// An unknown session is an empty list; another user's is unauthorized.
	if msgs, err := c.SessionMessages(t.Context(), tok, "labs_sess_unknown"); err != nil || len(msgs) != 0 {
		t.Errorf("unknown session: %v, %v", msgs, err)
	}
	other := s.IssueToken("77").AccessToken
	if _, err := c.SessionMessages(t.Context(), other, sess); !secondme.IsSessionInvalid(err) {
		t.Errorf("other user's session: %v", err)
	}
	var ve *secondme.ValidationError
	if _, err := c.SessionMessages(t.Context(), tok, ""); !errors.As(err, &ve) {
		t.Errorf("empty session id: %v", err)
	}
}

func TestSessionTimeVariants(t *testing.T) {
	t.Parallel()
	want := time.Date(2024, 1, 20, 15, 30, 0, 0, time.UTC)
	tests := map[string]time.Time{
		`"2024-01-20T15:30:00Z"`:      want,
		`"2024-01-20T23:30:00+08:00"`: want,
		`"2024-01-20T15:30:00"`:       want,
		`"2024-01-20 15:30:00"`:       want,
		`"2024-01-20T15:30:00.000Z"`:  want,
		`1705764600000`:               want,
		`""`:                          {},
		`null`:                        {},
		`"yesterday"`:                 {},
	}
	for raw, wantT := range tests {
		s, c := setup(t)
		tok := userWithToken(t, s)
		s.QueueResponse(secondmetest.PathSessionList, secondmetest.Response{Body: `{"code":0,"data":{"sessions":[{"sessionId":"labs_sess_a","appId":"general","lastMessage":"hi","lastUpdateTime":` + raw + `,"messageCount":"10"}]}}`})
		list, err := c.ListSessions(t.Context(), tok, "general")
		if err != nil || len(list) != 1 {
			t.Errorf("%s: %v %v", raw, list, err)
			continue
		}
		if !list[0].LastUpdateTime.Equal(wantT) || list[0].MessageCount != 10 {
			t.Errorf("%s: got %v count %d, want %v", raw, list[0].LastUpdateTime, list[0].MessageCount, wantT)
		}
	}
	s, c := setup(t)
	tok := userWithToken(t, s)
	s.QueueResponse(secondmetest.PathSessionMessages, secondmetest.Response{Body: `{"code":0,"data":{"sessionId":"x","messages":[{"messageId":"msg_001","role":"user","content":"你好","senderUserId":12345,"receiverUserId":null,"createTime":"2024-01-20T15:00:05Z"}]}}`})
	msgs, err := c.SessionMessages(t.Context(), tok, "x")
	if err != nil || len(msgs) != 1 || msgs[0].MessageID != "msg_001" || msgs[0].Content != "你好" ||
		!msgs[0].CreateTime.Equal(time.Date(2024, 1, 20, 15, 0, 5, 0, time.UTC)) {
		t.Errorf("messages %+v, %v", msgs, err)
	}
}
