package secondmetest_test

import (
	"testing"

	"github.com/secondme-bridge/secondme-bridge/secondme"
	"github.com/secondme-bridge/secondme-bridge/secondme/secondmetest"
)

func TestRequestsRecorded(t *testing.T) {
	t.Parallel()
	s := secondmetest.NewServer(t, secondmetest.Options{BasePath: "/gate/lab"})
	c := s.Client()
	tok := s.IssueToken("9")
	if _, err := c.RefreshToken(t.Context(), tok.RefreshToken); err != nil {
		t.Fatal(err)
	}
	if err := c.AddKeyMemory(t.Context(), tok.AccessToken, secondme.KeyMemoryInput{Content: "fact"}); err != nil {
		t.Fatal(err)
	}
	all := s.Requests()
	if len(all) != 2 {
		t.Fatalf("%d requests", len(all))
	}
	r := all[0]
	if r.Path != secondmetest.PathTokenRefresh || r.URLPath != "/gate/lab"+secondmetest.PathTokenRefresh ||
		r.Form.Get("refresh_token") != tok.RefreshToken || r.UserID != "" {
		t.Errorf("refresh request %+v", r)
	}
	r = s.RequestsTo(secondmetest.PathKeyMemory)[0]
	if r.JSON["content"] != "fact" || r.UserID != "9" || r.Header.Get("Authorization") != "Bearer "+tok.AccessToken || string(r.Body) != `{"content":"fact"}` {
		t.Errorf("memory request %+v", r)
	}
	if len(s.RequestsTo("/nowhere")) != 0 {
		t.Error("RequestsTo matched nothing")
	}
}
