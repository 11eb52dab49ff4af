package main

import (
	"context"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	goredis "github.com/redis/go-redis/v9"

	"github.com/secondme-bridge/secondme-bridge/store/redis"
)

func main() {
	// go-redis logs dial failures through a process-wide logger; route them
	// to slog once, before anything runs (setting it later would race with
	// connection pools already dialling).
	goredis.SetLogger(redis.GoRedisLogger{Logger: slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))})

	// SIGHUP reloads the config in serve and is ignored by every other
	// command: it must never end the process (its default action).
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	go func() {
		// After the first signal, restore the default behaviour so that a
		// second one kills the process even if shutdown hangs.
		<-ctx.Done()
		stop()
	}()
	// Before anything allocates much: the collector's target, unless the
	// environment sets GOGC (gc.go).
	tuneGC(os.Getenv)

	c := newCLI(os.Stdout, os.Stderr, os.Getenv)
	c.reloads = hup
	code := c.run(ctx, os.Args[1:])
	stop()
	os.Exit(code)
}
