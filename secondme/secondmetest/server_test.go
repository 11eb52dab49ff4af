package secondmetest_test

import (
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/secondme-bridge/secondme-bridge/secondme"
	"github.com/secondme-bridge/secondme-bridge/secondme/secondmetest"
)

func TestRouting(t *testing.T) {
	t.Parallel()
	s := secondmetest.NewServer(t, secondmetest.Options{BasePath: "/gate/lab"})
	tok := s.IssueToken("1").AccessToken
	tests := []struct {
		method, url string
		status      int
		detail      string
	}{
		{"GET", s.BaseURL() + "/api/secondme/nope", 404, "Not Found"},
		{"GET", s.URL + secondmetest.PathUserInfo, 404, "Not Found"}, // missing base path
		{"POST", s.BaseURL() + secondmetest.PathUserInfo, 405, "Method Not Allowed"},
		{"GET", s.URL + "/oauth/authorize", 404, "Not Found"},
		{"GET", s.BaseURL() + secondmetest.PathUserInfo, 200, ""},
	}
	for _, tc := range tests {
		status, _, body := do(t, s, tc.method, tc.url, "", "", tok)
		if status != tc.status {
			t.Errorf("%s %s: status %d, want %d", tc.method, tc.url, status, tc.status)
		}
		if tc.detail != "" && field(t, body, "detail") != tc.detail {
			t.Errorf("%s %s: body %s", tc.method, tc.url, body)
		}
	}
}

func TestQueueResponseAndDelay(t *testing.T) {
	t.Parallel()
	s := secondmetest.New(t)
	s.QueueResponse(secondmetest.PathUserInfo, secondmetest.ErrorResponse(503, "connection.error", "down"))
	s.QueueResponse(secondmetest.PathUserInfo, secondmetest.Response{Status: 429, RetryAfter: "2", Header: http.Header{"X-Test": {"1"}}})
	for _, want := range []int{503, 429, 401} { // the third is handled normally: no token
		status, h, _ := do(t, s, "GET", s.URL+secondmetest.PathUserInfo, "", "", "")
		if status != want {
			t.Errorf("status %d, want %d", status, want)
		}
		if want == 429 && (h.Get("Retry-After") != "2" || h.Get("X-Test") != "1") {
			t.Errorf("headers %v", h)
		}
	}
	s.SetDelay(secondmetest.PathAuthMe, 150*time.Millisecond)
	start := time.Now()
	do(t, s, "GET", s.URL+secondmetest.PathAuthMe, "", "", s.IssueToken("").AccessToken)
	if d := time.Since(start); d < 150*time.Millisecond {
		t.Errorf("delay not applied: %v", d)
	}
}

func TestAdvanceClock(t *testing.T) {
	t.Parallel()
	s := secondmetest.New(t)
	before := s.Now()
	s.Advance(time.Hour)
	if d := s.Now().Sub(before); d < time.Hour || d > time.Hour+time.Minute {
		t.Errorf("advanced %v", d)
	}
}

func TestCloseEndsHangingStreams(t *testing.T) {
	t.Parallel()
	s := secondmetest.NewServer(nil, secondmetest.Options{})
	tok := s.IssueToken("1").AccessToken
	s.QueueStream(secondmetest.Script{Hang: true}, secondmetest.Script{Hold: make(chan struct{})})
	c := s.Client(secondme.WithIdleTimeout(0))
	for range 2 {
		st, err := c.ChatStream(t.Context(), tok, secondme.ChatRequest{Message: "hi"})
		if err != nil {
			t.Fatal(err)
		}
		defer st.Close()
	}
	closed := make(chan struct{})
	go func() { s.Close(); close(closed) }()
	select {
	case <-closed:
	case <-time.After(5 * time.Second):
		t.Fatal("Close blocked on open streams")
	}
}

func TestConcurrentUse(t *testing.T) {
	t.Parallel()
	s := secondmetest.New(t)
	c := s.Client()
	var wg sync.WaitGroup
	for i := range 16 {
		wg.Go(func() {
			tok := s.IssueToken("u" + string(rune('a'+i%4)))
			if _, err := c.UserInfo(t.Context(), tok.AccessToken); err != nil {
				t.Error(err)
			}
			if _, err := c.RefreshToken(t.Context(), tok.RefreshToken); err != nil {
				t.Error(err)
			}
			st, err := c.ChatStream(t.Context(), tok.AccessToken, secondme.ChatRequest{Message: "hi"})
			if err != nil {
				t.Error(err)
				return
			}
			for st.Next() {
			}
			if st.Err() != nil {
				t.Error(st.Err())
			}
			s.Requests()
			s.Sessions("ua")
		})
	}
	wg.Wait()
	if s.RefreshCount() != 16 || s.StreamCount() != 16 || len(s.RequestsTo(secondmetest.PathUserInfo)) != 16 {
		t.Errorf("counts: refresh %d stream %d", s.RefreshCount(), s.StreamCount())
	}
}
