package main

import (
	"encoding/json"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/secondme-bridge/secondme-bridge/platforms/discord/discordtest"
	"github.com/secondme-bridge/secondme-bridge/secondme/secondmetest"
)

const (
	dashboardFile = "../../deploy/observability/grafana-dashboard.json"
	alertsFile    = "../../deploy/observability/prometheus-alerts.yaml"
)

// dashboardExprs returns every PromQL expression of the Grafana dashboard.
func dashboardExprs(t *testing.T) map[string]string {
	t.Helper()
	raw, err := os.ReadFile(dashboardFile)
	if err != nil {
		t.Fatal(err)
	}
	var d struct {
		Title  string `json:"title"`
		Panels []struct {
			Title   string `json:"title"`
			Targets []struct {
				Expr string `json:"expr"`
			} `json:"targets"`
		} `json:"panels"`
	}
	if err := json.Unmarshal(raw, &d); err != nil {
		t.Fatalf("%s: %v", dashboardFile, err)
	}
	exprs := map[string]string{}
	for _, p := range d.Panels {
		if len(p.Targets) == 0 {
			t.Errorf("dashboard panel %q has no query", p.Title)
		}
		for i, tg := range p.Targets {
			exprs["panel "+p.Title+" #"+string(rune('A'+i))] = tg.Expr
		}
	}
	if len(exprs) < 10 {
		t.Fatalf("dashboard has only %d queries", len(exprs))
	}
	return exprs
}

// alertExprs returns every alert's expression, by alert name.
func alertExprs(t *testing.T) map[string]string {
	t.Helper()
	raw, err := os.ReadFile(alertsFile)
	if err != nil {
		t.Fatal(err)
	}
	var f struct {
		Groups []struct {
			Name  string `yaml:"name"`
			Rules []struct {
				Alert       string            `yaml:"alert"`
				Expr        string            `yaml:"expr"`
				For         string            `yaml:"for"`
				Labels      map[string]string `yaml:"labels"`
				Annotations map[string]string `yaml:"annotations"`
			} `yaml:"rules"`
		} `yaml:"groups"`
	}
	dec := yaml.NewDecoder(strings.NewReader(string(raw)))
	dec.KnownFields(true)
	if err := dec.Decode(&f); err != nil {
		t.Fatalf("%s: %v", alertsFile, err)
	}
	exprs := map[string]string{}
	for _, g := range f.Groups {
		for _, r := range g.Rules {
			if r.Alert == "" || r.Expr == "" || r.Labels["severity"] == "" || r.Annotations["summary"] == "" {
				t.Errorf("rule %+v lacks a name, expression, severity or summary", r)
			}
			if _, err := time.ParseDuration(r.For); err != nil {
				t.Errorf("alert %s: for %q: %v", r.Alert, r.For, err)
			}
			exprs["alert "+r.Alert] = r.Expr
		}
	}
	for _, want := range []string{"SecondMeBridgeStuckReplies", "SecondMeBridgePlatform429Rate", "SecondMeBridgeUpstreamErrorRate", "SecondMeBridgeNoPlatformConnection"} {
		if exprs["alert "+want] == "" {
			t.Errorf("no alert %s", want)
		}
	}
	return exprs
}

// scrape is the metric families of a /metrics answer: name → label names.
type scrape map[string]map[string]bool

func parseScrape(text string) scrape {
	s := scrape{}
	sample := regexp.MustCompile(`^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{([^}]*)\})? `)
	label := regexp.MustCompile(`([a-zA-Z_][a-zA-Z0-9_]*)="`)
	for _, line := range strings.Split(text, "\n") {
		m := sample.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		name := m[1]
		if s[name] == nil {
			s[name] = map[string]bool{}
		}
		for _, l := range label.FindAllStringSubmatch(m[3], -1) {
			s[name][l[1]] = true
		}
	}
	return s
}

var (
	metricRef  = regexp.MustCompile(`\b((?:secondme_bridge|go|process)_[a-zA-Z0-9_:]*)(\{([^}]*)\})?`)
	matcherRef = regexp.MustCompile(`([a-zA-Z_][a-zA-Z0-9_]*)\s*(?:=~|!~|!=|=)\s*"`)
	byRef      = regexp.MustCompile(`\b(?:by|without)\s*\(([^)]*)\)`)
)

// targetLabels are added by Prometheus when it scrapes, not by the binary.
var targetLabels = map[string]bool{"job": true, "instance": true, "le": true}

// checkExpr reports every metric (and label) expr uses that the scrape
// lacks.
func checkExpr(t *testing.T, where, expr string, s scrape) {
	t.Helper()
	refs := metricRef.FindAllStringSubmatch(expr, -1)
	if len(refs) == 0 {
		t.Errorf("%s: no secondme-bridge metric in %q", where, expr)
	}
	var labelsOf []map[string]bool
	for _, r := range refs {
		name := r[1]
		labels, ok := s[name]
		if !ok {
			t.Errorf("%s: %s is not exported by the binary", where, name)
			continue
		}
		labelsOf = append(labelsOf, labels)
		for _, m := range matcherRef.FindAllStringSubmatch(r[3], -1) {
			if !labels[m[1]] && !targetLabels[m[1]] {
				t.Errorf("%s: %s has no label %q", where, name, m[1])
			}
		}
	}
	for _, b := range byRef.FindAllStringSubmatch(expr, -1) {
		for _, l := range strings.Split(b[1], ",") {
			l = strings.TrimSpace(l)
			if l == "" || targetLabels[l] {
				continue
			}
			if !slices.ContainsFunc(labelsOf, func(ls map[string]bool) bool { return ls[l] }) {
				t.Errorf("%s: aggregates by %q, a label none of its metrics has: %q", where, l, expr)
			}
		}
	}
}

// TestObservabilityFilesUseExportedMetrics loads the Grafana dashboard and
// the Prometheus alert rules and checks that every metric (and label) they
// query is exported by a running instance: the real serve command against
// the fakes, driven through a link, a streamed reply, a Discord 429 and a
// SecondMe failure so that every series exists.
func TestObservabilityFilesUseExportedMetrics(t *testing.T) {
	t.Parallel()
	exprs := dashboardExprs(t)
	for k, v := range alertExprs(t) {
		exprs[k] = v
	}
	e := startE2E(t, e2eOptions{discord: true})
	u := discordtest.DefaultUser
	linkDiscordUser(t, e, u, "42", "Ada Lovelace")

	// A reply whose first edit is answered 429 (an intermediate update is
	// skipped, the platform call is counted as throttled).
	e.dc.FailNext("PATCH", "/channels/{id}/messages/{mid}", 429, 1)
	deltas := []string{"one ", "two ", "three ", "four ", "five."}
	e.sm.QueueStream(secondmetest.Script{Deltas: deltas, Delay: 150 * time.Millisecond})
	if _, _, err := e.dc.MentionAndWait(waitCtx(t), discordtest.DefaultGuildID, discordtest.DefaultChannelID, u, "hi", time.Second); err != nil {
		t.Fatalf("mention: %v\n%s", err, e.logs)
	}
	// A SecondMe failure (errors by code).
	fail := secondmetest.ErrorResponse(500, "internal.error", "boom")
	e.sm.QueueStream(secondmetest.Script{Response: &fail})
	e.sm.QueueStream(secondmetest.Script{Response: &fail})
	if _, _, err := e.dc.MentionAndWait(waitCtx(t), discordtest.DefaultGuildID, discordtest.DefaultChannelID, u, "again", time.Second); err != nil {
		t.Fatalf("mention: %v\n%s", err, e.logs)
	}
	// A user who has not linked (not an error): told privately.
	if _, err := e.dc.Mention(discordtest.DefaultGuildID, discordtest.DefaultChannelID, discordtest.User{ID: "777", Username: "grace"}, "hello?"); err != nil {
		t.Fatalf("mention: %v", err)
	}
	var text string
	waitFor(t, "the unlinked request to be counted", func() bool {
		_, text = get(t, e.base+"/metrics")
		return strings.Contains(text, "secondme_bridge_unlinked_requests_total 1")
	})
	s := parseScrape(text)
	// Histograms are queried by their series (_bucket, _sum, _count).
	for name, labels := range s {
		for _, suffix := range []string{"_bucket", "_sum", "_count"} {
			if base, ok := strings.CutSuffix(name, suffix); ok && s[base] == nil {
				s[base] = labels
			}
		}
	}
	for where, expr := range exprs {
		checkExpr(t, where, expr, s)
	}
	for _, want := range []string{
		`secondme_bridge_upstream_throttled_total{route="PATCH /api/{x}/channels/{x}/messages/{x}",service="discord"} 1`,
		`secondme_bridge_upstream_errors_total{code="internal.error",route="POST /api/secondme/chat/stream",service="secondme"}`,
		`secondme_bridge_store_round_trip_seconds_count{driver="bolt",op="update"}`,
		`secondme_bridge_platform_connected{platform="discord"} 1`,
		`secondme_bridge_unlinked_requests_total 1`,
	} {
		if !strings.Contains(text, want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
	if t.Failed() {
		t.Logf("/metrics:\n%s", text)
	}
}
