package secondme_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/secondme-bridge/secondme-bridge/secondme"
)

func TestNewClientOptions(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		opt     secondme.Option
		wantErr bool
	}{
		{"default", nil, false},
		{"base url with slash", secondme.WithBaseURL("https://api.example.com/gate/lab/"), false},
		{"base url ftp", secondme.WithBaseURL("ftp://api.example.com"), true},
		{"base url relative", secondme.WithBaseURL("/gate/lab"), true},
		{"base url garbage", secondme.WithBaseURL("http://[::1"), true},
		{"base url with query", secondme.WithBaseURL("https://api.example.com/?x=1"), true},
		{"base url with user info", secondme.WithBaseURL("https://u:p@api.example.com/"), true},
		{"nil http client", secondme.WithHTTPClient(nil), true},
		{"http client", secondme.WithHTTPClient(&http.Client{}), false},
		{"negative timeout", secondme.WithTimeout(-time.Second), true},
		{"zero timeout", secondme.WithTimeout(0), false},
		{"negative idle timeout", secondme.WithIdleTimeout(-time.Second), true},
		{"oauth default authorize url", secondme.WithOAuth("id", "secret", ""), false},
		{"oauth bad authorize url", secondme.WithOAuth("id", "secret", "go.second.me/oauth/"), true},
		{"user agent", secondme.WithUserAgent("x/1"), false},
		{"app id", secondme.WithAppID("bridge"), false},
	}
	for _, tc := range tests {
		_, err := secondme.NewClient(tc.opt)
		if (err != nil) != tc.wantErr {
			t.Errorf("%s: err = %v, wantErr %v", tc.name, err, tc.wantErr)
		}
	}
}

func TestBaseURLDefaultsAndSlash(t *testing.T) {
	t.Parallel()
	c, err := secondme.NewClient()
	if err != nil {
		t.Fatal(err)
	}
	if got := c.BaseURL(); got != secondme.DefaultBaseURL {
		t.Errorf("BaseURL = %q, want %q", got, secondme.DefaultBaseURL)
	}
	s, _ := setup(t)
	tok := userWithToken(t, s)
	c = s.Client(secondme.WithBaseURL(s.BaseURL() + "/"))
	if _, err := c.UserInfo(t.Context(), tok); err != nil {
		t.Fatalf("UserInfo with trailing slash base: %v", err)
	}
	if got := s.Requests()[0].URLPath; got != "/gate/lab/api/secondme/user/info" {
		t.Errorf("path = %q", got)
	}
}
