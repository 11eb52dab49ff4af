package secondmetest_test

import (
	"net/http"
	"testing"

	"github.com/secondme-bridge/secondme-bridge/secondme/secondmetest"
)

// TestStartOutsideATest: Start needs no *testing.T (the demo command uses
// it); the server answers until Close, which is idempotent.
func TestStartOutsideATest(t *testing.T) {
	t.Parallel()
	s, err := secondmetest.Start(secondmetest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	tok := s.IssueToken(secondmetest.DefaultUserID)
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, s.BaseURL()+secondmetest.PathUserInfo, nil)
	req.Header.Set("Authorization", "Bearer "+tok.AccessToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("GET user info = %d", resp.StatusCode)
	}
	s.Close()
	s.Close()
	if resp, err := http.Get(s.BaseURL() + secondmetest.PathUserInfo); err == nil {
		_ = resp.Body.Close()
		t.Error("the server still answers after Close")
	}
}
