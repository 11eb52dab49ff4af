package secondme

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// A secret straddling the 256-byte cut of an error snippet must not leave
// its prefix behind: the body is redacted before it is cut.
func TestSnippetRedactsBeforeTheCut(t *testing.T) {
	t.Parallel()
	const token = "tok-straddle-0123456789"
	for _, at := range []int{240, 250, 253, 255} {
		body := strings.Repeat("x", at) + token + " tail"
		got := snippet([]byte(body), token)
		if strings.Contains(got, token[:4]) {
			t.Errorf("secret at %d: snippet %q keeps a prefix of the secret", at, got)
		}
		// Credential-shaped text straddling the cut goes too.
		cred := "sk-abcdefghijkl"
		got = snippet([]byte(strings.Repeat("y", at-1)+" "+cred+" tail"), token)
		if strings.Contains(got, "sk-abc") {
			t.Errorf("credential at %d: snippet %q keeps its prefix", at, got)
		}
	}

	// Through the client: a non-JSON error body that echoes the token right
	// at the cut.
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		w.WriteHeader(http.StatusBadGateway)
		_, _ = w.Write([]byte(strings.Repeat("z", 250) + token))
	}))
	defer srv.Close()
	c, err := NewClient(WithBaseURL(srv.URL))
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.UserInfo(t.Context(), token)
	if err == nil || strings.Contains(err.Error(), token[:6]) {
		t.Errorf("UserInfo error = %v: want an error without the token's prefix", err)
	}
}
