package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
)

// exchange is one HTTP request a check made, as check reports it: the URL
// without its query, the answer's status (0 when none came) and what the
// diagnosis needs from the answer.
type exchange struct {
	method, url string
	status      int
	err         error // the transport's error, when no answer came
	// slackError and slackNeeded are Slack's "error" and "needed" fields.
	slackError, slackNeeded string
	// oauthScopes is Slack's X-OAuth-Scopes header (the token's scopes);
	// hasScopes tells an absent header from an empty one.
	oauthScopes string
	hasScopes   bool
}

// callRecorder is an http.RoundTripper that records every exchange of one
// check (the URL actually called, whatever the config's API bases are).
// It never records headers or bodies that carry credentials.
type callRecorder struct {
	base  http.RoundTripper
	mu    sync.Mutex
	calls []exchange
}

// recordingClient returns a copy of hc whose requests rec records.
func recordingClient(hc *http.Client) (*http.Client, *callRecorder) {
	base := hc.Transport
	if base == nil {
		base = http.DefaultTransport
	}
	rec := &callRecorder{base: base}
	cp := *hc
	cp.Transport = rec
	return &cp, rec
}

// maxRecordedBody bounds the part of a Slack answer read for its error
// fields (the body is handed on whole).
const maxRecordedBody = 64 << 10

func (r *callRecorder) RoundTrip(req *http.Request) (*http.Response, error) {
	u := *req.URL
	u.RawQuery, u.Fragment, u.User = "", "", nil
	x := exchange{method: req.Method, url: u.String()}
	resp, err := r.base.RoundTrip(req)
	if err != nil {
		x.err = err
		if cerr := req.Context().Err(); cerr != nil && !errors.Is(err, cerr) {
			// The deadline cut the request: say so, whatever the transport
			// called it ("request canceled").
			x.err = fmt.Errorf("%w (%w)", cerr, err)
		}
		r.add(x)
		return nil, err
	}
	x.status = resp.StatusCode
	if v, ok := resp.Header[http.CanonicalHeaderKey("X-OAuth-Scopes")]; ok {
		x.hasScopes, x.oauthScopes = true, strings.Join(v, ",")
	}
	if strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
		head, rerr := io.ReadAll(io.LimitReader(resp.Body, maxRecordedBody))
		var fields struct {
			OK     *bool  `json:"ok"`
			Error  string `json:"error"`
			Needed string `json:"needed"`
		}
		if json.Unmarshal(head, &fields) == nil && fields.OK != nil && !*fields.OK {
			x.slackError, x.slackNeeded = fields.Error, fields.Needed
		}
		resp.Body = readCloser{io.MultiReader(bytes.NewReader(head), errReader{rerr}, resp.Body), resp.Body}
	}
	r.add(x)
	return resp, nil
}

func (r *callRecorder) add(x exchange) {
	r.mu.Lock()
	r.calls = append(r.calls, x)
	r.mu.Unlock()
}

// snapshot returns the exchanges so far.
func (r *callRecorder) snapshot() []exchange {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]exchange(nil), r.calls...)
}

// called lists the calls for a report line: "GET https://…/users/@me".
func called(calls []exchange) string {
	parts := make([]string, len(calls))
	for i, c := range calls {
		parts[i] = c.method + " " + c.url
	}
	return strings.Join(parts, ", ")
}

type readCloser struct {
	io.Reader
	io.Closer
}

// errReader returns err (nil: EOF) once the head is consumed.
type errReader struct{ err error }

func (e errReader) Read([]byte) (int, error) {
	if e.err != nil {
		return 0, e.err
	}
	return 0, io.EOF
}
