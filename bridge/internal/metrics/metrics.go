package metrics

import (
	"errors"
	"fmt"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/secondme-bridge/secondme-bridge/bridge/text"
)

// Reasons an intermediate update was skipped (label of
// secondme_bridge_updates_skipped_total).
const (
	SkipBudget      = "budget"       // a shared budget was empty
	SkipPriority    = "priority"     // a call of a higher class waits for the same budget, which is short
	SkipRateLimit   = "rate_limited" // the platform answered 429, or we are backing off one
	SkipError       = "error"        // the update failed otherwise
	SkipNotEditable = "not_editable" // the platform cannot edit messages
	SkipLate        = "late"         // too late to reserve its budgets ahead: put off a little
)

// Set is the bridge's Prometheus collectors, shared by the engine, the
// renderer and the pacer.
type Set struct {
	FirstText    prometheus.Histogram
	Duration     prometheus.Histogram
	Updates      prometheus.Histogram
	Skipped      *prometheus.CounterVec
	RateLimited  *prometheus.CounterVec
	Errors       *prometheus.CounterVec
	Unlinked     prometheus.Counter
	ActiveStream prometheus.Gauge
	QueueDepth   prometheus.Gauge
	Recovered    *prometheus.CounterVec
	// Attachments counts the files attached to admitted messages, by
	// outcome: AttachRead, AttachTruncated, or "not_read_" and the
	// platforms.NotReadReason.
	Attachments *prometheus.CounterVec
}

// Outcomes of an attachment (label of secondme_bridge_attachments_total)
// besides "not_read_<reason>".
const (
	AttachRead      = "read"      // read whole and sent to the avatar
	AttachTruncated = "truncated" // read up to bridge.max_attachment_bytes and sent with a note
)

// New returns the collectors, registered with reg unless reg is nil.
func New(reg prometheus.Registerer) (*Set, error) {
	m := &Set{
		FirstText: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "secondme_bridge_first_text_seconds",
			Help:    "Time from receiving a message to its reply's first visible text.",
			Buckets: []float64{.1, .25, .5, 1, 2, 4, 8, 15, 30, 60},
		}),
		Duration: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "secondme_bridge_reply_duration_seconds",
			Help:    "Time from receiving a message to its reply's final state.",
			Buckets: []float64{.5, 1, 2, 5, 10, 20, 40, 80, 160, 320, 600},
		}),
		Updates: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "secondme_bridge_reply_updates",
			Help:    "Platform Updates (sends, edits, appends) per reply.",
			Buckets: []float64{1, 2, 3, 5, 8, 13, 21, 34, 55, 89},
		}),
		Skipped: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "secondme_bridge_updates_skipped_total",
			Help: "Intermediate Updates skipped, by reason.",
		}, []string{"reason"}),
		RateLimited: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "secondme_bridge_platform_rate_limited_total",
			Help: "Platform 429 answers, by platform.",
		}, []string{"platform"}),
		Errors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "secondme_bridge_errors_total",
			Help: "Errors met while serving users, by kind.",
		}, []string{"kind"}),
		Unlinked: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "secondme_bridge_unlinked_requests_total",
			Help: "Messages and commands from users without a linked SecondMe account, answered with the /link invitation. Not an error.",
		}),
		ActiveStream: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "secondme_bridge_active_streams",
			Help: "Replies streaming right now.",
		}),
		QueueDepth: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "secondme_bridge_queue_depth",
			Help: "Messages waiting in conversation queues.",
		}),
		Recovered: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "secondme_bridge_recovered_total",
			Help: "Work taken over from stopped processes: cut-off replies finalized (reply), waiting messages adopted (message).",
		}, []string{"what"}),
		Attachments: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "secondme_bridge_attachments_total",
			Help: "Files attached to messages, by outcome: read, truncated, not_read_type, not_read_host, not_read_failed, not_read_limit.",
		}, []string{"outcome"}),
	}
	if reg == nil {
		return m, nil
	}
	for _, c := range []prometheus.Collector{m.FirstText, m.Duration, m.Updates, m.Skipped,
		m.RateLimited, m.Errors, m.Unlinked, m.ActiveStream, m.QueueDepth, m.Recovered, m.Attachments} {
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

// CountFailure counts a request that ended in ue's kind: in errors_total,
// except a user who has not linked yet, which is no error (unlinked).
func (m *Set) CountFailure(kind string) {
	if kind == text.KindNotLinked {
		m.Unlinked.Inc()
		return
	}
	m.Errors.WithLabelValues(kind).Inc()
}

// BudgetCounts are the platform budgets' running totals (budget.Pacer):
// store round trips, platform calls granted their tokens, calls woken
// past their tokens' grace that asked again, and calls woken late twice
// in a row that spent their tokens late.
type BudgetCounts struct {
	RoundTrips, Calls, Lapsed, LateSpends int64
}

// RegisterBudgetCounts registers the budget counters read from counts
// (secondme_bridge_budget_round_trips_total, _calls_total, _lapsed_total
// and _late_spends_total). A nil reg registers nothing.
func RegisterBudgetCounts(reg prometheus.Registerer, counts func() BudgetCounts) error {
	if reg == nil {
		return nil
	}
	for _, c := range []struct {
		name, help string
		read       func(BudgetCounts) int64
	}{
		{"secondme_bridge_budget_round_trips_total", "Store round trips made for platform budgets (reservations, leases, returns); on a store that decides in process (bolt), its decisions.", func(c BudgetCounts) int64 { return c.RoundTrips }},
		{"secondme_bridge_budget_calls_total", "Platform calls granted their budget tokens.", func(c BudgetCounts) int64 { return c.Calls }},
		{"secondme_bridge_budget_lapsed_total", "Platform calls woken past their budget tokens' grace, which let them lapse and asked again (a busy CPU or slow store).", func(c BudgetCounts) int64 { return c.Lapsed }},
		{"secondme_bridge_budget_late_spends_total", "Platform calls woken past their tokens' grace twice in a row, which spent them late (a saturated process).", func(c BudgetCounts) int64 { return c.LateSpends }},
	} {
		read := c.read
		f := prometheus.NewCounterFunc(prometheus.CounterOpts{Name: c.name, Help: c.help}, func() float64 { return float64(read(counts())) })
		if err := reg.Register(f); err != nil {
			return fmt.Errorf("register budget metrics: %w", err)
		}
	}
	return nil
}
