package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"time"
)

// defaultProbeURL is what probe asks without --url: the readiness of an
// instance on the image's default port.
const defaultProbeURL = "http://127.0.0.1:8080/readyz"

// cmdProbe is "probe [--url URL] [--timeout D]": GET the URL and exit 0 on
// a 200 answer, 1 otherwise (with one line on stderr saying why). It needs
// no config and no shell, for Docker's HEALTHCHECK in the distroless image
// and for Kubernetes exec probes. SECONDME_BRIDGE_PROBE_URL replaces the
// default URL.
func (c *cli) cmdProbe(ctx context.Context, args []string) error {
	fs, url, timeout := c.probeFlagSet()
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return usagef("probe: %v", err)
	}
	if fs.NArg() > 0 {
		return usagef("probe: unexpected argument %q", fs.Arg(0))
	}
	if *timeout <= 0 {
		return usagef("probe: --timeout must be greater than 0")
	}
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, *url, nil)
	if err != nil {
		return usagef("probe: bad --url %q: %v", *url, err)
	}
	resp, err := (&http.Client{}).Do(req)
	if err != nil {
		fmt.Fprintf(c.stderr, "probe: %s: %s\n", *url, describeNetError(err))
		return errReported
	}
	defer func() { _ = resp.Body.Close() }()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 4<<10))
	if resp.StatusCode != http.StatusOK {
		fmt.Fprintf(c.stderr, "probe: %s answered %s: %s\n", *url, resp.Status, oneLine(string(body)))
		return errReported
	}
	fmt.Fprintf(c.stdout, "ok: %s answered %s\n", *url, resp.Status)
	return nil
}

// probeFlagSet returns probe's flags: --url and --timeout.
func (c *cli) probeFlagSet() (fs *flag.FlagSet, url *string, timeout *time.Duration) {
	fs = flag.NewFlagSet("probe", flag.ContinueOnError)
	fs.SetOutput(c.stderr)
	def := defaultProbeURL
	if env := c.getenv("SECONDME_BRIDGE_PROBE_URL"); env != "" {
		def = env
	}
	url = fs.String("url", def, "`URL` to GET ($SECONDME_BRIDGE_PROBE_URL replaces the default)")
	timeout = fs.Duration("timeout", 5*time.Second, "give up after `D`")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: secondme-bridge probe [--url URL] [--timeout D]\n\n%s\n\nFlags:\n", commandSummaries["probe"])
		fs.PrintDefaults()
	}
	return fs, url, timeout
}
