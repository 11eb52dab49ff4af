package main

import (
	"bytes"
	"cmp"
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/secondme-bridge/secondme-bridge/store"
)

// upstreamMetrics measure the HTTP calls to SecondMe, Discord and Slack
// (service label "secondme", "discord", "slack"), by route class: the
// method and the path with every id and token replaced by {x}
// ("PATCH /api/{x}/channels/{x}/messages/{x}", "POST /api/chat.update"),
// so labels stay few and never carry a credential.
type upstreamMetrics struct {
	duration  *prometheus.HistogramVec // time to the answer's headers
	requests  *prometheus.CounterVec   // by HTTP status, or "network" when no answer came
	errors    *prometheus.CounterVec   // failures by code: SecondMe's subCode, else the status, else "network"
	throttled *prometheus.CounterVec   // 429 answers
}

func newUpstreamMetrics() *upstreamMetrics {
	return &upstreamMetrics{
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "secondme_bridge_upstream_request_duration_seconds",
			Help:    "Time from sending a request to SecondMe, Discord or Slack to its answer's headers (first byte of a stream), by service and route class.",
			Buckets: []float64{.025, .05, .1, .25, .5, 1, 2, 4, 8, 15, 30},
		}, []string{"service", "route"}),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "secondme_bridge_upstream_requests_total",
			Help: "Requests to SecondMe, Discord and Slack, by service, route class and HTTP status (\"network\" when no answer came).",
		}, []string{"service", "route", "code"}),
		errors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "secondme_bridge_upstream_errors_total",
			Help: "Failed requests to SecondMe, Discord and Slack (HTTP status 400 and above, or no answer), by service, route class and code: SecondMe's subCode when it sent one, else the HTTP status, else \"network\".",
		}, []string{"service", "route", "code"}),
		throttled: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "secondme_bridge_upstream_throttled_total",
			Help: "429 (rate limited) answers from SecondMe, Discord and Slack, by service and route class.",
		}, []string{"service", "route"}),
	}
}

func (m *upstreamMetrics) register(reg prometheus.Registerer) {
	reg.MustRegister(m.duration, m.requests, m.errors, m.throttled)
}

// client returns an HTTP client for service whose requests m measures,
// on base (http.DefaultTransport when nil), with the given whole-request
// timeout (0: none, for streams).
func (m *upstreamMetrics) client(service string, base http.RoundTripper, timeout time.Duration) *http.Client {
	if base == nil {
		base = http.DefaultTransport
	}
	return &http.Client{Transport: &measuredTransport{service: service, next: base, m: m}, Timeout: timeout}
}

type measuredTransport struct {
	service string
	next    http.RoundTripper
	m       *upstreamMetrics
}

// maxErrorPeek bounds the part of an error answer read for SecondMe's
// subCode (the body is handed on whole).
const maxErrorPeek = 16 << 10

func (t *measuredTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	route := routeClass(req.Method, req.URL.Path)
	start := time.Now()
	resp, err := t.next.RoundTrip(req)
	t.m.duration.WithLabelValues(t.service, route).Observe(time.Since(start).Seconds())
	// Every route that was called shows its 429 series, at 0 until the
	// first one, so rates and alerts work from the start.
	errs := t.m.errors
	throttled := t.m.throttled.WithLabelValues(t.service, route)
	if err != nil {
		t.m.requests.WithLabelValues(t.service, route, "network").Inc()
		errs.WithLabelValues(t.service, route, "network").Inc()
		return nil, err
	}
	code := strconv.Itoa(resp.StatusCode)
	t.m.requests.WithLabelValues(t.service, route, code).Inc()
	if resp.StatusCode == http.StatusTooManyRequests {
		throttled.Inc()
	}
	if resp.StatusCode < 400 {
		return resp, nil
	}
	if t.service == svcSecondMe {
		code = peekSubCode(resp, code)
	}
	errs.WithLabelValues(t.service, route, code).Inc()
	return resp, nil
}

// peekSubCode reads SecondMe's subCode (or error_code) from an error
// answer, leaving the body readable; fallback when there is none.
func peekSubCode(resp *http.Response, fallback string) string {
	head, err := io.ReadAll(io.LimitReader(resp.Body, maxErrorPeek))
	resp.Body = readCloser{io.MultiReader(bytes.NewReader(head), errReader{err}, resp.Body), resp.Body}
	var env struct {
		SubCode   string `json:"subCode"`
		ErrorCode string `json:"error_code"`
	}
	if json.Unmarshal(head, &env) != nil {
		return fallback
	}
	code := cmp.Or(env.SubCode, env.ErrorCode)
	if code == "" || len(code) > 64 || strings.ContainsAny(code, " \n\"{}") {
		return fallback
	}
	return code
}

// routeClass is the method and the path with every segment that is not a
// plain word (letters, '@', '.', '_', '-'; at most 40 of them) replaced by
// {x}: ids, snowflakes, tokens and versions.
func routeClass(method, path string) string {
	segs := strings.Split(strings.Trim(path, "/"), "/")
	for i, s := range segs {
		if !plainWord(s) {
			segs[i] = "{x}"
		}
	}
	return method + " /" + strings.Join(segs, "/")
}

func plainWord(s string) bool {
	if s == "" || len(s) > 40 {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r == '@' || r == '.' || r == '_' || r == '-') {
			return false
		}
	}
	return true
}

// storeMetrics measure the store's round trips (Redis commands and
// pipelines, bolt transactions).
type storeMetrics struct {
	duration *prometheus.HistogramVec
	errors   *prometheus.CounterVec
}

func newStoreMetrics() *storeMetrics {
	return &storeMetrics{
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "secondme_bridge_store_round_trip_seconds",
			Help:    "Duration of one store round trip (a Redis command or pipeline, a bolt transaction), by driver and operation.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1},
		}, []string{"driver", "op"}),
		errors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "secondme_bridge_store_errors_total",
			Help: "Failed store round trips (a missing key is no failure), by driver and operation.",
		}, []string{"driver", "op"}),
	}
}

func (m *storeMetrics) register(reg prometheus.Registerer) {
	reg.MustRegister(m.duration, m.errors)
}

// observer returns the store.Observer that feeds m for driver.
func (m *storeMetrics) observer(driver string) store.Observer {
	return func(op string, took time.Duration, err error) {
		m.duration.WithLabelValues(driver, op).Observe(took.Seconds())
		c := m.errors.WithLabelValues(driver, op) // shown at 0 until the first failure
		if err != nil {
			c.Inc()
		}
	}
}
