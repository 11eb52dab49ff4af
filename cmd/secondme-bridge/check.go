package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"time"

	"github.com/secondme-bridge/secondme-bridge/internal/config"
)

// checkTimeout bounds each network check of the check command.
const checkTimeout = 15 * time.Second

// report prints check results, one line per item:
//
//	PASS  config (config.yaml)
//	FAIL  discord token: 401 Unauthorized
//	SKIP  slack signing secret: ...
type report struct {
	w      io.Writer
	failed int
	passed int
}

func (r *report) pass(item, detail string) {
	r.passed++
	r.line("PASS", item, detail)
}

func (r *report) fail(item, detail string) {
	r.failed++
	r.line("FAIL", item, detail)
}

func (r *report) skip(item, detail string) { r.line("SKIP", item, detail) }

// failFix is fail with the one thing to do about it on the next line.
func (r *report) failFix(item, detail, fix string) {
	r.fail(item, detail)
	if fix != "" {
		fmt.Fprintf(r.w, "      fix: %s\n", fix)
	}
}

// withCalls appends the requests a check made: "bot X [GET https://…]".
func withCalls(detail string, calls []exchange) string {
	if len(calls) == 0 {
		return detail
	}
	return detail + " [" + called(calls) + "]"
}

func (r *report) line(status, item, detail string) {
	if detail == "" {
		fmt.Fprintf(r.w, "%s  %s\n", status, item)
		return
	}
	fmt.Fprintf(r.w, "%s  %s: %s\n", status, item, detail)
}

// cmdCheck validates the config, opens the store and verifies every
// configured credential against its service. It exits 1 if any item fails.
// When the config itself is invalid it lists every problem and skips the
// rest (they would fail on the same problems).
func (c *cli) cmdCheck(ctx context.Context, args []string) error {
	path, err := c.parseConfigFlags("check", args)
	if err != nil {
		return err
	}
	r := &report{w: c.stdout}
	item := "config (" + path + ")"
	cfg, err := config.Load(path, c.getenv)
	if err == nil {
		err = cfg.Validate()
	}
	if err != nil {
		var ce *config.Error
		if errors.As(err, &ce) {
			r.fail(item, fmt.Sprintf("%s, %d problem(s)", ce.Summary, len(ce.Problems)))
			for _, p := range ce.Problems {
				fmt.Fprintf(r.w, "      - %s\n", p)
			}
		} else {
			r.fail(item, err.Error())
		}
		r.skip("store and credentials", "fix the config first")
		return c.checkResult(r)
	}
	r.pass(item, "")

	// Store and client code log through a logger that only shows problems,
	// on stderr, so stdout stays the report.
	logger := newLogger(c.stderr, config.Log{Level: "warn", Format: cfg.Log.Format})
	c.checkStore(ctx, r, cfg, logger)

	hc := c.httpClient
	if hc == nil {
		// The per-check context deadline fires first, so a silent server
		// reads as a deadline ("no answer"), not a cancelled request.
		hc = &http.Client{Timeout: c.checkTimeoutOr() + 5*time.Second}
	}
	for _, chk := range credentialChecks(cfg, hc) {
		cctx, cancel := context.WithTimeout(ctx, c.checkTimeoutOr())
		detail, err := chk.run(cctx)
		cancel()
		var calls []exchange
		if chk.calls != nil {
			calls = chk.calls.snapshot()
		}
		switch {
		case errors.Is(err, errSkipped):
			r.skip(chk.name, detail)
		case err != nil:
			d := diagnose(chk.service, cfg, calls, err)
			r.failFix(chk.name, withCalls(d.summary, calls), d.fix)
		default:
			r.pass(chk.name, withCalls(detail, calls))
		}
	}
	return c.checkResult(r)
}

func (c *cli) checkStore(ctx context.Context, r *report, cfg config.Config, logger *slog.Logger) {
	item := "store (" + describeStore(cfg.Store) + ")"
	ctx, cancel := context.WithTimeout(ctx, checkTimeout)
	defer cancel()
	st, err := openStore(ctx, cfg.Store, logger)
	if err != nil {
		r.fail(item, err.Error())
		return
	}
	defer func() { _ = st.Close() }()
	if err := st.Ping(ctx); err != nil {
		r.fail(item, err.Error())
		return
	}
	r.pass(item, "")
}

func (c *cli) checkResult(r *report) error {
	if r.failed > 0 {
		fmt.Fprintf(r.w, "\n%d check(s) failed, %d passed\n", r.failed, r.passed)
		return errReported
	}
	fmt.Fprintf(r.w, "\nall %d checks passed\n", r.passed)
	return nil
}

// checkTimeoutOr is c.checkTimeout, or checkTimeout when unset.
func (c *cli) checkTimeoutOr() time.Duration {
	if c.checkTimeout > 0 {
		return c.checkTimeout
	}
	return checkTimeout
}
