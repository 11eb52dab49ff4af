package main

import (
	"context"
	"io"
	"log/slog"
	"strings"
	"sync/atomic"

	"github.com/secondme-bridge/secondme-bridge/internal/config"
)

// newLogger builds the process logger from log.level and log.format (both
// already validated). It is built once and injected everywhere; nothing
// uses slog's default logger.
func newLogger(w io.Writer, c config.Log) *slog.Logger {
	return slog.New(newLogSwitch(w, c))
}

// baseHandler is the handler log.level and log.format select.
func baseHandler(w io.Writer, c config.Log) slog.Handler {
	var level slog.Level
	if err := level.UnmarshalText([]byte(c.Level)); err != nil {
		level = slog.LevelInfo
	}
	opts := &slog.HandlerOptions{Level: level}
	if strings.EqualFold(c.Format, "json") {
		return slog.NewJSONHandler(w, opts)
	}
	return slog.NewTextHandler(w, opts)
}

// logSwitch is a slog.Handler whose level and format can change while the
// process runs (SIGHUP): every logger derived from it (With, WithGroup)
// follows the switch, because each derived handler replays its attributes
// and groups onto the current base handler. It is safe for concurrent use.
type logSwitch struct {
	root *logRoot
	ops  []logOp // With/WithGroup calls since the root, in order
	// cache is the base handler with ops applied, for one generation.
	cache atomic.Pointer[derived]
}

// logRoot is the state shared by a logSwitch and every handler derived
// from it.
type logRoot struct {
	w    io.Writer
	base atomic.Pointer[generation]
}

type generation struct {
	h slog.Handler
}

type derived struct {
	gen *generation
	h   slog.Handler
}

type logOp struct {
	group string // WithGroup when attrs is nil
	attrs []slog.Attr
}

func newLogSwitch(w io.Writer, c config.Log) *logSwitch {
	root := &logRoot{w: w}
	root.base.Store(&generation{h: baseHandler(w, c)})
	return &logSwitch{root: root}
}

// set switches every logger derived from s to level and format c.
func (s *logSwitch) set(c config.Log) {
	s.root.base.Store(&generation{h: baseHandler(s.root.w, c)})
}

// current returns the base handler of the current generation with s's ops
// applied (cached until the next set).
func (s *logSwitch) current() slog.Handler {
	gen := s.root.base.Load()
	if d := s.cache.Load(); d != nil && d.gen == gen {
		return d.h
	}
	h := gen.h
	for _, op := range s.ops {
		if op.attrs != nil {
			h = h.WithAttrs(op.attrs)
		} else {
			h = h.WithGroup(op.group)
		}
	}
	s.cache.Store(&derived{gen: gen, h: h})
	return h
}

func (s *logSwitch) Enabled(ctx context.Context, l slog.Level) bool {
	return s.current().Enabled(ctx, l)
}

func (s *logSwitch) Handle(ctx context.Context, r slog.Record) error {
	return s.current().Handle(ctx, r)
}

func (s *logSwitch) WithAttrs(attrs []slog.Attr) slog.Handler {
	if len(attrs) == 0 {
		return s
	}
	return s.with(logOp{attrs: attrs})
}

func (s *logSwitch) WithGroup(name string) slog.Handler {
	if name == "" {
		return s
	}
	return s.with(logOp{group: name})
}

func (s *logSwitch) with(op logOp) *logSwitch {
	ops := make([]logOp, len(s.ops), len(s.ops)+1)
	copy(ops, s.ops)
	return &logSwitch{root: s.root, ops: append(ops, op)}
}

// switchOf returns the logSwitch behind logger (nil if it has another
// handler, as in tests that inject their own).
func switchOf(logger *slog.Logger) *logSwitch {
	s, _ := logger.Handler().(*logSwitch)
	return s
}
