package slacktest_test

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/secondme-bridge/secondme-bridge/platforms/slack/slacktest"
)

// TestStartOutsideATest: Start needs no *testing.T; the fake answers the
// Web API until Close (idempotent), and a request it does not serve is a
// 404 listed by Unexpected instead of a test failure.
func TestStartOutsideATest(t *testing.T) {
	t.Parallel()
	s, err := slacktest.Start(slacktest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	form := url.Values{"token": {s.BotToken()}}
	resp, err := http.Post(s.APIURL()+"auth.test", "application/x-www-form-urlencoded", strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("auth.test = %d", resp.StatusCode)
	}
	resp, err = http.Get(s.URL() + "/nowhere")
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound || !slices.Equal(s.Unexpected(), []string{"GET /nowhere"}) {
		t.Errorf("unknown route = %d, Unexpected = %q", resp.StatusCode, s.Unexpected())
	}
	s.Close()
	s.Close()
	if resp, err := http.Get(s.APIURL() + "auth.test"); err == nil {
		_ = resp.Body.Close()
		t.Error("the server still answers after Close")
	}
}
