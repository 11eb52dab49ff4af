package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"sort"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/sync/errgroup"

	"github.com/secondme-bridge/secondme-bridge/internal/config"
	"github.com/secondme-bridge/secondme-bridge/store"
)

// component is anything that runs for the life of the process beside the
// HTTP server: platform connections, the bridge's workers, sweepers.
type component interface {
	// Name identifies the component in logs, errors and /readyz.
	Name() string
	// Run blocks until ctx is done (then it returns nil, promptly: the
	// shutdown deadline is http.shutdown_timeout) or the component fails
	// for good (then it returns the error, which stops the whole app). It
	// is called once, on its own goroutine.
	Run(ctx context.Context) error
	// Ready reports whether the component is currently able to serve (for
	// /readyz). It must be cheap and safe to call concurrently with Run.
	Ready() bool
}

// app is one running bridge: the store, the HTTP server and its mux, the
// metrics registry and the components, built from a validated Config.
type app struct {
	cfg    config.Config
	logger *slog.Logger
	// instanceID is bridge.instance_id, or hostname-<random> when that is
	// empty: this replica's owner name for store locks and in logs.
	instanceID string
	store      store.Store
	storeDesc  string // "bolt ./x.db", "redis redis://host:6379/0" (no password)
	mux        *http.ServeMux
	registry   *prometheus.Registry
	// upstream measures the calls to SecondMe and the platforms.
	upstream   *upstreamMetrics
	server     *http.Server
	listener   net.Listener
	components []component
	// live is what a config reload changes in the running parts
	// (reload.go).
	live liveParts
	// platforms are the platform connections /readyz checks (readyz.go).
	platforms []*platformStatus
	// adminMux, adminServer and adminListener serve http.admin_listen
	// (admin.go); all nil when it is not set.
	adminMux      *http.ServeMux
	adminServer   *http.Server
	adminListener net.Listener

	closeOnce sync.Once
	closeErr  error
}

// newApp opens the store, binds the HTTP listener and wires every
// component (wire.go). On error everything opened so far is closed. The
// caller runs the app with Run and must Close it afterwards.
func newApp(ctx context.Context, cfg config.Config, logger *slog.Logger) (*app, error) {
	sm := newStoreMetrics()
	st, err := openStoreObserved(ctx, cfg.Store, logger, sm.observer(cfg.Store.Driver))
	if err != nil {
		return nil, err
	}
	a, err := newAppWithStore(cfg, logger, st)
	if err != nil {
		_ = st.Close() // the first error is the one to report
		return nil, err
	}
	sm.register(a.registry)
	if err := a.wireComponents(ctx); err != nil {
		_ = a.Close()
		return nil, fmt.Errorf("wire components: %w", err)
	}
	return a, nil
}

// newAppWithStore builds the app around an already open store (which the
// app then owns and closes): metrics registry, mux with the health, readiness
// and metrics routes, and the bound listener. It adds no components.
func newAppWithStore(cfg config.Config, logger *slog.Logger, st store.Store) (*app, error) {
	a := &app{
		cfg:        cfg,
		logger:     logger,
		instanceID: cfg.Bridge.InstanceID,
		store:      st,
		storeDesc:  describeStore(cfg.Store),
		mux:        http.NewServeMux(),
		registry:   newRegistry(),
		upstream:   newUpstreamMetrics(),
	}
	a.upstream.register(a.registry)
	if a.instanceID == "" {
		a.instanceID = defaultInstanceID()
	}
	a.routes()
	ln, err := net.Listen("tcp", cfg.HTTP.Listen)
	if err != nil {
		return nil, fmt.Errorf("listen on %s: %w", cfg.HTTP.Listen, err)
	}
	a.listener = ln
	if err := a.listenAdmin(); err != nil {
		_ = ln.Close()
		return nil, err
	}
	a.server = newHTTPServer(a.handler(), logger)
	return a, nil
}

// addComponent registers c to be run by Run and checked by /readyz. Call it
// before Run.
func (a *app) addComponent(c component) { a.components = append(a.components, c) }

// Addr is the address the HTTP server listens on.
func (a *app) Addr() net.Addr { return a.listener.Addr() }

// Run serves HTTP and runs every component in one run group until ctx is
// done or one of them fails. Then it shuts the HTTP server down gracefully
// and waits up to http.shutdown_timeout for the components to return. It
// returns nil after a clean shutdown caused by ctx, otherwise the first
// failure (or a timeout error naming the components still running). It does
// not close the store: call Close.
func (a *app) Run(ctx context.Context) error {
	var running sync.Map // component name → struct{}
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error {
		a.logger.Info("http server listening", "addr", a.Addr().String())
		if err := a.server.Serve(a.listener); !errors.Is(err, http.ErrServerClosed) {
			return fmt.Errorf("serve http: %w", err)
		}
		return nil
	})
	g.Go(func() error {
		<-gctx.Done()
		sctx, cancel := context.WithTimeout(context.WithoutCancel(gctx), a.cfg.HTTP.ShutdownTimeout)
		defer cancel()
		if err := a.server.Shutdown(sctx); err != nil {
			return fmt.Errorf("shut down http server: %w", err)
		}
		return nil
	})
	if a.adminServer != nil {
		g.Go(func() error { return a.serveAdmin(gctx) })
	}
	g.Go(func() error { a.watchPlatforms(gctx); return nil })
	for _, c := range a.components {
		running.Store(c.Name(), struct{}{})
		g.Go(func() error {
			defer running.Delete(c.Name())
			a.logger.Info("component starting", "component", c.Name())
			if err := c.Run(gctx); err != nil {
				return fmt.Errorf("run %s: %w", c.Name(), err)
			}
			a.logger.Info("component stopped", "component", c.Name())
			return nil
		})
	}

	done := make(chan error, 1)
	go func() { done <- g.Wait() }()
	select {
	case err := <-done:
		return err
	case <-gctx.Done():
	}
	a.logger.Info("shutting down", "timeout", a.cfg.HTTP.ShutdownTimeout.String())
	timer := time.NewTimer(a.cfg.HTTP.ShutdownTimeout)
	defer timer.Stop()
	select {
	case err := <-done:
		return err
	case <-timer.C:
		var names []string
		running.Range(func(k, _ any) bool { names = append(names, k.(string)); return true })
		sort.Strings(names)
		return fmt.Errorf("shut down: still running after %s: %v", a.cfg.HTTP.ShutdownTimeout, names)
	}
}

// Close releases the listener (if Run never served it) and the store. It is
// idempotent.
func (a *app) Close() error {
	a.closeOnce.Do(func() {
		_ = a.listener.Close() // already closed by Shutdown when Run served it
		if a.adminListener != nil {
			_ = a.adminListener.Close()
		}
		if err := a.store.Close(); err != nil && !errors.Is(err, store.ErrClosed) {
			a.closeErr = fmt.Errorf("close store: %w", err)
		}
	})
	return a.closeErr
}

// componentNames lists the components, for logs.
func (a *app) componentNames() []string {
	names := make([]string, 0, len(a.components))
	for _, c := range a.components {
		names = append(names, c.Name())
	}
	return names
}

// defaultInstanceID is hostname-<6 random hex>, unique per process.
func defaultInstanceID() string {
	host, err := os.Hostname()
	if err != nil || host == "" {
		host = "bridge"
	}
	var b [3]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails
	return host + "-" + hex.EncodeToString(b[:])
}
