package loadtest

// The fake Discord's edge: a reverse proxy in a process of its own, as
// Discord's edge is not slowed down by the load of the machine that sends
// to it.

import (
	"bufio"
	"context"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"strconv"
	"time"
)

// EdgeEnv, set in its environment, makes a binary that calls MaybeEdge the
// fake Discord's edge: it reads an edgeSpec on stdin, writes an edgeAddrs
// line on stdout, and serves until its stdin is closed.
const EdgeEnv = "SECONDME_BRIDGE_LOADTEST_EDGE"

// edgeHeader carries the moment a call reached the edge to the fake
// Discord (discordtest.WithEdgeHeader), whose global limit counts it then.
const edgeHeader = "X-Loadtest-Edge-Arrived"

// edgeSpec is what the edge process is told: the fake's plain base URL
// (http://host:port), and, for TLS (HTTP/2 by ALPN), its certificate.
type edgeSpec struct {
	Backend         string
	CertPEM, KeyPEM []byte // empty: plain HTTP/1.1
}

// edgeAddrs are the edge's listeners: the one standing for Discord and a
// plain one for its counters (GET /).
type edgeAddrs struct{ Addr, Control string }

// MaybeEdge runs the edge and exits when EdgeEnv is set; otherwise it
// returns at once. Call it first in main (and TestMain).
func MaybeEdge() {
	if os.Getenv(EdgeEnv) == "" {
		return
	}
	if err := runEdge(os.Stdin, os.Stdout); err != nil {
		fmt.Fprintf(os.Stderr, "edge: %v\n", err)
		os.Exit(2)
	}
	os.Exit(0)
}

// runEdge serves the edge described on in until in ends.
func runEdge(in io.Reader, out io.Writer) error {
	var spec edgeSpec
	dec := json.NewDecoder(in)
	if err := dec.Decode(&spec); err != nil {
		return fmt.Errorf("read spec: %w", err)
	}
	backend, err := url.Parse(spec.Backend)
	if err != nil || backend.Scheme != "http" || backend.Host == "" {
		return fmt.Errorf("backend %q: want http://host:port", spec.Backend)
	}
	secure := len(spec.CertPEM) > 0
	var tlsConfig *tls.Config
	if secure {
		cert, err := tls.X509KeyPair(spec.CertPEM, spec.KeyPEM)
		if err != nil {
			return fmt.Errorf("certificate: %w", err)
		}
		tlsConfig = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	control, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		ln.Close()
		return err
	}
	e := &protoCounts{}
	self := ln.Addr().String()
	ws, web := "ws://", "http://"
	if secure {
		ws, web = "wss://", "https://"
	}
	urls := []frontedURL{{plain: backend.Host, secure: self}}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConns, tr.MaxIdleConnsPerHost = 0, 4096
	proxy := &httputil.ReverseProxy{
		Rewrite:       func(r *httputil.ProxyRequest) { r.SetURL(backend) },
		Transport:     tr,
		FlushInterval: -1, // the gateway's websocket
		ModifyResponse: func(resp *http.Response) error {
			return rewriteURLs(resp, urls, ws, web)
		},
		ErrorLog: discardLog,
	}
	srv := &http.Server{
		Handler:           stamp(e.count(proxy)),
		ConnState:         e.connState,
		ReadHeaderTimeout: 10 * time.Second,
		HTTP2:             &http.HTTP2Config{MaxConcurrentStreams: 250},
		ErrorLog:          discardLog,
	}
	ctl := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(e.counts())
	}), ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = ctl.Serve(control) }()
	if secure {
		srv.TLSConfig = tlsConfig
		go func() { _ = srv.ServeTLS(ln, "", "") }()
	} else {
		go func() { _ = srv.Serve(ln) }()
	}
	if err := json.NewEncoder(out).Encode(edgeAddrs{Addr: self, Control: control.Addr().String()}); err != nil {
		_ = srv.Close()
		_ = ctl.Close()
		return fmt.Errorf("write addresses: %w", err)
	}
	// Serve until the driver closes stdin (or dies).
	_, _ = io.Copy(io.Discard, in)
	_ = srv.Close()
	_ = ctl.Close()
	return nil
}

// stamp stamps every call with its arrival (edgeHeader), then hands it
// to next.
func stamp(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.Header.Set(edgeHeader, strconv.FormatInt(time.Now().UnixNano(), 10))
		next.ServeHTTP(w, r)
	})
}

// discardLog silences net/http's complaints about calls their clients
// gave up (the relay's last edits at its end).
var discardLog = log.New(io.Discard, "", 0)

// edgeProc is a running edge process.
type edgeProc struct {
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	URL    string // the fake Discord's base URL through the edge
	ctlURL string
	exited chan error
}

// startEdge starts bin as the edge (EdgeEnv) in front of the fake at
// backend (http://host:port); TLS when certPEM is set.
func startEdge(bin, backend string, certPEM, keyPEM []byte) (*edgeProc, error) {
	cmd := exec.Command(bin)
	cmd.Env = append(os.Environ(), EdgeEnv+"=1")
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, fmt.Errorf("loadtest: edge: %w", err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, fmt.Errorf("loadtest: edge: %w", err)
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("loadtest: start the edge: %w", err)
	}
	e := &edgeProc{cmd: cmd, stdin: stdin, exited: make(chan error, 1)}
	fail := func(err error) (*edgeProc, error) {
		_ = stdin.Close()
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		return nil, fmt.Errorf("loadtest: edge: %w", err)
	}
	if err := json.NewEncoder(stdin).Encode(edgeSpec{Backend: backend, CertPEM: certPEM, KeyPEM: keyPEM}); err != nil {
		return fail(err)
	}
	line, err := bufio.NewReader(stdout).ReadBytes('\n')
	if err != nil {
		return fail(fmt.Errorf("read its addresses: %w", err))
	}
	var addrs edgeAddrs
	if err := json.Unmarshal(line, &addrs); err != nil || addrs.Addr == "" || addrs.Control == "" {
		return fail(fmt.Errorf("addresses %q: %v", line, err))
	}
	e.URL, e.ctlURL = "http://"+addrs.Addr, "http://"+addrs.Control
	if len(certPEM) > 0 {
		e.URL = "https://" + addrs.Addr
	}
	go func() { e.exited <- cmd.Wait() }()
	return e, nil
}

// counts asks the edge what it served so far.
func (e *edgeProc) counts() (FrontCounts, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	body, err := get(ctx, e.ctlURL)
	if err != nil {
		return FrontCounts{}, fmt.Errorf("loadtest: edge counts: %w", err)
	}
	defer body.Close()
	var c FrontCounts
	if err := json.NewDecoder(body).Decode(&c); err != nil {
		return FrontCounts{}, fmt.Errorf("loadtest: edge counts: %w", err)
	}
	return c, nil
}

// Close stops the edge: its stdin closes, and it is killed if it has not
// exited within 5 s.
func (e *edgeProc) Close() {
	_ = e.stdin.Close()
	select {
	case <-e.exited:
	case <-time.After(5 * time.Second):
		_ = e.cmd.Process.Kill()
		<-e.exited
	}
}
