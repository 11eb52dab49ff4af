package secondme

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"time"
	"unicode/utf8"
)

// APIError is an error answered by the SecondMe API, in any of its shapes
// (envelope with subCode or error_code, FastAPI detail, HTTP 200 with a
// non-zero code, or event: error inside a chat stream).
type APIError struct {
	// HTTPStatus is the response status (200 for errors inside a 2xx body
	// or a stream).
	HTTPStatus int
	// Code is the envelope's code: a business code or an HTTP status,
	// depending on the endpoint. Zero when absent.
	Code int
	// SubCode is the machine-readable code from subCode or error_code, for
	// example "oauth2.token.expired". Empty when absent.
	SubCode string
	// Message is the server's message or detail, redacted and truncated.
	Message string
	// RetryAfter is the parsed Retry-After header (zero when absent).
	RetryAfter time.Duration
	// Endpoint is the API path that answered, e.g. "/api/secondme/user/info".
	Endpoint string
}

// Error implements error. It never contains a token, code or secret.
func (e *APIError) Error() string {
	var b strings.Builder
	b.WriteString("secondme: ")
	if e.Endpoint != "" {
		b.WriteString(e.Endpoint)
		b.WriteString(": ")
	}
	b.WriteString("http ")
	b.WriteString(strconv.Itoa(e.HTTPStatus))
	if e.Code != 0 && e.Code != e.HTTPStatus {
		b.WriteString(", code ")
		b.WriteString(strconv.Itoa(e.Code))
	}
	if e.SubCode != "" {
		b.WriteString(": ")
		b.WriteString(redact(e.SubCode))
	}
	switch {
	case e.Message != "":
		b.WriteString(": ")
		b.WriteString(redact(e.Message))
	case e.SubCode == "":
		b.WriteString(": ")
		b.WriteString(strings.ToLower(http.StatusText(e.HTTPStatus)))
	}
	return b.String()
}

// Sentinel errors. Stream errors are wrapped: match them with errors.Is.
var (
	// ErrIncompleteStream is returned by Stream.Err when the stream ended
	// (EOF or a read error) before [DONE]. The text received so far is
	// valid but partial.
	ErrIncompleteStream = errors.New("secondme: stream ended before [DONE]")
	// ErrIdleTimeout is returned by Stream.Err (or ChatStream) when no bytes
	// arrived for the idle timeout.
	ErrIdleTimeout = errors.New("secondme: stream idle timeout")
	// ErrStreamClosed is returned by Stream.Err when Close was called
	// before the stream ended by itself.
	ErrStreamClosed = errors.New("secondme: stream closed")
	// ErrTimeout is returned when a non-streaming call exceeded the
	// per-call timeout of WithTimeout. It is retryable.
	ErrTimeout = errors.New("secondme: request timed out")
	// ErrMalformedResponse is returned when a success response cannot be
	// decoded (not JSON, too large, or a token reply without accessToken).
	ErrMalformedResponse = errors.New("secondme: malformed response")
)

// ValidationError reports a request rejected before sending.
type ValidationError struct {
	Field   string
	Problem string
}

// Error implements error.
func (e *ValidationError) Error() string {
	return "secondme: invalid " + e.Field + ": " + e.Problem
}

// netError wraps a transport failure (no response, or a body read error).
// unsent is set when the request provably never reached the server.
type netError struct {
	op     string
	err    error
	unsent bool
}

// NotSent reports whether err is a failure to start a chat stream before
// any of the request reached the server: the connection was refused, or
// broke before the request's headers were written. Such a request can be
// sent again without the risk of a second reply. Any other error (one
// after the request went out, an HTTP answer, a stream failure) reports
// false.
func NotSent(err error) bool {
	var ne *netError
	if !errors.As(err, &ne) {
		return false
	}
	return ne.unsent || errors.Is(err, syscall.ECONNREFUSED)
}

func (e *netError) Error() string { return "secondme: " + e.op + ": " + redact(e.err.Error()) }
func (e *netError) Unwrap() error { return e.err }

func asAPIError(err error) (*APIError, bool) {
	var ae *APIError
	if err == nil || !errors.As(err, &ae) || ae == nil {
		return nil, false
	}
	return ae, true
}

// IsTokenInvalid reports whether the access token was rejected as expired or
// invalid: the caller should refresh once and retry. Relink codes
// (IsRelinkRequired) are excluded; a bare 401 without a code counts.
func IsTokenInvalid(err error) bool {
	ae, ok := asAPIError(err)
	if !ok {
		return false
	}
	switch ae.SubCode {
	case "oauth2.token.expired", "oauth2.token.invalid", "auth.token.invalid",
		"resource.auth.unauthorized", "apikey.auth.invalid", "apikey.auth.missing":
		return true
	case "":
		return ae.HTTPStatus == http.StatusUnauthorized || ae.Code == http.StatusUnauthorized ||
			strings.Contains(ae.Message, "需要认证") || ae.Message == "Not authenticated"
	}
	return false
}

// IsRelinkRequired reports whether the user's grant is gone (refresh token
// invalid, expired or revoked; authorization revoked): the link must be
// deleted and the user asked to link again.
func IsRelinkRequired(err error) bool {
	ae, ok := asAPIError(err)
	if !ok {
		return false
	}
	switch ae.SubCode {
	case "oauth2.token.revoked", "oauth2.authorization.revoked", "oauth2.authorization.not_found":
		return true
	}
	return strings.HasPrefix(ae.SubCode, "oauth2.refresh_token.")
}

// MissingScope reports whether the token lacks a scope or permission. scope
// is the scope named in the server message (e.g. "chat.write", "user.info"),
// or "" when the message names none.
func MissingScope(err error) (scope string, ok bool) {
	ae, isAPI := asAPIError(err)
	if !isAPI {
		return "", false
	}
	switch ae.SubCode {
	case "oauth2.scope.insufficient", "apikey.permission.denied", "auth.scope.missing":
		return scopeIn(ae.Message), true
	}
	return "", false
}

// RetryAfter reports whether err is a rate limit (HTTP or code 429) and the
// server's Retry-After (zero when absent).
func RetryAfter(err error) (time.Duration, bool) {
	ae, ok := asAPIError(err)
	if !ok || (ae.HTTPStatus != http.StatusTooManyRequests && ae.Code != http.StatusTooManyRequests) {
		return 0, false
	}
	return ae.RetryAfter, true
}

// IsRetryable reports whether retrying the same request may succeed: 5xx,
// 429, secondme.stream.error, connection.error, internal.error, network
// failures, ErrTimeout, ErrIncompleteStream and ErrIdleTimeout. Context
// cancellation and deadlines of the caller's context are not retryable.
func IsRetryable(err error) bool {
	if err == nil {
		return false
	}
	if ae, ok := asAPIError(err); ok {
		switch ae.SubCode {
		case "secondme.stream.error", "connection.error", "internal.error", "secondme.context.build_failed":
			return true
		}
		return ae.HTTPStatus >= 500 || ae.HTTPStatus == http.StatusTooManyRequests ||
			(ae.Code >= 500 && ae.Code <= 599) || ae.Code == http.StatusTooManyRequests
	}
	switch {
	case errors.Is(err, ErrTimeout), errors.Is(err, ErrIdleTimeout), errors.Is(err, ErrIncompleteStream):
		return true
	case errors.Is(err, ErrStreamClosed):
		return false
	}
	var ne *netError
	if errors.As(err, &ne) {
		return !errors.Is(err, context.Canceled) && !errors.Is(err, context.DeadlineExceeded)
	}
	return errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, syscall.ECONNRESET) ||
		errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.EPIPE)
}

// IsNotFound reports a 404 or a *.not_found code.
func IsNotFound(err error) bool {
	ae, ok := asAPIError(err)
	if !ok {
		return false
	}
	if ae.SubCode != "" {
		return strings.HasSuffix(ae.SubCode, ".not_found")
	}
	return ae.HTTPStatus == http.StatusNotFound || ae.Code == http.StatusNotFound
}

// IsSessionInvalid reports secondme.session.not_found or
// secondme.session.unauthorized: forget the stored sessionId and start a
// new session.
func IsSessionInvalid(err error) bool {
	ae, ok := asAPIError(err)
	return ok && (ae.SubCode == "secondme.session.not_found" || ae.SubCode == "secondme.session.unauthorized")
}

// IsOperatorProblem reports oauth2.application.* and oauth2.client.* codes:
// the app itself is misconfigured, unreviewed or suspended.
func IsOperatorProblem(err error) bool {
	ae, ok := asAPIError(err)
	return ok && (strings.HasPrefix(ae.SubCode, "oauth2.application.") || strings.HasPrefix(ae.SubCode, "oauth2.client."))
}

// parseRetryAfter parses delay-seconds or an HTTP date; invalid or past
// values give zero.
func parseRetryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if secs, err := strconv.ParseInt(v, 10, 64); err == nil {
		if secs <= 0 {
			return 0
		}
		if secs > 86400*7 {
			secs = 86400 * 7
		}
		return time.Duration(secs) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil {
		if d := t.Sub(now); d > 0 {
			return d.Round(time.Second)
		}
	}
	return 0
}

// credentialPattern matches SecondMe credentials that a server might echo,
// percent-encoded ones included (a form body echoed as sent).
var credentialPattern = regexp.MustCompile(`lba_(?:at|rt|ac|ak)_[A-Za-z0-9._~+/=%\-]*|\bsk-[A-Za-z0-9_\-]{4,}`)

// redact removes the given secrets (as they are, and as a form body
// encodes them) and anything shaped like a SecondMe credential from s.
func redact(s string, secrets ...string) string {
	for _, sec := range secrets {
		if len(sec) >= 4 {
			s = strings.ReplaceAll(s, sec, "[REDACTED]")
			if enc := url.QueryEscape(sec); enc != sec {
				s = strings.ReplaceAll(s, enc, "[REDACTED]")
			}
		}
	}
	if !strings.Contains(s, "lba_") && !strings.Contains(s, "sk-") {
		return s
	}
	return credentialPattern.ReplaceAllStringFunc(s, func(m string) string {
		if strings.HasPrefix(m, "sk-") {
			return "sk-[REDACTED]"
		}
		return m[:7] + "[REDACTED]"
	})
}

// snippet renders at most 256 bytes of a non-JSON body as one line. The
// secrets and credential-shaped text are redacted from the whole body
// before it is cut: redacting after the cut would leave the prefix of a
// secret that straddles it.
func snippet(b []byte, secrets ...string) string {
	const max = 256
	b = []byte(redact(string(b), secrets...))
	if len(b) > max {
		b = b[:max]
		// Drop a multi-byte rune cut by the limit; invalid bytes before it
		// are left for ToValidUTF8.
		for i := len(b) - 1; i >= 0 && i >= len(b)-utf8.UTFMax; i-- {
			if utf8.RuneStart(b[i]) {
				if !utf8.FullRune(b[i:]) {
					b = b[:i]
				}
				break
			}
		}
	}
	s := strings.ToValidUTF8(string(b), "?")
	s = strings.Join(strings.Fields(s), " ")
	return s
}

// allScopes lists every known scope name, longest first so that
// "user.info.shades" wins over "user.info".
var allScopes = []string{
	"user.info.softmemory", "user.info.shades", "agent_memory", "memory.read", "plaza.write",
	"plaza.read", "chat.write", "note.write", "chat.read", "user.info", "note.add", "userinfo", "voice", "chat",
}

// scopeIn returns the first known scope named in msg, or "".
func scopeIn(msg string) string {
	best, bestAt := "", -1
	for _, sc := range allScopes {
		for off := 0; off < len(msg); {
			i := strings.Index(msg[off:], sc)
			if i < 0 {
				break
			}
			i += off
			end := i + len(sc)
			boundary := (i == 0 || !isScopeByte(msg[i-1])) && (end == len(msg) || !isScopeByte(msg[end]))
			if boundary {
				if bestAt < 0 || i < bestAt {
					best, bestAt = sc, i
				}
				break
			}
			off = i + 1
		}
	}
	return best
}

func isScopeByte(c byte) bool {
	return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}
