package main

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"runtime"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// readyzTimeout bounds the store ping of one /readyz probe.
const readyzTimeout = 2 * time.Second

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

// routes registers the app's own endpoints. Other packages add theirs to
// a.mux (OAuth callback, Slack HTTP events) from wireComponents.
func (a *app) routes() {
	a.mux.HandleFunc("GET /healthz", handleHealthz)
	a.mux.HandleFunc("GET /readyz", a.handleReadyz)
	a.mux.Handle("GET /metrics", promhttp.HandlerFor(a.registry, promhttp.HandlerOpts{Registry: a.registry}))
}

// handleHealthz answers 200 "ok" as long as the process serves HTTP.
func handleHealthz(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	_, _ = w.Write([]byte("ok\n"))
}

// readyCheck is one line of the /readyz body.
type readyCheck struct {
	Name  string `json:"name"`
	OK    bool   `json:"ok"`
	Error string `json:"error,omitempty"`
	// Detail is what a component that has a ReadyDetail method says
	// about itself (the Discord shards a replica holds).
	Detail string `json:"detail,omitempty"`
}

// handleReadyz answers 200 when the store answers a ping and every
// component is ready, 503 otherwise. The JSON body lists each check:
//
//	{"ready":false,"checks":[{"name":"store","ok":true},{"name":"discord","ok":false,"error":"not ready"}]}
func (a *app) handleReadyz(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), readyzTimeout)
	defer cancel()
	ready := true
	checks := []readyCheck{{Name: "store", OK: true}}
	if err := a.store.Ping(ctx); err != nil {
		ready = false
		checks[0] = readyCheck{Name: "store", Error: err.Error()}
	}
	for _, c := range a.components {
		ok := c.Ready()
		rc := readyCheck{Name: c.Name(), OK: ok}
		if !ok {
			ready = false
			rc.Error = "not ready"
		}
		if d, ok := c.(interface{ ReadyDetail() string }); ok {
			rc.Detail = d.ReadyDetail()
		}
		checks = append(checks, rc)
	}
	status := http.StatusOK
	if !ready {
		status = http.StatusServiceUnavailable
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(struct {
		Ready  bool         `json:"ready"`
		Checks []readyCheck `json:"checks"`
	}{ready, checks})
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
