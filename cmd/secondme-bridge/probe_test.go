package main

import (
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
)

// silentListener accepts connections and never answers; it closes when the
// test ends.
func silentListener(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var conns []net.Conn
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			conns = append(conns, c)
		}
	}()
	t.Cleanup(func() {
		_ = ln.Close()
		<-done
		for _, c := range conns {
			_ = c.Close()
		}
	})
	return ln.Addr().String()
}

// TestProbeAgainstTheApp: probe exits 0 against a ready instance's /readyz
// and 1 (naming the status and the failing check) against an unready one.
func TestProbeAgainstTheApp(t *testing.T) {
	t.Parallel()
	plats := map[string]*atomic.Bool{"discord": {}}
	_, app := startAppWith(t, testConfig(t), nil, plats, "discord")
	url := app.base + "/readyz"

	code, _, stderr := runCLI(t, nil, "probe", "--url", url)
	if code != exitFailure || !strings.Contains(stderr, "503 Service Unavailable") || !strings.Contains(stderr, "gateway not connected yet") {
		t.Errorf("probe before ready = %d, stderr %q", code, stderr)
	}
	plats["discord"].Store(true)
	code, stdout, stderr := runCLI(t, nil, "probe", "--url", url)
	if code != exitOK || !strings.Contains(stdout, "200 OK") {
		t.Errorf("probe when ready = %d, stdout %q stderr %q", code, stdout, stderr)
	}
	// The environment variable replaces the default URL (for images).
	code, _, stderr = runCLI(t, map[string]string{"SECONDME_BRIDGE_PROBE_URL": url}, "probe")
	if code != exitOK {
		t.Errorf("probe with SECONDME_BRIDGE_PROBE_URL = %d, stderr %q", code, stderr)
	}
}

// TestProbeFailures: every failure exits 1 with one line saying which kind
// it is; a wrong command line exits 2.
func TestProbeFailures(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		http.Error(w, "teapot\nbody", http.StatusTeapot)
	}))
	t.Cleanup(srv.Close)
	for _, tc := range []struct {
		name string
		args []string
		code int
		want string
	}{
		{"refused", []string{"--url", "http://" + freeAddr(t) + "/readyz"}, exitFailure, "connection refused"},
		{"no answer", []string{"--url", "http://" + silentListener(t) + "/readyz", "--timeout", "300ms"}, exitFailure, "no answer within the timeout"},
		{"http error", []string{"--url", srv.URL}, exitFailure, "answered 418 I'm a teapot: teapot body"},
		{"bad url", []string{"--url", "::nope"}, exitUsage, "bad --url"},
		{"bad timeout", []string{"--timeout", "0s"}, exitUsage, "--timeout must be greater than 0"},
		{"extra argument", []string{"now"}, exitUsage, `unexpected argument "now"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			code, _, stderr := runCLI(t, nil, append([]string{"probe"}, tc.args...)...)
			if code != tc.code || !strings.Contains(stderr, tc.want) {
				t.Errorf("probe %v = %d, stderr %q; want %d and %q", tc.args, code, stderr, tc.code, tc.want)
			}
			if tc.code == exitFailure && strings.Count(strings.TrimSpace(stderr), "\n") != 0 {
				t.Errorf("stderr is not one line: %q", stderr)
			}
		})
	}
}

func TestProbeHelp(t *testing.T) {
	t.Parallel()
	code, stdout, _ := runCLI(t, nil, "help", "probe")
	if code != exitOK || !strings.Contains(stdout, "Usage: secondme-bridge probe [--url URL]") || !strings.Contains(stdout, "HEALTHCHECK") {
		t.Errorf("help probe = %d %q", code, stdout)
	}
}
