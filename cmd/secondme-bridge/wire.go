package main

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"time"

	"github.com/secondme-bridge/secondme-bridge/bridge"
	"github.com/secondme-bridge/secondme-bridge/bridge/linking"
	"github.com/secondme-bridge/secondme-bridge/internal/config"
	"github.com/secondme-bridge/secondme-bridge/secondme"
	"github.com/secondme-bridge/secondme-bridge/store"
	"github.com/secondme-bridge/secondme-bridge/store/bolt"
	"github.com/secondme-bridge/secondme-bridge/store/redis"
)

// storeOpener opens one store backend. Both backends encrypt tokens with
// sealer.
type storeOpener func(ctx context.Context, cfg config.Store, sealer *store.Sealer, logger *slog.Logger, obs store.Observer) (store.Store, error)

// storeOpeners is the name → factory map of store backends (store.driver).
// It lives here, in cmd, so that store/ imports no backend (STYLE.md §4.1).
func storeOpeners() map[string]storeOpener {
	return map[string]storeOpener{
		config.DriverBolt: func(_ context.Context, cfg config.Store, sealer *store.Sealer, logger *slog.Logger, obs store.Observer) (store.Store, error) {
			// One process has the file: its budget decisions live in
			// memory, never fsynced; a restart starts with full buckets.
			st, err := bolt.Open(cfg.Path, sealer, bolt.Options{Logger: logger, Observe: obs, BudgetsInMemory: true})
			if err != nil {
				return nil, err // already names the file
			}
			return st, nil
		},
		config.DriverRedis: func(ctx context.Context, cfg config.Store, sealer *store.Sealer, logger *slog.Logger, obs store.Observer) (store.Store, error) {
			st, err := redis.Open(ctx, cfg.RedisURL.Value(), sealer, redis.Options{KeyPrefix: cfg.KeyPrefix, Logger: logger, Observe: obs})
			if err != nil {
				return nil, err
			}
			return st, nil
		},
	}
}

// openStore parses store.encryption_key and store.previous_encryption_keys
// and opens the backend named by store.driver.
func openStore(ctx context.Context, cfg config.Store, logger *slog.Logger) (store.Store, error) {
	return openStoreObserved(ctx, cfg, logger, nil)
}

// openStoreObserved is openStore with every round trip reported to obs
// (nil: none).
func openStoreObserved(ctx context.Context, cfg config.Store, logger *slog.Logger, obs store.Observer) (store.Store, error) {
	open, ok := storeOpeners()[cfg.Driver]
	if !ok {
		return nil, fmt.Errorf("open store: unknown driver %q", cfg.Driver)
	}
	key, err := store.ParseKey(cfg.EncryptionKey.Value())
	if err != nil {
		return nil, fmt.Errorf("open store: %w", err)
	}
	var previous [][]byte
	for i, v := range cfg.PreviousEncryptionKeys.Values() {
		k, err := store.ParseKey(v)
		if err != nil {
			return nil, fmt.Errorf("open store: store.previous_encryption_keys[%d]: %w", i, err)
		}
		previous = append(previous, k)
	}
	sealer, err := store.NewSealer(key, previous...)
	if err != nil {
		return nil, fmt.Errorf("open store: %w", err)
	}
	return open(ctx, cfg, sealer, logger, obs)
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

// wireComponents assembles the process beyond the store and the HTTP
// server, from a.cfg: the SecondMe client, account linking (its routes on
// a.mux), the bridge, and one adapter per enabled platform, picked from
// platformFactories. The bridge is the one component: it runs every adapter
// and its own workers, and is ready when every adapter is connected.
func (a *app) wireComponents(_ context.Context) error {
	sm, err := newSecondMeClient(a.cfg, a.upstream.client(svcSecondMe, secondme.LimitNewConns(secondme.NewTransport(0), 0), 0))
	if err != nil {
		return err
	}
	linker, err := linking.New(linking.LinkerConfig{
		PublicURL: a.cfg.HTTP.PublicURL,
		LinkTTL:   a.cfg.Bridge.LinkTTL,
		Store:     a.store,
		SecondMe:  sm,
		Logger:    a.logger,
		Owner:     a.instanceID,
		Metrics:   a.registry,
		Platforms: linkPlatforms(),
	})
	if err != nil {
		return fmt.Errorf("build linker: %w", err)
	}
	linker.Routes(a.mux)

	b, err := bridge.New(bridge.Config{
		Store:         a.store,
		SecondMe:      sm,
		Linker:        linker,
		Logger:        a.logger,
		Registerer:    a.registry,
		InstanceID:    a.instanceID,
		AppID:         a.cfg.SecondMe.AppID,
		Model:         a.cfg.SecondMe.Model,
		MaxTokens:     a.cfg.SecondMe.MaxTokens,
		SystemPrompt:  a.cfg.Bridge.SystemPrompt,
		EditInterval:  a.cfg.Bridge.EditInterval,
		SessionTTL:    a.cfg.Bridge.SessionTTL,
		MaxInputChars: a.cfg.Bridge.MaxInputChars,
		QueueSize:     a.cfg.Bridge.QueueSize,
		UserRateLimit: a.cfg.Bridge.UserRateLimit,
		ReplyAs:       bridge.ReplyAs(a.cfg.Bridge.ReplyAs),
		StreamTimeout: a.cfg.SecondMe.StreamTimeout,
	})
	if err != nil {
		return fmt.Errorf("build bridge: %w", err)
	}
	linker.SetNotifier(b)

	for _, f := range platformFactories() {
		if !f.enabled(a.cfg) {
			continue
		}
		p, err := f.build(a.cfg, a.logger, a.mux, a.upstream.client(f.name, platformTransport(), f.timeout))
		if err != nil {
			return fmt.Errorf("build %s adapter: %w", f.name, err)
		}
		if err := a.wireDiscordShards(p); err != nil {
			return fmt.Errorf("wire discord shards: %w", err)
		}
		a.wireDiscordMetrics(p)
		if err := a.wireSlackInstalls(p); err != nil {
			return fmt.Errorf("wire slack installs: %w", err)
		}
		if err := b.AddPlatform(p); err != nil {
			return fmt.Errorf("add %s adapter: %w", f.name, err)
		}
		a.addPlatform(p.Name(), p.Ready)
		a.live.platforms = append(a.live.platforms, p)
	}
	a.live.bridge = b
	a.addComponent(bridgeComponent{b})
	a.logger.Debug("components wired", "components", a.componentNames())
	return nil
}

// bridgeComponent runs the bridge (and through it every adapter) as one
// component.
type bridgeComponent struct{ b *bridge.Bridge }

func (c bridgeComponent) Name() string                  { return "bridge" }
func (c bridgeComponent) Run(ctx context.Context) error { return c.b.Run(ctx) }
func (c bridgeComponent) Ready() bool                   { return c.b.Ready() }

// hiddenFromReadyz: /readyz checks each platform of the bridge instead.
func (c bridgeComponent) hiddenFromReadyz() {}

// newSecondMeClient builds the one SecondMe client from the secondme.*
// settings. hc is nil for check (the client's default transport), and in
// serve a client on that same transport that measures every call
// (metrics_calls.go); never with a whole-request timeout, which would cut
// long streams.
func newSecondMeClient(cfg config.Config, hc *http.Client) (*secondme.Client, error) {
	opts := []secondme.Option{
		secondme.WithBaseURL(cfg.SecondMe.APIURL),
		secondme.WithAppID(cfg.SecondMe.AppID),
		secondme.WithOAuth(cfg.SecondMe.OAuth.ClientID, cfg.SecondMe.OAuth.ClientSecret.Value(), cfg.SecondMe.OAuth.AuthorizeURL),
		secondme.WithTimeout(cfg.SecondMe.RequestTimeout),
		secondme.WithIdleTimeout(cfg.SecondMe.StreamIdleTimeout),
		secondme.WithUserAgent("secondme-bridge/" + version),
	}
	if hc != nil {
		opts = append(opts, secondme.WithHTTPClient(hc))
	}
	c, err := secondme.NewClient(opts...)
	if err != nil {
		return nil, fmt.Errorf("build secondme client: %w", err)
	}
	return c, nil
}
