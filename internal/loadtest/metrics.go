package loadtest

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"
)

// budgetTotals are the bridge's budget counters, its count of calls held
// back at the wire for Discord's global limit, and its store round trips
// of every kind (a pipeline is one).
type budgetTotals struct{ roundTrips, calls, lapsed, lateSpends, held, store int64 }

// budgetCounts reads the bridge's budget counters from its /metrics
// (secondme_bridge_budget_round_trips_total, _calls_total, _lapsed_total,
// _late_spends_total) and
// secondme_bridge_discord_global_held_total, and the sum of
// secondme_bridge_store_round_trip_seconds_count over its labels.
func budgetCounts(ctx context.Context, admin string) (budgetTotals, error) {
	body, err := get(ctx, "http://"+admin+"/metrics")
	if err != nil {
		return budgetTotals{}, err
	}
	defer body.Close()
	var t budgetTotals
	found := 0
	sc := bufio.NewScanner(body)
	for sc.Scan() {
		name, value, ok := strings.Cut(sc.Text(), " ")
		if !ok {
			continue
		}
		if strings.HasPrefix(name, "secondme_bridge_store_round_trip_seconds_count{") {
			f, err := strconv.ParseFloat(value, 64)
			if err != nil {
				return budgetTotals{}, fmt.Errorf("loadtest: metric %s: %w", name, err)
			}
			t.store += int64(f)
			continue
		}
		var dst *int64
		required := true
		switch name {
		case "secondme_bridge_budget_round_trips_total":
			dst = &t.roundTrips
		case "secondme_bridge_budget_calls_total":
			dst = &t.calls
		case "secondme_bridge_budget_lapsed_total":
			dst, required = &t.lapsed, false // older builds have none (A/B runs against them)
		case "secondme_bridge_budget_late_spends_total":
			dst, required = &t.lateSpends, false
		case "secondme_bridge_discord_global_held_total":
			dst = &t.held
		default:
			continue
		}
		f, err := strconv.ParseFloat(value, 64)
		if err != nil {
			return budgetTotals{}, fmt.Errorf("loadtest: metric %s: %w", name, err)
		}
		*dst = int64(f)
		if required {
			found++
		}
	}
	if err := sc.Err(); err != nil {
		return budgetTotals{}, fmt.Errorf("loadtest: read metrics: %w", err)
	}
	if found != 3 {
		return budgetTotals{}, fmt.Errorf("loadtest: the bridge's /metrics has no budget counters or no held-call counter")
	}
	return t, nil
}

// profileSeconds is how long the CPU profile runs: about as long as the
// load's busy part.
func (cfg *Config) profileSeconds() int {
	if cfg.ProfileFor > 0 {
		return max(1, int(cfg.ProfileFor.Round(time.Second)/time.Second))
	}
	return min(max(cfg.N/50, 5), 30)
}

// profile writes a CPU profile of the bridge over seconds to path.
func profile(ctx context.Context, admin, path string, seconds int) error {
	return save(ctx, fmt.Sprintf("http://%s/debug/pprof/profile?seconds=%d", admin, seconds), path)
}

// snapshot waits after, then saves the bridge's heap profile to
// prefix+".heap", its goroutine dump to prefix+".goroutines" and its
// /metrics (Go memory statistics included) to prefix+".metrics".
func snapshot(ctx context.Context, admin, prefix string, after time.Duration) error {
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(after):
	}
	if err := save(ctx, "http://"+admin+"/debug/pprof/heap", prefix+".heap"); err != nil {
		return err
	}
	if err := save(ctx, "http://"+admin+"/debug/pprof/goroutine?debug=1", prefix+".goroutines"); err != nil {
		return err
	}
	return save(ctx, "http://"+admin+"/metrics", prefix+".metrics")
}

// save writes the body of a GET of url to path.
func save(ctx context.Context, url, path string) error {
	body, err := get(ctx, url)
	if err != nil {
		return err
	}
	defer body.Close()
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("loadtest: %w", err)
	}
	if _, err := io.Copy(f, body); err != nil {
		f.Close()
		return fmt.Errorf("loadtest: write profile: %w", err)
	}
	return f.Close()
}

func get(ctx context.Context, url string) (io.ReadCloser, error) {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		cancel()
		return nil, fmt.Errorf("loadtest: %w", err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		cancel()
		return nil, fmt.Errorf("loadtest: get %s: %w", url, err)
	}
	if resp.StatusCode != http.StatusOK {
		resp.Body.Close()
		cancel()
		return nil, fmt.Errorf("loadtest: get %s: %s", url, resp.Status)
	}
	return cancelOnClose{resp.Body, cancel}, nil
}

type cancelOnClose struct {
	io.ReadCloser
	cancel context.CancelFunc
}

func (c cancelOnClose) Close() error {
	err := c.ReadCloser.Close()
	c.cancel()
	return err
}
