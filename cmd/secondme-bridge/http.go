package main

import (
	"log/slog"
	"net/http"
	"runtime"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// newRegistry returns the process's own metrics registry (never the global
// default one) with the Go and process collectors and a build-info gauge.
func newRegistry() *prometheus.Registry {
	reg := prometheus.NewRegistry()
	reg.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	)
	info := prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "secondme_bridge_build_info",
		Help: "Always 1; the labels describe the running build.",
	}, []string{"version", "commit", "goversion"})
	info.WithLabelValues(version, buildCommit(), runtime.Version()).Set(1)
	reg.MustRegister(info)
	return reg
}

// handleHealthz answers 200 "ok" as long as the process serves HTTP.
func handleHealthz(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	_, _ = w.Write([]byte("ok\n"))
}

// handler wraps the mux with request metrics and a debug access log. The
// log line has the path but never the query (it may carry OAuth codes and
// states), and only at debug level (paths may carry one-time link ids).
func (a *app) handler() http.Handler {
	requests := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "secondme_bridge_http_requests_total",
		Help: "HTTP requests served, by route pattern and status code.",
	}, []string{"pattern", "code"})
	duration := prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "secondme_bridge_http_request_duration_seconds",
		Help:    "Time to serve an HTTP request, by route pattern.",
		Buckets: prometheus.DefBuckets,
	}, []string{"pattern"})
	a.registry.MustRegister(requests, duration)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w, status: http.StatusOK}
		a.mux.ServeHTTP(sw, r)
		pattern := r.Pattern // set by the ServeMux on this request
		if pattern == "" {
			pattern = "unmatched"
		}
		elapsed := time.Since(start)
		requests.WithLabelValues(pattern, strconv.Itoa(sw.status)).Inc()
		duration.WithLabelValues(pattern).Observe(elapsed.Seconds())
		// The route pattern, never the path: /link/{id} carries a one-time
		// credential, and query strings carry OAuth codes and states.
		a.logger.LogAttrs(r.Context(), slog.LevelDebug, "http request",
			slog.String("method", r.Method), slog.String("pattern", pattern),
			slog.Int("status", sw.status), slog.Duration("duration", elapsed))
	})
}

// statusWriter records the status code. It forwards Flush (for streaming
// handlers) and exposes the underlying writer to http.ResponseController.
type statusWriter struct {
	http.ResponseWriter
	status      int
	wroteHeader bool
}

func (w *statusWriter) WriteHeader(code int) {
	if !w.wroteHeader {
		w.status, w.wroteHeader = code, true
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	w.wroteHeader = true
	return w.ResponseWriter.Write(b)
}

func (w *statusWriter) Flush() {
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
