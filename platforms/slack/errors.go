package slack

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"

	slackapi "github.com/slack-go/slack"

	"github.com/secondme-bridge/secondme-bridge/platforms"
)

// transientCodes are Slack error codes worth retrying later.
var transientCodes = map[string]bool{
	"ratelimited": true, "internal_error": true, "fatal_error": true,
	"service_unavailable": true, "request_timeout": true, "team_added_to_org": true,
}

// tooLongCodes mean the text or blocks exceed what Slack takes.
var tooLongCodes = map[string]bool{"msg_too_long": true, "msg_blocks_too_long": true}

// slackErrorCode returns the "error" of an {"ok":false} answer, or "".
func slackErrorCode(err error) string {
	if se, ok := errors.AsType[slackapi.SlackErrorResponse](err); ok {
		return se.Err
	}
	if se, ok := errors.AsType[*slackapi.SlackErrorResponse](err); ok && se != nil {
		return se.Err
	}
	return ""
}

// apiError maps a slack-go error to the platform contract: 429 (or
// "ratelimited") becomes *platforms.RateLimitError, msg_too_long wraps
// platforms.ErrTooLong. Other errors are returned with URLs redacted.
func apiError(err error) error {
	if err == nil {
		return nil
	}
	if rl, ok := errors.AsType[*slackapi.RateLimitedError](err); ok {
		return &platforms.RateLimitError{Platform: Name, RetryAfter: rl.RetryAfter, Err: err}
	}
	if sc, ok := errors.AsType[slackapi.StatusCodeError](err); ok && sc.Code == http.StatusTooManyRequests {
		return &platforms.RateLimitError{Platform: Name, Err: err}
	}
	code := slackErrorCode(err)
	switch {
	case code == "ratelimited":
		return &platforms.RateLimitError{Platform: Name, Err: err}
	case tooLongCodes[code]:
		return fmt.Errorf("%w (slack: %s)", platforms.ErrTooLong, code)
	}
	return redactErr(err)
}

var urlRE = regexp.MustCompile(`\b(https?|wss?)://[^\s"'<>]+`)

// redactErr drops everything after the host of any URL in err's text (a
// response_url or a Socket Mode ticket must not reach a log line), keeping
// the error chain for errors.Is/As.
func redactErr(err error) error {
	if err == nil {
		return nil
	}
	if ue, ok := errors.AsType[*url.Error](err); ok && ue.Err != nil {
		return &redactedError{msg: ue.Op + " " + redactURL(ue.URL) + ": " + redactText(ue.Err.Error()), err: ue.Err}
	}
	msg := err.Error()
	if red := redactText(msg); red != msg {
		return &redactedError{msg: red, err: err}
	}
	return err
}

func redactText(s string) string {
	return urlRE.ReplaceAllStringFunc(s, redactURL)
}

func redactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return "[redacted url]"
	}
	if u.Path == "" && u.RawQuery == "" {
		return u.Scheme + "://" + u.Host
	}
	return u.Scheme + "://" + u.Host + "/…"
}

// redactedError keeps the chain of err under a redacted message.
type redactedError struct {
	msg string
	err error
}

func (e *redactedError) Error() string { return e.msg }
func (e *redactedError) Unwrap() error { return e.err }
