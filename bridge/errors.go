package bridge

import (
	"context"
	"errors"
	"time"

	"github.com/secondme-bridge/secondme-bridge/bridge/linking"
	"github.com/secondme-bridge/secondme-bridge/secondme"
)

// ErrAlreadyRunning is returned (wrapped) by AddPlatform after Run has
// started, and by Run when called a second time.
var ErrAlreadyRunning = errors.New("bridge: already running")

// errQueueFull is returned by enqueue when the conversation's queue is at
// its bound.
var errQueueFull = errors.New("conversation queue full")

// errShuttingDown is returned by enqueue once Run is stopping.
var errShuttingDown = errors.New("bridge shutting down")

// Error kinds, the label of the errors_total metric.
const (
	kindNotLinked    = "not_linked"
	kindLinkBroken   = "link_broken"
	kindMissingScope = "missing_scope"
	kindOperator     = "operator"
	kindRateLimited  = "upstream_rate_limited"
	kindUpstream     = "upstream"
	kindTimeout      = "timeout"
	kindInterrupted  = "interrupted"
	kindInternal     = "internal"
	kindPlatform     = "platform"
	kindStore        = "store"
)

// userError is an internal error together with what the user is told about
// it. The internal error is logged; only the message reaches the user.
type userError struct {
	kind string // metric label
	key  msgKey
	args []any
	err  error
}

func (e *userError) Error() string {
	if e.err == nil {
		return e.kind
	}
	return e.kind + ": " + e.err.Error()
}

func (e *userError) Unwrap() error { return e.err }

// text renders the user-facing message.
func (e *userError) text(l lang) string { return tr(l, e.key, e.args...) }

// classify turns any error met while serving a user into a userError:
// linking errors, SecondMe errors (by their classifiers), timeouts, and a
// generic message for everything else.
func classify(err error) *userError {
	var ue *userError
	if errors.As(err, &ue) {
		return ue
	}
	u := &userError{err: err}
	switch {
	case errors.Is(err, linking.ErrNotLinked):
		u.kind, u.key = kindNotLinked, msgNotLinked
	case errors.Is(err, linking.ErrLinkBroken), secondme.IsRelinkRequired(err):
		u.kind, u.key = kindLinkBroken, msgLinkBroken
	case secondme.IsOperatorProblem(err):
		u.kind, u.key = kindOperator, msgOperator
	default:
		if scope, ok := secondme.MissingScope(err); ok {
			u.kind = kindMissingScope
			if scope == "" {
				u.key = msgMissingScopeAny
			} else {
				u.key, u.args = msgMissingScope, []any{scope}
			}
			return u
		}
		if wait, ok := secondme.RetryAfter(err); ok {
			u.kind = kindRateLimited
			if secs := int((wait + time.Second - 1) / time.Second); secs > 0 {
				u.key, u.args = msgBusy, []any{secs}
			} else {
				u.key = msgBusyNoWait
			}
			return u
		}
		switch {
		case errors.Is(err, context.DeadlineExceeded), errors.Is(err, secondme.ErrIdleTimeout):
			u.kind, u.key = kindTimeout, msgTimeout
		case isAPIError(err):
			u.kind, u.key = kindUpstream, msgUpstream
		default:
			u.kind, u.key = kindInternal, msgInternal
		}
	}
	return u
}

// isAPIError reports whether err came from SecondMe (an HTTP answer, a
// stream failure), as opposed to the bridge itself.
func isAPIError(err error) bool {
	var ae *secondme.APIError
	return errors.As(err, &ae) || secondme.IsRetryable(err)
}

// newUserError wraps err with a fixed message.
func newUserError(kind string, key msgKey, err error, args ...any) *userError {
	return &userError{kind: kind, key: key, args: args, err: err}
}
