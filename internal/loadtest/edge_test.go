package loadtest

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/secondme-bridge/secondme-bridge/platforms/discord/discordtest"
)

// The edge proxies to the fake, stamps each call with its arrival (the
// fake records it and counts its global limit by it), rewrites the
// gateway's address to its own, and counts what it served.
func TestEdgeStampsAndRewrites(t *testing.T) {
	t.Parallel()
	dc := discordtest.New(t, discordtest.WithEdgeHeader(edgeHeader))
	inR, inW := io.Pipe()
	outR, outW := io.Pipe()
	done := make(chan error, 1)
	go func() { done <- runEdge(inR, outW) }()
	if err := json.NewEncoder(inW).Encode(edgeSpec{Backend: dc.URL()}); err != nil {
		t.Fatal(err)
	}
	var addrs edgeAddrs
	if err := json.NewDecoder(outR).Decode(&addrs); err != nil {
		t.Fatal(err)
	}
	e := &edgeProc{URL: "http://" + addrs.Addr, ctlURL: "http://" + addrs.Control}

	before := time.Now()
	req, err := http.NewRequest(http.MethodGet, e.URL+strings.TrimPrefix(dc.APIURL(), dc.URL())+"/gateway/bot", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bot "+dc.Token())
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var gw struct{ URL string }
	err = json.NewDecoder(resp.Body).Decode(&gw)
	resp.Body.Close()
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /gateway/bot through the edge: %d, %v", resp.StatusCode, err)
	}
	if want := "ws://" + addrs.Addr; !strings.HasPrefix(gw.URL, want) {
		t.Errorf("gateway URL %q, want it through the edge (%s…)", gw.URL, want)
	}
	calls := dc.Calls()
	if len(calls) != 1 || calls[0].Edge.Before(before) || calls[0].Edge.After(calls[0].At) {
		t.Errorf("calls %+v: want one stamped between %v and its handling", calls, before)
	}
	c, err := e.counts()
	if err != nil || c.H1 != 1 || c.Conns != 1 {
		t.Errorf("edge counts %+v, %v: want one HTTP/1.1 request on one connection", c, err)
	}
	inW.Close() // the driver closing stdin stops the edge
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("edge: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the edge did not stop when its stdin closed")
	}
}

// A spec the edge cannot serve is an error, before it listens.
func TestEdgeRefusesABadSpec(t *testing.T) {
	t.Parallel()
	for _, spec := range []string{`not json`, `{"Backend":"ftp://x"}`, `{"Backend":""}`, `{"Backend":"http://127.0.0.1:1","CertPEM":"bm90IGEgY2VydA=="}`} {
		err := runEdge(strings.NewReader(spec), io.Discard)
		if err == nil {
			t.Errorf("spec %s: no error", spec)
		}
	}
}
