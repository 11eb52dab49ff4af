package loadtest

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
)

// tlsFront is the HTTPS front of the fakes in a -tls run: one TLS listener
// per fake, speaking HTTP/2 (and HTTP/1.1 for the gateway's websocket),
// reverse-proxying to the fake's plain listener, with a certificate from a
// test CA of its own. The bridge and the relay trust the CA through
// SSL_CERT_FILE (CAFile), as Go does on Linux, and use their ordinary
// clients: net/http over TLS negotiates HTTP/2, one connection carrying
// many streams, as against the real SecondMe and Discord.
type tlsFront struct {
	CAFile string // the CA's certificate, PEM
	// certPEM and keyPEM are the front's certificate and key, for the
	// fake Discord's edge (edge.go), which serves with them too.
	certPEM, keyPEM []byte
	servers         []*http.Server
	served          protoCounts
}

// protoCounts count the requests a server got by protocol, and its
// connections.
type protoCounts struct {
	h2, h1 atomic.Int64 // requests served over HTTP/2 and HTTP/1.x
	ws     atomic.Int64 // websocket upgrades (the gateway), not in h1
	conns  atomic.Int64 // connections accepted
}

// count counts a request by its protocol, then serves it.
func (p *protoCounts) count(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.ProtoMajor == 2:
			p.h2.Add(1)
		case r.Header.Get("Upgrade") != "":
			p.ws.Add(1)
		default:
			p.h1.Add(1)
		}
		next.ServeHTTP(w, r)
	})
}

// connState counts the new connections (http.Server.ConnState).
func (p *protoCounts) connState(_ net.Conn, st http.ConnState) {
	if st == http.StateNew {
		p.conns.Add(1)
	}
}

func (p *protoCounts) counts() FrontCounts {
	return FrontCounts{H2: p.h2.Load(), H1: p.h1.Load(), WS: p.ws.Load(), Conns: p.conns.Load()}
}

// FrontCounts are what a TLS front served: requests by protocol and the
// connections they came on.
// WS counts the websocket upgrades (the Discord gateway) apart.
type FrontCounts struct{ H2, H1, WS, Conns int64 }

func (t *tlsFront) counts() FrontCounts { return t.served.counts() }

func (c FrontCounts) sub(d FrontCounts) FrontCounts {
	return FrontCounts{H2: c.H2 - d.H2, H1: c.H1 - d.H1, WS: c.WS - d.WS, Conns: c.Conns - d.Conns}
}

// frontedURL is one fake behind the front: the https URL standing for its
// plain http one.
type frontedURL struct{ plain, secure string }

// startTLSFront writes the CA to dir and starts one front per plain URL
// (http://host:port). It returns the front and, per plain URL, the https
// URL standing for it. A fake's answer naming a fronted plain URL (the
// Discord gateway's ws:// address in GET /gateway/bot) is rewritten to its
// fronted one (wss://), so every connection goes through the front.
func startTLSFront(dir string, plain ...string) (*tlsFront, []string, error) {
	cert, caPEM, certPEM, keyPEM, err := testCA()
	if err != nil {
		return nil, nil, err
	}
	t := &tlsFront{CAFile: filepath.Join(dir, "ca.pem"), certPEM: certPEM, keyPEM: keyPEM}
	if err := os.WriteFile(t.CAFile, caPEM, 0o600); err != nil {
		return nil, nil, fmt.Errorf("loadtest: write the test CA: %w", err)
	}
	lns := make([]net.Listener, len(plain))
	urls := make([]frontedURL, len(plain))
	for i, p := range plain {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Close()
			return nil, nil, fmt.Errorf("loadtest: tls front: %w", err)
		}
		lns[i] = ln
		urls[i] = frontedURL{plain: strings.TrimPrefix(p, "http://"), secure: ln.Addr().String()}
	}
	// One backend transport: HTTP/1.1 to the fakes, a connection per
	// stream in flight, kept for the next.
	backend := http.DefaultTransport.(*http.Transport).Clone()
	backend.MaxIdleConns, backend.MaxIdleConnsPerHost = 0, 4096
	out := make([]string, len(plain))
	for i, ln := range lns {
		target, err := url.Parse(plain[i])
		if err != nil {
			t.Close()
			return nil, nil, fmt.Errorf("loadtest: tls front: %w", err)
		}
		proxy := &httputil.ReverseProxy{
			Rewrite:        func(r *httputil.ProxyRequest) { r.SetURL(target) },
			Transport:      backend,
			FlushInterval:  -1, // SSE and the gateway flush every write
			ModifyResponse: func(resp *http.Response) error { return rewriteURLs(resp, urls, "wss://", "https://") },
			ErrorLog:       discardLog,
		}
		srv := &http.Server{
			Handler:           t.served.count(proxy),
			ConnState:         t.served.connState,
			ReadHeaderTimeout: 10 * time.Second,
			TLSConfig:         &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12},
			// The streams of one connection: Go's default, as a Go
			// front would have; a client opens another connection beyond.
			HTTP2: &http.HTTP2Config{MaxConcurrentStreams: 250},
		}
		t.servers = append(t.servers, srv)
		go func() { _ = srv.ServeTLS(ln, "", "") }()
		out[i] = "https://" + ln.Addr().String()
	}
	return t, out, nil
}

// rewriteURLs replaces, in a small JSON answer, every fronted plain
// host:port of a ws:// or http:// URL with its front's, under wsScheme and
// webScheme ("wss://" and "https://" behind TLS).
func rewriteURLs(resp *http.Response, urls []frontedURL, wsScheme, webScheme string) error {
	if !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") || resp.ContentLength > 64<<10 {
		return nil
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, 64<<10+1))
	resp.Body.Close()
	if err != nil {
		return fmt.Errorf("loadtest: tls front: read answer: %w", err)
	}
	for _, u := range urls {
		body = bytes.ReplaceAll(body, []byte("ws://"+u.plain), []byte(wsScheme+u.secure))
		body = bytes.ReplaceAll(body, []byte("http://"+u.plain), []byte(webScheme+u.secure))
	}
	resp.Body = io.NopCloser(bytes.NewReader(body))
	resp.ContentLength = int64(len(body))
	resp.Header.Set("Content-Length", strconv.Itoa(len(body)))
	return nil
}

// Close stops the fronts and ends their connections.
func (t *tlsFront) Close() {
	for _, s := range t.servers {
		_ = s.Close()
	}
}

// testCA makes a CA and a certificate for 127.0.0.1 and localhost signed
// by it; it returns the certificate, the CA's PEM, and the certificate's
// and its key's PEM.
func testCA() (cert tls.Certificate, caPEM, certPEM, keyPEM []byte, err error) {
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, nil, nil, nil, fmt.Errorf("loadtest: CA key: %w", err)
	}
	now := time.Now()
	ca := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "secondme-bridge loadtest CA"},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(24 * time.Hour),
		IsCA:                  true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, ca, ca, &caKey.PublicKey, caKey)
	if err != nil {
		return tls.Certificate{}, nil, nil, nil, fmt.Errorf("loadtest: CA certificate: %w", err)
	}
	caCert, err := x509.ParseCertificate(caDER)
	if err != nil {
		return tls.Certificate{}, nil, nil, nil, fmt.Errorf("loadtest: CA certificate: %w", err)
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, nil, nil, nil, fmt.Errorf("loadtest: key: %w", err)
	}
	leaf := &x509.Certificate{
		SerialNumber: big.NewInt(2),
		Subject:      pkix.Name{CommonName: "127.0.0.1"},
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     now.Add(24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1)},
		DNSNames:     []string{"localhost"},
	}
	der, err := x509.CreateCertificate(rand.Reader, leaf, caCert, &key.PublicKey, caKey)
	if err != nil {
		return tls.Certificate{}, nil, nil, nil, fmt.Errorf("loadtest: certificate: %w", err)
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return tls.Certificate{}, nil, nil, nil, fmt.Errorf("loadtest: key: %w", err)
	}
	caPEM = pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER})
	certPEM = pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	keyPEM = pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER})
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, caPEM, certPEM, keyPEM, nil
}
