package discordtest

import (
	"net/http"
	"testing"
)

// TestStartOutsideATest: Start needs no *testing.T (the demo command uses
// it); the server answers until Close, which is idempotent, and Changed
// fires on the next recorded call.
func TestStartOutsideATest(t *testing.T) {
	t.Parallel()
	s, err := Start()
	if err != nil {
		t.Fatal(err)
	}
	changed := s.Changed()
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, s.APIURL()+"/users/@me", nil)
	req.Header.Set("Authorization", "Bot "+s.Token())
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("GET /users/@me = %d", resp.StatusCode)
	}
	select {
	case <-changed:
	default:
		t.Error("Changed did not fire on a REST call")
	}
	s.Close()
	s.Close()
	if resp, err := http.Get(s.APIURL() + "/users/@me"); err == nil {
		_ = resp.Body.Close()
		t.Error("the server still answers after Close")
	}
}
