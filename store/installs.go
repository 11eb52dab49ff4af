package store

import (
	"context"
	"time"
)

// Install is an installation of the app in one workspace of a platform
// (a Slack team that installed it through OAuth v2): the bot token the
// bridge uses there. Backends seal Token.AccessToken and
// Token.RefreshToken (rotation) at rest, bound to the workspace.
type Install struct {
	Platform  string // "slack"
	Workspace string // the team id
	// BotUserID is the bot's user id in the workspace (its own messages
	// and mentions are recognized by it).
	BotUserID string
	Token     Token
	// InstalledBy is the platform user who installed the app.
	InstalledBy string
	CreatedAt   time.Time
	UpdatedAt   time.Time
}

// Installs stores the app's installations, one per workspace.
type Installs interface {
	// GetInstall returns the install of workspace on platform, or
	// ErrNotFound.
	GetInstall(ctx context.Context, platform, workspace string) (Install, error)
	// PutInstall creates or replaces the install of in.Platform and
	// in.Workspace (both required).
	PutInstall(ctx context.Context, in Install) error
	// DeleteInstall removes the install. Returns ErrNotFound when absent.
	DeleteInstall(ctx context.Context, platform, workspace string) error
}
