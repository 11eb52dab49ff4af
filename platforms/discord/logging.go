package discord

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"

	"github.com/bwmarrin/discordgo"
)

// discordgo logs through one package variable, discordgo.Logger, shared by
// every session in the process. The adapter installs a router once; the
// router writes to the logger of the adapter that ran most recently (there
// is normally one adapter per process). Messages are redacted: discordgo
// prints request URLs, which carry interaction tokens.
var (
	dgLogger      atomic.Pointer[slog.Logger]
	dgInstallOnce sync.Once
)

// routeDiscordgoLogs sends discordgo's log output to l until
// unrouteDiscordgoLogs(l) is called.
func routeDiscordgoLogs(l *slog.Logger) {
	dgLogger.Store(l)
	dgInstallOnce.Do(func() { discordgo.Logger = logDiscordgo })
}

// unrouteDiscordgoLogs stops sending discordgo's output to l.
func unrouteDiscordgoLogs(l *slog.Logger) {
	dgLogger.CompareAndSwap(l, nil)
}

// logDiscordgo is installed as discordgo.Logger.
func logDiscordgo(msgL, _ int, format string, a ...any) {
	l := dgLogger.Load()
	if l == nil {
		return
	}
	level := slog.LevelDebug
	switch msgL {
	case discordgo.LogError:
		level = slog.LevelError
	case discordgo.LogWarning:
		level = slog.LevelWarn
	}
	ctx := context.Background()
	if !l.Enabled(ctx, level) {
		return
	}
	l.Log(ctx, level, "discordgo", "detail", redact(fmt.Sprintf(format, a...)))
}

// discordgoLevel is the session LogLevel matching l: informational output
// only when l logs debug, and never discordgo's debug level (it dumps
// payloads, including the IDENTIFY token and message contents).
func discordgoLevel(l *slog.Logger) int {
	if l.Enabled(context.Background(), slog.LevelDebug) {
		return discordgo.LogInformational
	}
	return discordgo.LogWarning
}
