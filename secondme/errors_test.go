package secondme_test

import (
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/secondme-bridge/secondme-bridge/secondme"
	"github.com/secondme-bridge/secondme-bridge/secondme/secondmetest"
)

func TestErrorShapes(t *testing.T) {
	t.Parallel()
	httpDate := time.Now().Add(90 * time.Second).UTC().Format(http.TimeFormat)
	tests := []struct {
		name string
		resp secondmetest.Response
		want *secondme.APIError
	}{
		{"envelope subCode", secondmetest.ErrorResponse(401, "oauth2.token.expired", "Token expired"),
			&secondme.APIError{HTTPStatus: 401, Code: 401, SubCode: "oauth2.token.expired", Message: "Token expired"}},
		{"envelope error_code", secondmetest.LegacyErrorResponse(403, "apikey.permission.denied", "缺少 user.info 权限"),
			&secondme.APIError{HTTPStatus: 403, Code: 403, SubCode: "apikey.permission.denied", Message: "缺少 user.info 权限"}},
		{"detail string", secondmetest.DetailResponse(401, "需要认证"),
			&secondme.APIError{HTTPStatus: 401, Message: "需要认证"}},
		{"detail list", secondmetest.DetailResponse(422, []map[string]any{
			{"type": "missing", "loc": []any{"body", "grant_type"}, "msg": "Field required", "input": "lba_ac_leak"},
			{"type": "literal_error", "loc": []any{"body", "model"}, "msg": "Input should be 'secondme/nano'"},
		}), &secondme.APIError{HTTPStatus: 422, Message: "body.grant_type: Field required; body.model: Input should be 'secondme/nano'"}},
		{"detail object", secondmetest.DetailResponse(400, map[string]any{"message": "bad", "error_code": "invalid.param"}),
			&secondme.APIError{HTTPStatus: 400, SubCode: "invalid.param", Message: "bad"}},
		{"200 with code", secondmetest.JSONResponse(200, map[string]any{"code": 403, "message": "no", "subCode": "oauth2.scope.insufficient"}),
			&secondme.APIError{HTTPStatus: 200, Code: 403, SubCode: "oauth2.scope.insufficient", Message: "no"}},
		{"200 with string code", secondmetest.JSONResponse(200, map[string]any{"code": "500", "message": "boom"}),
			&secondme.APIError{HTTPStatus: 200, Code: 500, Message: "boom"}},
		{"200 with detail", secondmetest.DetailResponse(200, "Not Found"),
			&secondme.APIError{HTTPStatus: 200, Message: "Not Found"}},
		{"html 502", secondmetest.Response{Status: 502, ContentType: "text/html", Body: "<html>\n<b>Bad   gateway</b></html>"},
			&secondme.APIError{HTTPStatus: 502, Message: "<html> <b>Bad gateway</b></html>"}},
		{"empty 500", secondmetest.Response{Status: 500},
			&secondme.APIError{HTTPStatus: 500}},
		{"429 seconds", secondmetest.Response{Status: 429, RetryAfter: "7", Body: `{"code":429,"message":"slow down"}`},
			&secondme.APIError{HTTPStatus: 429, Code: 429, Message: "slow down", RetryAfter: 7 * time.Second}},
		{"429 date", secondmetest.Response{Status: 429, RetryAfter: httpDate},
			&secondme.APIError{HTTPStatus: 429, RetryAfter: 90 * time.Second}},
	}
	for _, tc := range tests {
		s, c := setup(t)
		tok := userWithToken(t, s)
		s.QueueResponse(secondmetest.PathUserInfo, tc.resp)
		_, err := c.UserInfo(t.Context(), tok)
		var ae *secondme.APIError
		if !errors.As(err, &ae) {
			t.Errorf("%s: err = %v, want *APIError", tc.name, err)
			continue
		}
		tc.want.Endpoint = secondmetest.PathUserInfo
		// Retry-After dates are compared to within 2s of clock movement.
		within2s := cmp.Comparer(func(a, b time.Duration) bool { return (a - b).Abs() <= 2*time.Second })
		if diff := cmp.Diff(tc.want, ae, within2s); diff != "" {
			t.Errorf("%s: (-want +got):\n%s", tc.name, diff)
		}
		if strings.Contains(err.Error(), "lba_ac_leak") {
			t.Errorf("%s: detail input leaked: %v", tc.name, err)
		}
	}
}

func TestAPIErrorString(t *testing.T) {
	t.Parallel()
	tests := []struct {
		err  *secondme.APIError
		want string
	}{
		{&secondme.APIError{HTTPStatus: 401, Code: 401, SubCode: "oauth2.token.expired", Message: "expired", Endpoint: "/api/secondme/user/info"},
			"secondme: /api/secondme/user/info: http 401: oauth2.token.expired: expired"},
		{&secondme.APIError{HTTPStatus: 200, Code: 500, Message: "boom"}, "secondme: http 200, code 500: boom"},
		{&secondme.APIError{HTTPStatus: 503}, "secondme: http 503: service unavailable"},
		{&secondme.APIError{HTTPStatus: 400, Message: "echo lba_at_abc123 sk-abcdefgh"}, "secondme: http 400: echo lba_at_[REDACTED] sk-[REDACTED]"},
	}
	for _, tc := range tests {
		if got := tc.err.Error(); got != tc.want {
			t.Errorf("Error() = %q, want %q", got, tc.want)
		}
	}
}

func TestClassifiers(t *testing.T) {
	t.Parallel()
	api := func(status int, sub, msg string) error {
		return fmt.Errorf("wrapped: %w", &secondme.APIError{HTTPStatus: status, SubCode: sub, Message: msg})
	}
	type result struct {
		token, relink, scope, rate, retry, notFound, session, operator bool
		scopeName                                                      string
	}
	tests := []struct {
		name string
		err  error
		want result
	}{
		{"nil", nil, result{}},
		{"plain error", errors.New("x"), result{}},
		{"token expired", api(401, "oauth2.token.expired", ""), result{token: true}},
		{"token invalid", api(401, "oauth2.token.invalid", ""), result{token: true}},
		{"auth.token.invalid", api(401, "auth.token.invalid", ""), result{token: true}},
		{"resource.auth.unauthorized", api(401, "resource.auth.unauthorized", ""), result{token: true}},
		{"bare 401", api(401, "", ""), result{token: true}},
		{"detail 需要认证 at 200", api(200, "", "需要认证"), result{token: true}},
		{"token revoked", api(401, "oauth2.token.revoked", ""), result{relink: true}},
		{"authorization revoked", api(401, "oauth2.authorization.revoked", ""), result{relink: true}},
		{"authorization not found", api(404, "oauth2.authorization.not_found", ""), result{relink: true, notFound: true}},
		{"refresh expired", api(401, "oauth2.refresh_token.expired", ""), result{relink: true}},
		{"refresh invalid", api(400, "oauth2.refresh_token.invalid", ""), result{relink: true}},
		{"scope insufficient", api(403, "oauth2.scope.insufficient", "missing scope: chat.write"), result{scope: true, scopeName: "chat.write"}},
		{"apikey permission", api(403, "apikey.permission.denied", "缺少 user.info.shades 权限"), result{scope: true, scopeName: "user.info.shades"}},
		{"auth.scope.missing unnamed", api(403, "auth.scope.missing", "missing permission"), result{scope: true}},
		{"rate limited", &secondme.APIError{HTTPStatus: 429, RetryAfter: 3 * time.Second}, result{rate: true, retry: true}},
		{"500", api(500, "", ""), result{retry: true}},
		{"stream error", api(200, "secondme.stream.error", ""), result{retry: true}},
		{"connection error", api(503, "connection.error", ""), result{retry: true}},
		{"internal error", api(500, "internal.error", ""), result{retry: true}},
		{"404 detail", api(404, "", "Not Found"), result{notFound: true}},
		{"memory not found", api(400, "memory.not_found", ""), result{notFound: true}},
		{"session not found", api(404, "secondme.session.not_found", ""), result{session: true, notFound: true}},
		{"session unauthorized", api(403, "secondme.session.unauthorized", ""), result{session: true}},
		{"pending review", api(403, "oauth2.application.pending_review", ""), result{operator: true}},
		{"secret mismatch", api(401, "oauth2.client.secret_mismatch", ""), result{operator: true}},
		{"incomplete", fmt.Errorf("x: %w", secondme.ErrIncompleteStream), result{retry: true}},
		{"idle", fmt.Errorf("x: %w", secondme.ErrIdleTimeout), result{retry: true}},
		{"closed", secondme.ErrStreamClosed, result{}},
		{"validation", &secondme.ValidationError{Field: "content", Problem: "too long"}, result{}},
	}
	for _, tc := range tests {
		scope, scopeOK := secondme.MissingScope(tc.err)
		ra, rateOK := secondme.RetryAfter(tc.err)
		got := result{
			token: secondme.IsTokenInvalid(tc.err), relink: secondme.IsRelinkRequired(tc.err),
			scope: scopeOK, scopeName: scope, rate: rateOK, retry: secondme.IsRetryable(tc.err),
			notFound: secondme.IsNotFound(tc.err), session: secondme.IsSessionInvalid(tc.err),
			operator: secondme.IsOperatorProblem(tc.err),
		}
		if got != tc.want {
			t.Errorf("%s: got %+v, want %+v", tc.name, got, tc.want)
		}
		if rateOK && ra != 3*time.Second {
			t.Errorf("%s: RetryAfter = %v", tc.name, ra)
		}
	}
}

// A server that echoes credentials must not get them into error strings.
func TestErrorRedaction(t *testing.T) {
	t.Parallel()
	s, c := setup(t)
	tok := userWithToken(t, s)
	s.QueueResponse(secondmetest.PathUserInfo, secondmetest.ErrorResponse(401, "oauth2.token.invalid",
		"token "+tok+" rejected; other lba_rt_0123abcd lba_ak_zz sk-live12345 key"))
	_, err := c.UserInfo(t.Context(), tok)
	msg := err.Error()
	for _, leak := range []string{tok, "0123abcd", "lba_ak_zz", "live12345"} {
		if strings.Contains(msg, leak) {
			t.Errorf("error %q contains %q", msg, leak)
		}
	}
	// Secrets without a recognisable prefix: the client secret and the code.
	s.QueueResponse(secondmetest.PathTokenCode, secondmetest.ErrorResponse(400, "oauth2.code.invalid",
		"code THE-CODE-123 with secret "+s.ClientSecret()))
	_, err = c.ExchangeCode(t.Context(), "THE-CODE-123", "https://bridge.example.com/oauth/callback")
	if msg := err.Error(); strings.Contains(msg, "THE-CODE-123") || strings.Contains(msg, s.ClientSecret()) {
		t.Errorf("exchange error leaks: %q", msg)
	}
}

// endless writes an endless body, so a client that does not limit its
// reads never returns.
func endless(status int, ct string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", ct)
		w.WriteHeader(status)
		chunk := []byte(`{"code":500,"message":"` + strings.Repeat("x", 64<<10))
		for r.Context().Err() == nil {
			if _, err := w.Write(chunk); err != nil {
				return
			}
		}
	}
}

func TestBodiesAreLimited(t *testing.T) {
	t.Parallel()
	for _, status := range []int{500, 200} {
		srv := httptest.NewServer(endless(status, "application/json"))
		c, err := secondme.NewClient(secondme.WithBaseURL(srv.URL), secondme.WithTimeout(20*time.Second))
		if err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		_, err = c.UserInfo(t.Context(), "lba_at_x")
		srv.CloseClientConnections()
		srv.Close()
		if err == nil || time.Since(start) > 10*time.Second {
			t.Fatalf("status %d: err = %v after %v", status, err, time.Since(start))
		}
		if len(err.Error()) > 1024 {
			t.Errorf("status %d: error string of %d bytes", status, len(err.Error()))
		}
	}
	// The same for a chat stream answering an endless JSON error.
	srv := httptest.NewServer(endless(429, "application/json"))
	defer srv.Close()
	defer srv.CloseClientConnections()
	c, _ := secondme.NewClient(secondme.WithBaseURL(srv.URL))
	_, err := c.ChatStream(t.Context(), "lba_at_x", secondme.ChatRequest{Message: "hi"})
	if _, ok := secondme.RetryAfter(err); !ok {
		t.Fatalf("err = %v, want rate limit", err)
	}
}
