package main

import (
	"context"
	"encoding/json"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// What "ready" means (GET /readyz answers 200):
//
//   - the store answers a ping: every HTTP route (link pages, the OAuth
//     callback, Slack HTTP events) needs it;
//   - every component other than the platforms is ready;
//   - at least one platform has connected since the process started (the
//     replica has finished starting).
//
// A platform that drops later stays in the body as {"ok":false} but does
// not make the replica unready: the link pages, the OAuth callback and the
// other platform keep working on it, and taking it out of the load balancer
// would not bring the gateway back (the adapter reconnects by itself). The
// gauge secondme_bridge_platform_connected and the alert
// SecondMeBridgeNoPlatformConnection report a platform that stays down.

// readyzTimeout bounds the store ping of one /readyz probe.
const readyzTimeout = 2 * time.Second

// platformWatchEvery is how often the app samples each platform's
// connection (to remember that it connected once, between two probes).
const platformWatchEvery = 250 * time.Millisecond

// readyCheck is one line of the /readyz body.
type readyCheck struct {
	Name  string `json:"name"`
	OK    bool   `json:"ok"`
	Error string `json:"error,omitempty"`
	// Detail is what a component that has a ReadyDetail method says
	// about itself (the Discord shards a replica holds).
	Detail string `json:"detail,omitempty"`
}

// platformStatus follows one platform's connection for /readyz and the
// connected gauge.
type platformStatus struct {
	name  string
	what  string // the connection, in /readyz errors: "gateway", "Socket Mode connection"
	ready func() bool
	seen  atomic.Bool // connected at least once since start
}

// connectionNames name each platform's connection in /readyz errors.
var connectionNames = map[string]string{"discord": "gateway", "slack": "Socket Mode connection"}

// sample reads the connection state and remembers a connection.
func (p *platformStatus) sample() bool {
	ok := p.ready()
	if ok {
		p.seen.Store(true)
	}
	return ok
}

// addPlatform registers a platform connection for /readyz and the
// secondme_bridge_platform_connected gauge. Call it before Run.
func (a *app) addPlatform(name string, ready func() bool) {
	what := connectionNames[name]
	if what == "" {
		what = "connection"
	}
	ps := &platformStatus{name: name, what: what, ready: ready}
	a.platforms = append(a.platforms, ps)
	a.registry.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name:        "secondme_bridge_platform_connected",
		Help:        "1 while the platform connection (Discord gateway, Slack Socket Mode; Slack HTTP mode always) is up, else 0.",
		ConstLabels: prometheus.Labels{"platform": name},
	}, func() float64 {
		if ps.sample() {
			return 1
		}
		return 0
	}))
}

// watchPlatforms samples every platform until ctx is done, so that a
// connection is remembered even when nobody probes while it is up.
func (a *app) watchPlatforms(ctx context.Context) {
	if len(a.platforms) == 0 {
		return
	}
	t := time.NewTicker(platformWatchEvery)
	defer t.Stop()
	for {
		for _, p := range a.platforms {
			p.sample()
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// readiness runs every check: the store, each platform, each other
// component.
func (a *app) readiness(ctx context.Context) (bool, []readyCheck) {
	ctx, cancel := context.WithTimeout(ctx, readyzTimeout)
	defer cancel()
	ready := true
	checks := []readyCheck{{Name: "store", OK: true}}
	if err := a.store.Ping(ctx); err != nil {
		ready = false
		checks[0] = readyCheck{Name: "store", Error: err.Error()}
	}
	anySeen := len(a.platforms) == 0
	for _, p := range a.platforms {
		rc := readyCheck{Name: p.name, OK: p.sample()}
		switch {
		case rc.OK:
		case p.seen.Load():
			rc.Error = p.what + " disconnected, reconnecting"
		default:
			rc.Error = p.what + " not connected yet"
		}
		anySeen = anySeen || p.seen.Load()
		checks = append(checks, rc)
	}
	if !anySeen {
		ready = false
	}
	for _, c := range a.components {
		if _, hidden := c.(readyzHidden); hidden {
			continue
		}
		rc := readyCheck{Name: c.Name(), OK: c.Ready()}
		d, detailed := c.(readyzDetailed)
		if detailed {
			rc.Detail = d.ReadyDetail()
		}
		if !rc.OK {
			rc.Error = "not ready"
			if !detailed {
				ready = false
			}
		}
		checks = append(checks, rc)
	}
	return ready, checks
}

// readyzDetailed is a component that describes a platform's state
// (the Discord shards a replica holds): /readyz shows it, but like a
// platform that reconnects, it never makes the replica unready (a shard
// being identified after a takeover must not take the survivor out of
// the load balancer).
type readyzDetailed interface{ ReadyDetail() string }

// readyzHidden marks a component whose readiness /readyz reports through
// other checks (the bridge: through its platforms).
type readyzHidden interface{ hiddenFromReadyz() }

// handleReadyz answers 200 when the replica is ready (see the top of this
// file), 503 otherwise, with a JSON body listing each check:
//
//	{"ready":true,"checks":[{"name":"store","ok":true},{"name":"discord","ok":false,"error":"gateway disconnected, reconnecting"}]}
//
// detailed=false leaves out the error texts (they may name internal hosts):
// the public /readyz when the admin listener is set.
func (a *app) handleReadyz(detailed bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		ready, checks := a.readiness(r.Context())
		if !detailed {
			for i := range checks {
				checks[i].Error = ""
			}
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
}
