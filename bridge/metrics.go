package bridge

import (
	"errors"
	"fmt"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/secondme-bridge/secondme-bridge/bridge/text"
)

// Reasons an intermediate update was skipped (label of
// secondme_bridge_updates_skipped_total).
const (
	skipBudget      = "budget"       // a shared budget was empty
	skipPriority    = "priority"     // a final update is waiting for the same budget
	skipRateLimit   = "rate_limited" // the platform answered 429, or we are backing off one
	skipError       = "error"        // the update failed otherwise
	skipNotEditable = "not_editable" // the platform cannot edit messages
)

// metrics are the bridge's Prometheus collectors.
type metrics struct {
	firstText    prometheus.Histogram
	duration     prometheus.Histogram
	updates      prometheus.Histogram
	skipped      *prometheus.CounterVec
	rateLimited  *prometheus.CounterVec
	errors       *prometheus.CounterVec
	unlinked     prometheus.Counter
	activeStream prometheus.Gauge
	queueDepth   prometheus.Gauge
	recovered    *prometheus.CounterVec
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	m := &metrics{
		firstText: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "secondme_bridge_first_text_seconds",
			Help:    "Time from receiving a message to its reply's first visible text.",
			Buckets: []float64{.1, .25, .5, 1, 2, 4, 8, 15, 30, 60},
		}),
		duration: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "secondme_bridge_reply_duration_seconds",
			Help:    "Time from receiving a message to its reply's final state.",
			Buckets: []float64{.5, 1, 2, 5, 10, 20, 40, 80, 160, 320, 600},
		}),
		updates: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "secondme_bridge_reply_updates",
			Help:    "Platform updates (sends, edits, appends) per reply.",
			Buckets: []float64{1, 2, 3, 5, 8, 13, 21, 34, 55, 89},
		}),
		skipped: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "secondme_bridge_updates_skipped_total",
			Help: "Intermediate updates skipped, by reason.",
		}, []string{"reason"}),
		rateLimited: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "secondme_bridge_platform_rate_limited_total",
			Help: "Platform 429 answers, by platform.",
		}, []string{"platform"}),
		errors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "secondme_bridge_errors_total",
			Help: "Errors met while serving users, by kind.",
		}, []string{"kind"}),
		unlinked: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "secondme_bridge_unlinked_requests_total",
			Help: "Messages and commands from users without a linked SecondMe account, answered with the /link invitation. Not an error.",
		}),
		activeStream: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "secondme_bridge_active_streams",
			Help: "Replies streaming right now.",
		}),
		queueDepth: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "secondme_bridge_queue_depth",
			Help: "Messages waiting in conversation queues.",
		}),
		recovered: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "secondme_bridge_recovered_total",
			Help: "Work taken over from stopped processes: cut-off replies finalized (reply), waiting messages adopted (message).",
		}, []string{"what"}),
	}
	if reg == nil {
		return m, nil
	}
	for _, c := range []prometheus.Collector{m.firstText, m.duration, m.updates, m.skipped,
		m.rateLimited, m.errors, m.unlinked, m.activeStream, m.queueDepth, m.recovered} {
		if err := reg.Register(c); err != nil {
			var are prometheus.AlreadyRegisteredError
			if errors.As(err, &are) {
				return nil, fmt.Errorf("register metrics: %w (one Bridge per registry)", err)
			}
			return nil, fmt.Errorf("register metrics: %w", err)
		}
	}
	return m, nil
}

// countFailure counts a request that ended in ue's kind: in errors_total,
// except a user who has not linked yet, which is no error (unlinked).
func (m *metrics) countFailure(kind string) {
	if kind == text.KindNotLinked {
		m.unlinked.Inc()
		return
	}
	m.errors.WithLabelValues(kind).Inc()
}
