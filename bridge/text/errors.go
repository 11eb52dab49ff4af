package text

import (
	"context"
	"errors"
	"time"

	"github.com/secondme-bridge/secondme-bridge/bridge/linking"
	"github.com/secondme-bridge/secondme-bridge/secondme"
)

// Error kinds, the label of the errors_total metric.
const (
	KindNotLinked    = "not_linked"
	KindLinkBroken   = "link_broken"
	KindMissingScope = "missing_scope"
	KindOperator     = "operator"
	KindRateLimited  = "upstream_rate_limited"
	KindUpstream     = "upstream"
	KindTimeout      = "timeout"
	KindInterrupted  = "interrupted"
	KindInternal     = "internal"
	KindPlatform     = "platform"
	KindStore        = "store"
)

// UserError is an internal error together with what the user is told about
// it. The internal error is logged; only the message reaches the user.
type UserError struct {
	Kind string // metric label (the Kind constants)
	Key  Key
	Args []any
	Err  error
}

func (e *UserError) Error() string {
	if e.Err == nil {
		return e.Kind
	}
	return e.Kind + ": " + e.Err.Error()
}

func (e *UserError) Unwrap() error { return e.Err }

// Text renders the user-facing message.
func (e *UserError) Text(l Lang) string { return T(l, e.Key, e.Args...) }

// classify turns any error met while serving a user into a UserError:
// linking errors, SecondMe errors (by their classifiers), timeouts, and a
// generic message for everything else.
func Classify(err error) *UserError {
	var ue *UserError
	if errors.As(err, &ue) {
		return ue
	}
	u := &UserError{Err: err}
	switch {
	case errors.Is(err, linking.ErrNotLinked):
		u.Kind, u.Key = KindNotLinked, MsgNotLinked
	case errors.Is(err, linking.ErrLinkBroken), secondme.IsRelinkRequired(err):
		u.Kind, u.Key = KindLinkBroken, MsgLinkBroken
	case secondme.IsOperatorProblem(err):
		u.Kind, u.Key = KindOperator, MsgOperator
	default:
		if scope, ok := secondme.MissingScope(err); ok {
			u.Kind = KindMissingScope
			if scope == "" {
				u.Key = MsgMissingScopeAny
			} else {
				u.Key, u.Args = MsgMissingScope, []any{scope}
			}
			return u
		}
		if wait, ok := secondme.RetryAfter(err); ok {
			u.Kind = KindRateLimited
			if secs := int((wait + time.Second - 1) / time.Second); secs > 0 {
				u.Key, u.Args = MsgBusy, []any{secs}
			} else {
				u.Key = MsgBusyNoWait
			}
			return u
		}
		switch {
		case errors.Is(err, context.DeadlineExceeded), errors.Is(err, secondme.ErrIdleTimeout):
			u.Kind, u.Key = KindTimeout, MsgTimeout
		case isAPIError(err):
			u.Kind, u.Key = KindUpstream, MsgUpstream
		default:
			u.Kind, u.Key = KindInternal, MsgInternal
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

// NewUserError wraps err with a fixed message.
func NewUserError(kind string, key Key, err error, args ...any) *UserError {
	return &UserError{Kind: kind, Key: key, Args: args, Err: err}
}
