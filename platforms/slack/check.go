package slack

import (
	"context"
	"fmt"
	"log/slog"
)

// Check verifies cfg against Slack without connecting: auth.test with the
// bot token and, in socket mode, apps.connections.open with the app-level
// token. It returns a one-line summary such as
// "bot @secondme in team Acme (T1), socket mode ok".
func Check(ctx context.Context, cfg Config) (string, error) {
	if err := cfg.Validate(); err != nil {
		return "", fmt.Errorf("check slack: %w", err)
	}
	api := newClient(cfg, cfg.httpClient(), slog.New(slog.DiscardHandler))
	if cfg.BotToken == "" {
		// Installs only: no bot token of its own to check.
		if cfg.mode() == ModeHTTP {
			return "installs through " + InstallPath + ", http mode", nil
		}
		if _, _, err := api.StartSocketModeContext(ctx); err != nil {
			return "", fmt.Errorf("check slack app token (apps.connections.open): %w", apiError(err))
		}
		return "installs through " + InstallPath + ", socket mode ok", nil
	}
	resp, err := api.AuthTestContext(ctx)
	if err != nil {
		return "", fmt.Errorf("check slack bot token (auth.test): %w", apiError(err))
	}
	summary := fmt.Sprintf("bot @%s in team %s (%s)", resp.User, resp.Team, resp.TeamID)
	if cfg.mode() == ModeHTTP {
		return summary + ", http mode", nil
	}
	if _, _, err := api.StartSocketModeContext(ctx); err != nil {
		return "", fmt.Errorf("check slack app token (apps.connections.open): %w", apiError(err))
	}
	return summary + ", socket mode ok", nil
}
