package bridge

import (
	"context"

	"github.com/secondme-bridge/secondme-bridge/secondme"
)

// SecondMe is what the bridge needs from the SecondMe API client
// (*secondme.Client satisfies it). token is the user's OAuth access token.
// Every method does network I/O, honours ctx and may be called
// concurrently. Errors are the client's typed errors (*secondme.APIError and
// friends), which the bridge matches with the secondme classifiers
// (IsTokenInvalid, MissingScope, RetryAfter, …).
type SecondMe interface {
	// ChatStream starts a reply of the user's avatar to req.Message. An
	// error before the stream starts is returned here; a failure
	// mid-stream ends the stream and is reported by Stream.Err.
	ChatStream(ctx context.Context, token string, req secondme.ChatRequest) (*secondme.Stream, error)
	// UserInfo returns the user's profile (/whoami).
	UserInfo(ctx context.Context, token string) (*secondme.UserInfo, error)
	// UserShades returns the user's interest tags (/whoami).
	UserShades(ctx context.Context, token string) ([]secondme.Shade, error)
	// SearchKeyMemory searches the user's key memories (/memory).
	SearchKeyMemory(ctx context.Context, token string, q secondme.MemoryQuery) (*secondme.KeyMemoryPage, error)
	// AddNote saves a note (/note, "save this message"); deprecated
	// upstream, so the bridge falls back to AddKeyMemory.
	AddNote(ctx context.Context, token string, n secondme.Note) (int64, error)
	// AddKeyMemory writes a key memory.
	AddKeyMemory(ctx context.Context, token string, m secondme.KeyMemoryInput) error
	// ListSessions lists the user's chat sessions of appID, newest first
	// (/sessions).
	ListSessions(ctx context.Context, token, appID string) ([]secondme.Session, error)
}

var _ SecondMe = (*secondme.Client)(nil)
