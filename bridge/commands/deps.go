package commands

import (
	"context"
	"log/slog"
	"time"

	"github.com/secondme-bridge/secondme-bridge/bridge/internal/metrics"
	"github.com/secondme-bridge/secondme-bridge/bridge/linking"
	"github.com/secondme-bridge/secondme-bridge/bridge/text"
	"github.com/secondme-bridge/secondme-bridge/platforms"
	"github.com/secondme-bridge/secondme-bridge/secondme"
	"github.com/secondme-bridge/secondme-bridge/store"
)

// SecondMe is the part of the SecondMe API the commands use
// (*secondme.Client satisfies it). token is the user's OAuth access token.
// Every method does network I/O, honours ctx and may be called
// concurrently; errors are the client's typed errors.
type SecondMe interface {
	// UserInfo returns the user's profile (/whoami).
	UserInfo(ctx context.Context, token string) (*secondme.UserInfo, error)
	// UserShades returns the user's interest tags (/whoami).
	UserShades(ctx context.Context, token string) ([]secondme.Shade, error)
	// SearchKeyMemory searches the user's key memories (/memory).
	SearchKeyMemory(ctx context.Context, token string, q secondme.MemoryQuery) (*secondme.KeyMemoryPage, error)
	// AddNote saves a note (/note, "save this message"); deprecated
	// upstream, so the commands fall back to AddKeyMemory.
	AddNote(ctx context.Context, token string, n secondme.Note) (int64, error)
	// AddKeyMemory writes a key memory.
	AddKeyMemory(ctx context.Context, token string, m secondme.KeyMemoryInput) error
	// ListSessions lists the user's chat sessions of appID, newest first
	// (/sessions).
	ListSessions(ctx context.Context, token, appID string) ([]secondme.Session, error)
}

// Outbox is how a command answers: the engine's notices, through 429s and
// the platform's budgets.
type Outbox interface {
	// Reply posts a short public message.
	Reply(ctx context.Context, p platforms.Platform, to platforms.Target, text string)
	// SendPrivate shows m to the user only, or fails when the platform
	// cannot at to.
	SendPrivate(ctx context.Context, p platforms.Platform, to platforms.Target, m platforms.Message) error
	// TellPrivate shows text to the user only, or publicly when it cannot.
	TellPrivate(ctx context.Context, p platforms.Platform, to platforms.Target, text string)
	// CanPrivate reports whether a message can reach only the user at to.
	CanPrivate(p platforms.Platform, to platforms.Target) bool
}

// Deps are what the commands' Run functions use.
type Deps struct {
	Linker   *linking.Linker
	SecondMe SecondMe
	AppID    string // filters /sessions
	Out      Outbox
	Now      func() time.Time
	Log      *slog.Logger
	Metrics  *metrics.Set
	// Persona returns who the replies of link's user are posted as: a
	// persona, or nil (the bot) and the catalog key of the reason
	// (/whoami).
	Persona func(link store.Link) (*platforms.Persona, text.Key)
}

// Call is one invocation of a command.
type Call struct {
	P    platforms.Platform
	Ev   platforms.Event
	To   platforms.Target
	L    text.Lang
	User store.UserKey
	Args string
}
