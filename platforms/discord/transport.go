package discord

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// maxRateLimitBody caps how much of a 429 body is read.
const maxRateLimitBody = 64 << 10

// baseRewriter sends requests aimed at discordgo's built-in API base (from)
// to another base URL (to), so that Config.APIURL routes every REST call and
// the gateway lookup without touching discordgo's global endpoint variables.
// Other URLs pass through unchanged.
//
// It also normalizes 429 responses: discordgo reads retry_after from a JSON
// body and fails on anything else (a proxy's or Cloudflare's HTML page), so a
// 429 without a JSON retry_after gets one built from the Retry-After header.
type baseRewriter struct {
	from string
	to   *url.URL
	next http.RoundTripper
}

// RoundTrip implements http.RoundTripper.
func (t *baseRewriter) RoundTrip(r *http.Request) (*http.Response, error) {
	if rest, ok := strings.CutPrefix(r.URL.String(), t.from); ok && t.to.String() != t.from {
		u, err := url.Parse(t.to.String() + rest)
		if err != nil {
			return nil, fmt.Errorf("rewrite discord url: %w", err)
		}
		r = r.Clone(r.Context())
		r.URL, r.Host = u, u.Host
	}
	resp, err := t.next.RoundTrip(r)
	if err != nil || resp.StatusCode != http.StatusTooManyRequests {
		return resp, err
	}
	return normalizeRateLimit(resp), nil
}

// normalizeRateLimit makes sure a 429 body is JSON with a retry_after.
func normalizeRateLimit(resp *http.Response) *http.Response {
	body, _ := io.ReadAll(io.LimitReader(resp.Body, maxRateLimitBody))
	_ = resp.Body.Close()
	var probe struct {
		RetryAfter *float64 `json:"retry_after"`
	}
	if json.Unmarshal(body, &probe) != nil || probe.RetryAfter == nil {
		secs := 0.0
		if v, err := strconv.ParseFloat(strings.TrimSpace(resp.Header.Get("Retry-After")), 64); err == nil && v > 0 {
			secs = v
		}
		body, _ = json.Marshal(map[string]any{"message": "rate limited", "retry_after": secs, "global": false})
		resp.Header.Set("Content-Type", "application/json")
	}
	resp.Body = io.NopCloser(bytes.NewReader(body))
	resp.ContentLength = int64(len(body))
	resp.Header.Set("Content-Length", strconv.Itoa(len(body)))
	return resp
}
