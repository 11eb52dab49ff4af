package main

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"time"

	"github.com/secondme-bridge/secondme-bridge/internal/config"
	"github.com/secondme-bridge/secondme-bridge/store"
	"github.com/secondme-bridge/secondme-bridge/store/bolt"
	"github.com/secondme-bridge/secondme-bridge/store/redis"
)

// storeOpener opens one store backend. Both backends encrypt tokens with
// sealer.
type storeOpener func(ctx context.Context, cfg config.Store, sealer *store.Sealer, logger *slog.Logger) (store.Store, error)

// storeOpeners is the name → factory map of store backends (store.driver).
// It lives here, in cmd, so that store/ imports no backend (STYLE.md §4.1).
func storeOpeners() map[string]storeOpener {
	return map[string]storeOpener{
		config.DriverBolt: func(_ context.Context, cfg config.Store, sealer *store.Sealer, logger *slog.Logger) (store.Store, error) {
			st, err := bolt.Open(cfg.Path, sealer, bolt.Options{Logger: logger})
			if err != nil {
				return nil, err // already names the file
			}
			return st, nil
		},
		config.DriverRedis: func(ctx context.Context, cfg config.Store, sealer *store.Sealer, logger *slog.Logger) (store.Store, error) {
			st, err := redis.Open(ctx, cfg.RedisURL.Value(), sealer, redis.Options{KeyPrefix: cfg.KeyPrefix, Logger: logger})
			if err != nil {
				return nil, err
			}
			return st, nil
		},
	}
}

// openStore parses store.encryption_key and opens the backend named by
// store.driver.
func openStore(ctx context.Context, cfg config.Store, logger *slog.Logger) (store.Store, error) {
	open, ok := storeOpeners()[cfg.Driver]
	if !ok {
		return nil, fmt.Errorf("open store: unknown driver %q", cfg.Driver)
	}
	key, err := store.ParseKey(cfg.EncryptionKey.Value())
	if err != nil {
		return nil, fmt.Errorf("open store: %w", err)
	}
	sealer, err := store.NewSealer(key)
	if err != nil {
		return nil, fmt.Errorf("open store: %w", err)
	}
	return open(ctx, cfg, sealer, logger)
}

// describeStore names the store for logs and check output, without secrets:
// "bolt ./secondme-bridge.db" or "redis redis://host:6379/0" (password
// replaced by xxxxx).
func describeStore(cfg config.Store) string {
	switch cfg.Driver {
	case config.DriverBolt:
		return "bolt " + cfg.Path
	case config.DriverRedis:
		u, err := url.Parse(cfg.RedisURL.Value())
		if err != nil {
			return "redis (unparsable URL)"
		}
		return "redis " + u.Redacted()
	default:
		return cfg.Driver
	}
}

// newHTTPServer returns the one HTTP server, with timeouts that keep slow
// or idle clients from holding connections. Its error log goes to logger at
// warn level.
func newHTTPServer(h http.Handler, logger *slog.Logger) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
}

// wireComponents is where the process is assembled beyond the store and the
// HTTP server. It is called once by newApp, before Run. The bridge, the
// SecondMe client and the platform adapters are built here from a.cfg:
//
//   - build the SecondMe client (secondme.NewClient with the
//     secondme.* settings) and the bridge on a.store, a.logger and
//     a.registry (a prometheus.Registerer);
//   - register HTTP routes on a.mux (the OAuth callback, Slack HTTP events);
//   - for each enabled platform, pick its factory by name and add it with
//     a.addComponent, so that Run runs it and /readyz checks it.
//
// With no component added (as now), serve runs the HTTP server and the store
// only.
func (a *app) wireComponents(_ context.Context) error {
	a.logger.Debug("components wired", "components", a.componentNames())
	return nil
}
