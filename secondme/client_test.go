package secondme_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/secondme-bridge/secondme-bridge/secondme"
	"github.com/secondme-bridge/secondme-bridge/secondme/secondmetest"
)

func TestRequestHeaders(t *testing.T) {
	t.Parallel()
	s, c := setup(t, secondme.WithUserAgent("bridge-test/1"))
	tok := userWithToken(t, s)
	if _, err := c.UserInfo(t.Context(), tok); err != nil {
		t.Fatal(err)
	}
	r := s.RequestsTo(secondmetest.PathUserInfo)[0]
	for k, want := range map[string]string{
		"Authorization": "Bearer " + tok,
		"Accept":        "application/json",
		"User-Agent":    "bridge-test/1",
	} {
		if got := r.Header.Get(k); got != want {
			t.Errorf("header %s = %q, want %q", k, got, want)
		}
	}
	if r.Method != http.MethodGet || r.UserID != "42" {
		t.Errorf("method %s user %q", r.Method, r.UserID)
	}
}

func TestPerCallTimeout(t *testing.T) {
	t.Parallel()
	s, c := setup(t, secondme.WithTimeout(100*time.Millisecond))
	tok := userWithToken(t, s)
	s.SetDelay(secondmetest.PathUserInfo, 5*time.Second)
	start := time.Now()
	_, err := c.UserInfo(t.Context(), tok)
	if !errors.Is(err, secondme.ErrTimeout) {
		t.Fatalf("err = %v, want ErrTimeout", err)
	}
	if !secondme.IsRetryable(err) {
		t.Error("timeout is not retryable")
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("took %v", d)
	}
}

func TestCallerContextCancel(t *testing.T) {
	t.Parallel()
	s, c := setup(t)
	tok := userWithToken(t, s)
	s.SetDelay(secondmetest.PathUserInfo, 5*time.Second)
	ctx, cancel := context.WithTimeout(t.Context(), 100*time.Millisecond)
	defer cancel()
	_, err := c.UserInfo(ctx, tok)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want DeadlineExceeded", err)
	}
	if secondme.IsRetryable(err) || errors.Is(err, secondme.ErrTimeout) {
		t.Errorf("caller deadline classified as retryable timeout: %v", err)
	}
}

func TestNetworkErrorRetryable(t *testing.T) {
	t.Parallel()
	s, c := setup(t)
	tok := userWithToken(t, s)
	s.Close()
	_, err := c.UserInfo(t.Context(), tok)
	if err == nil || !secondme.IsRetryable(err) {
		t.Fatalf("err = %v, want retryable network error", err)
	}
	if strings.Contains(err.Error(), tok) {
		t.Errorf("error contains token: %v", err)
	}
}

func TestEmptyTokenRejected(t *testing.T) {
	t.Parallel()
	s, c := setup(t)
	_, err := c.UserInfo(t.Context(), "")
	var ve *secondme.ValidationError
	if !errors.As(err, &ve) || ve.Field != "token" {
		t.Fatalf("err = %v, want ValidationError on token", err)
	}
	if n := len(s.Requests()); n != 0 {
		t.Errorf("%d requests sent", n)
	}
}

func TestMalformedSuccessBodies(t *testing.T) {
	t.Parallel()
	tests := map[string]secondmetest.Response{
		"not json":      {Body: "<html>ok</html>", ContentType: "text/html"},
		"too large":     {Body: `{"code":0,"data":{"name":"` + strings.Repeat("x", 2<<20) + `"}}`},
		"data mismatch": {Body: `{"code":0,"data":["not","an","object"]}`},
	}
	for name, resp := range tests {
		s, c := setup(t)
		tok := userWithToken(t, s)
		s.QueueResponse(secondmetest.PathUserInfo, resp)
		_, err := c.UserInfo(t.Context(), tok)
		if !errors.Is(err, secondme.ErrMalformedResponse) {
			t.Errorf("%s: err = %v, want ErrMalformedResponse", name, err)
		}
	}
}
