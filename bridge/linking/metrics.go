package linking

import (
	"errors"
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
)

// Results of link_completed_total.
const (
	resultSuccess        = "success"
	resultDenied         = "denied"
	resultExpired        = "expired"
	resultExchangeFailed = "exchange_failed"
	resultError          = "error"
	resultWrongBrowser   = "wrong_browser"
)

// Results of token_refresh_total.
const (
	refreshSuccess = "success"
	refreshBroken  = "relink_required"
	refreshError   = "error"
)

type metrics struct {
	started   prometheus.Counter
	completed *prometheus.CounterVec
	refresh   *prometheus.CounterVec
}

// newMetrics creates the linking metrics and registers them on reg when reg
// is non-nil. A collector already registered (a second Linker on the same
// registry) is reused.
func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	m := &metrics{
		started: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: "secondme_bridge",
			Name:      "link_started_total",
			Help:      "One-time /link URLs created.",
		}),
		completed: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "secondme_bridge",
			Name:      "link_completed_total",
			Help:      "OAuth callbacks by result (success, denied, expired, exchange_failed, wrong_browser, error).",
		}, []string{"result"}),
		refresh: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "secondme_bridge",
			Name:      "token_refresh_total",
			Help:      "SecondMe token refresh calls by result (success, relink_required, error).",
		}, []string{"result"}),
	}
	if reg == nil {
		return m, nil
	}
	var err error
	if m.started, err = register(reg, m.started); err != nil {
		return nil, err
	}
	if m.completed, err = register(reg, m.completed); err != nil {
		return nil, err
	}
	if m.refresh, err = register(reg, m.refresh); err != nil {
		return nil, err
	}
	return m, nil
}

func register[C prometheus.Collector](reg prometheus.Registerer, c C) (C, error) {
	err := reg.Register(c)
	if err == nil {
		return c, nil
	}
	var are prometheus.AlreadyRegisteredError
	if errors.As(err, &are) {
		if existing, ok := are.ExistingCollector.(C); ok {
			return existing, nil
		}
	}
	return c, fmt.Errorf("register linking metrics: %w", err)
}
