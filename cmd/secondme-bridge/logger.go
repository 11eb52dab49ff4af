package main

import (
	"io"
	"log/slog"
	"strings"

	"github.com/secondme-bridge/secondme-bridge/internal/config"
)

// newLogger builds the process logger from log.level and log.format (both
// already validated). It is built once and injected everywhere; nothing
// uses slog's default logger.
func newLogger(w io.Writer, c config.Log) *slog.Logger {
	var level slog.Level
	if err := level.UnmarshalText([]byte(c.Level)); err != nil {
		level = slog.LevelInfo
	}
	opts := &slog.HandlerOptions{Level: level}
	if strings.EqualFold(c.Format, "json") {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}
