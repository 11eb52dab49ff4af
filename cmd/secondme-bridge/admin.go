package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/pprof"

	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// routes registers the app's own endpoints. Other packages add theirs to
// a.mux (link pages, OAuth callback, Slack HTTP events) from
// wireComponents.
//
// Without http.admin_listen, the one listener serves /healthz, the detailed
// /readyz and /metrics (never pprof). With it, the public listener serves
// /healthz and a /readyz without error text, and the admin listener serves
// /healthz, the detailed /readyz, /metrics and /debug/pprof/.
func (a *app) routes() {
	a.mux.HandleFunc("GET /healthz", handleHealthz)
	metrics := promhttp.HandlerFor(a.registry, promhttp.HandlerOpts{Registry: a.registry})
	if a.cfg.HTTP.AdminListen == "" {
		a.mux.HandleFunc("GET /readyz", a.handleReadyz(true))
		a.mux.Handle("GET /metrics", metrics)
		return
	}
	a.mux.HandleFunc("GET /readyz", a.handleReadyz(false))
	m := http.NewServeMux()
	m.HandleFunc("GET /healthz", handleHealthz)
	m.HandleFunc("GET /readyz", a.handleReadyz(true))
	m.Handle("GET /metrics", metrics)
	m.HandleFunc("GET /debug/pprof/", pprof.Index)
	m.HandleFunc("GET /debug/pprof/cmdline", pprof.Cmdline)
	m.HandleFunc("GET /debug/pprof/profile", pprof.Profile)
	m.HandleFunc("GET /debug/pprof/symbol", pprof.Symbol)
	m.HandleFunc("GET /debug/pprof/trace", pprof.Trace)
	a.adminMux = m
}

// listenAdmin binds http.admin_listen, when set.
func (a *app) listenAdmin() error {
	if a.adminMux == nil {
		return nil
	}
	ln, err := net.Listen("tcp", a.cfg.HTTP.AdminListen)
	if err != nil {
		return fmt.Errorf("listen on %s (http.admin_listen): %w", a.cfg.HTTP.AdminListen, err)
	}
	a.adminListener = ln
	srv := newHTTPServer(a.adminMux, a.logger)
	// CPU profiles and traces stream for as long as asked (?seconds=N).
	srv.WriteTimeout = 0
	a.adminServer = srv
	return nil
}

// AdminAddr is the address of the admin listener (nil without one).
func (a *app) AdminAddr() net.Addr {
	if a.adminListener == nil {
		return nil
	}
	return a.adminListener.Addr()
}

// serveAdmin serves the admin listener until ctx is done, then shuts it
// down (it has no long requests worth waiting for beyond a profile).
func (a *app) serveAdmin(ctx context.Context) error {
	errc := make(chan error, 1)
	go func() {
		a.logger.Info("admin http server listening", "addr", a.AdminAddr().String())
		errc <- a.adminServer.Serve(a.adminListener)
	}()
	select {
	case err := <-errc:
		return fmt.Errorf("serve admin http: %w", err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), a.cfg.HTTP.ShutdownTimeout)
	defer cancel()
	if err := a.adminServer.Shutdown(sctx); err != nil {
		return fmt.Errorf("shut down admin http server: %w", err)
	}
	if err := <-errc; !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("serve admin http: %w", err)
	}
	return nil
}
