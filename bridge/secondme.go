package bridge

import (
	"context"

	"github.com/secondme-bridge/secondme-bridge/bridge/commands"
	"github.com/secondme-bridge/secondme-bridge/secondme"
)

// SecondMe is what the bridge needs from the SecondMe API client
// (*secondme.Client satisfies it): the chat stream, and what the commands
// use (commands.SecondMe). token is the user's OAuth access token. Every
// method does network I/O, honours ctx and may be called concurrently.
// Errors are the client's typed errors (*secondme.APIError and friends),
// which the bridge matches with the secondme classifiers (IsTokenInvalid,
// MissingScope, RetryAfter, …).
type SecondMe interface {
	// ChatStream starts a reply of the user's avatar to req.Message. An
	// error before the stream starts is returned here; a failure
	// mid-stream ends the stream and is reported by Stream.Err.
	ChatStream(ctx context.Context, token string, req secondme.ChatRequest) (*secondme.Stream, error)
	commands.SecondMe
}

var _ SecondMe = (*secondme.Client)(nil)
