package secondmetest_test

import (
	"testing"

	"github.com/secondme-bridge/secondme-bridge/secondme"
	"github.com/secondme-bridge/secondme-bridge/secondme/secondmetest"
)

func TestUsers(t *testing.T) {
	t.Parallel()
	s := secondmetest.New(t)
	s.AddUser(secondmetest.User{ID: "1", Name: "A", KeyMemories: []secondme.KeyMemory{{FactContent: "x"}}}, "chat")
	u, ok := s.User("1")
	if !ok || u.AppScopedUserID != "asu_1" || u.KeyMemories[0].ID == 0 {
		t.Errorf("user %+v", u)
	}
	if _, ok := s.User("nobody"); ok {
		t.Error("unknown user found")
	}
	tok := s.IssueToken("1")
	if len(tok.Scopes) != 1 || tok.Scopes[0] != "chat" {
		t.Errorf("scopes %v", tok.Scopes)
	}
	// Old scope "chat" grants sessions but not user info.
	c := s.Client()
	if _, err := c.ListSessions(t.Context(), tok.AccessToken, ""); err != nil {
		t.Errorf("chat scope: %v", err)
	}
	if _, err := c.UserInfo(t.Context(), tok.AccessToken); err == nil {
		t.Error("user info without scope")
	}
	auto := s.IssueToken("")
	if uid, _ := s.TokenUser(auto.AccessToken); uid != secondmetest.DefaultUserID {
		t.Errorf("default user %q", uid)
	}
	if len(auto.Scopes) != len(secondmetest.DefaultScopes) {
		t.Errorf("default scopes %v", auto.Scopes)
	}
	defer func() {
		if recover() == nil {
			t.Error("AddUser without ID did not panic")
		}
	}()
	s.AddUser(secondmetest.User{})
}
