package linking

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/secondme-bridge/secondme-bridge/secondme/secondmetest"
	"github.com/secondme-bridge/secondme-bridge/store"
)

func TestNewValidates(t *testing.T) {
	t.Parallel()
	fake := secondmetest.New(t)
	st, _ := backends[0].open(t)
	for name, cfg := range map[string]LinkerConfig{
		"empty":        {},
		"relative url": {PublicURL: "bridge.example.com", Store: st(), SecondMe: fake.Client()},
		"ftp url":      {PublicURL: "ftp://bridge.example.com", Store: st(), SecondMe: fake.Client()},
		"query":        {PublicURL: "https://bridge.example.com/?a=b", Store: st(), SecondMe: fake.Client()},
		"no store":     {PublicURL: "https://bridge.example.com", SecondMe: fake.Client()},
		"no secondme":  {PublicURL: "https://bridge.example.com", Store: st()},
		"negative ttl": {PublicURL: "https://bridge.example.com", Store: st(), SecondMe: fake.Client(), LinkTTL: -1},
	} {
		if _, err := New(cfg); err == nil {
			t.Errorf("%s: New accepted an invalid config", name)
		}
	}
	l, err := New(LinkerConfig{PublicURL: "https://bridge.example.com/base/", Store: st(), SecondMe: fake.Client()})
	if err != nil {
		t.Fatal(err)
	}
	if l.redirectURI != "https://bridge.example.com/base/oauth/callback" || l.linkTTL != DefaultLinkTTL ||
		l.refreshAhead != DefaultRefreshAhead || !strings.HasPrefix(l.owner, "linker-") {
		t.Errorf("defaults: %q %v %v %q", l.redirectURI, l.linkTTL, l.refreshAhead, l.owner)
	}
	if _, err := l.StartLink(t.Context(), store.PendingLink{}); err == nil {
		t.Error("StartLink accepted a pending link without a user")
	}
}

func TestStartLinkRateLimit(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, b backend) {
		h := newHarness(t, b, harnessOpts{})
		u := store.UserKey{Platform: "slack", Workspace: "T1", User: "U1"}
		seen := map[string]bool{}
		for i := range LinkRateBurst {
			link := h.startLink(u)
			if seen[link] {
				t.Fatalf("link %d repeats an earlier one", i)
			}
			seen[link] = true
		}
		_, err := h.linker.StartLink(t.Context(), store.PendingLink{User: u})
		if !errors.Is(err, ErrLinkRateLimited) {
			t.Fatalf("6th StartLink = %v, want ErrLinkRateLimited", err)
		}
		// The same user id in another workspace, and another user, are not limited.
		h.startLink(store.UserKey{Platform: "slack", Workspace: "T2", User: "U1"})
		h.startLink(store.UserKey{Platform: "slack", Workspace: "T1", User: "U2"})
	})
}

func TestMetrics(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, b backend) {
		reg := prometheus.NewRegistry()
		h := newHarness(t, b, harnessOpts{metrics: reg})
		h.newLinker("replica-2", 0, h.store) // a second Linker on the same registry reuses the collectors

		u := user("rita")
		h.linkAs(u, "40")
		h.fake.DenyNextAuthorize()
		h.browse(h.startLink(u))
		h.browse(h.srv.URL + "/oauth/callback?code=x&state=" + strings.Repeat("a", idLen))
		h.fake.QueueResponse(secondmetest.PathTokenCode, secondmetest.ErrorResponse(400, "oauth2.code.used", "used"))
		h.browse(h.startLink(u))
		h.fake.Advance(3 * time.Hour)
		if _, err := h.linker.Token(t.Context(), u); err != nil {
			t.Fatal(err)
		}

		got := gather(t, reg)
		for name, want := range map[string]float64{
			"secondme_bridge_link_started_total":                           3,
			"secondme_bridge_link_completed_total{result=success}":         1,
			"secondme_bridge_link_completed_total{result=denied}":          1,
			"secondme_bridge_link_completed_total{result=expired}":         1,
			"secondme_bridge_link_completed_total{result=exchange_failed}": 1,
			"secondme_bridge_token_refresh_total{result=success}":          1,
		} {
			if got[name] != want {
				t.Errorf("%s = %v, want %v (all: %v)", name, got[name], want, got)
			}
		}
	})
}

// gather flattens a registry into "name{label=value}" → value.
func gather(t *testing.T, reg *prometheus.Registry) map[string]float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]float64{}
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			name := mf.GetName()
			for _, lp := range m.GetLabel() {
				name += "{" + lp.GetName() + "=" + lp.GetValue() + "}"
			}
			out[name] = value(m)
		}
	}
	return out
}

func value(m *dto.Metric) float64 {
	if c := m.GetCounter(); c != nil {
		return c.GetValue()
	}
	return 0
}
