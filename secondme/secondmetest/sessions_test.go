package secondmetest_test

import (
	"strings"
	"testing"
	"time"

	"github.com/secondme-bridge/secondme-bridge/secondme"
	"github.com/secondme-bridge/secondme-bridge/secondme/secondmetest"
)

func TestAddSessionAndList(t *testing.T) {
	t.Parallel()
	s := secondmetest.New(t)
	old := time.Date(2024, 1, 19, 10, 0, 0, 0, time.UTC)
	id1 := s.AddSession("1", secondme.Session{SessionID: "labs_sess_old", LastUpdateTime: old, LastMessage: "今天天气怎么样?", MessageCount: 5})
	id2 := s.AddSession("1", secondme.Session{AppID: "bridge"},
		secondme.SessionMessage{Role: "user", Content: strings.Repeat("长", 60)},
		secondme.SessionMessage{Role: "assistant", Content: strings.Repeat("答", 60)})
	s.AddSession("2", secondme.Session{})
	list := s.Sessions("1")
	if len(list) != 2 || list[0].SessionID != id2 || list[1].SessionID != id1 {
		t.Fatalf("list %+v", list)
	}
	if list[0].LastMessage != strings.Repeat("答", 50) || list[0].MessageCount != 2 || list[0].AppID != "bridge" {
		t.Errorf("newest %+v", list[0])
	}
	if list[1].LastMessage != "今天天气怎么样?" || list[1].MessageCount != 5 || !list[1].LastUpdateTime.Equal(old) || list[1].AppID != "general" {
		t.Errorf("oldest %+v", list[1])
	}
	msgs := s.Messages(id2)
	if len(msgs) != 2 || msgs[0].MessageID == "" || msgs[0].CreateTime.IsZero() {
		t.Errorf("messages %+v", msgs)
	}
	tok := s.IssueToken("1").AccessToken
	got, err := s.Client().ListSessions(t.Context(), tok, "bridge")
	if err != nil || len(got) != 1 || got[0].SessionID != id2 {
		t.Errorf("ListSessions = %+v, %v", got, err)
	}
	s.DeleteSession(id2)
	if s.Messages(id2) != nil || len(s.Sessions("1")) != 1 {
		t.Error("session not deleted")
	}
}
