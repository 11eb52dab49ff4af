package slacktest

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Sign returns the X-Slack-Request-Timestamp and X-Slack-Signature headers
// Slack sends for body at time ts: "v0=" + hex(HMAC-SHA256(secret,
// "v0:" + ts + ":" + body)).
func Sign(secret string, ts time.Time, body []byte) (timestamp, signature string) {
	timestamp = strconv.FormatInt(ts.Unix(), 10)
	mac := hmac.New(sha256.New, []byte(secret))
	_, _ = io.WriteString(mac, "v0:"+timestamp+":")
	_, _ = mac.Write(body)
	return timestamp, "v0=" + hex.EncodeToString(mac.Sum(nil))
}

// SignRequest sets the Slack signature headers of r for body at time ts.
func SignRequest(r *http.Request, secret string, ts time.Time, body []byte) {
	timestamp, sig := Sign(secret, ts, body)
	r.Header.Set("X-Slack-Request-Timestamp", timestamp)
	r.Header.Set("X-Slack-Signature", sig)
}

// NewSignedRequest builds a POST of body to target, signed at time ts (use a
// stale ts or a wrong secret to test rejection).
func NewSignedRequest(ctx context.Context, target, contentType string, body []byte, secret string, ts time.Time) (*http.Request, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, target, bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("build signed request: %w", err)
	}
	req.Header.Set("Content-Type", contentType)
	SignRequest(req, secret, ts, body)
	return req, nil
}

type httpTarget struct {
	base   string
	secret string
	client *http.Client
}

// DeliverOverHTTP switches deliveries (SendEvent, Mention, SendSlashCommand,
// …) from Socket Mode to HTTP: signed POSTs to baseURL+"/slack/events",
// "/slack/commands" and "/slack/interactivity", as Slack does for an app in
// HTTP mode.
func (s *Server) DeliverOverHTTP(baseURL, signingSecret string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.httpTarget = &httpTarget{
		base: strings.TrimSuffix(baseURL, "/"), secret: signingSecret,
		client: &http.Client{Timeout: 10 * time.Second},
	}
}

// HTTPBody returns the path, content type and body Slack would POST in HTTP
// mode for a delivery of type typ with the Socket Mode payload.
func HTTPBody(typ string, payload json.RawMessage) (path, contentType string, body []byte, err error) {
	switch typ {
	case "events_api":
		return "/slack/events", "application/json", payload, nil
	case "slash_commands":
		var fields map[string]string
		if err := json.Unmarshal(payload, &fields); err != nil {
			return "", "", nil, fmt.Errorf("decode slash command: %w", err)
		}
		form := url.Values{}
		for k, v := range fields {
			form.Set(k, v)
		}
		return "/slack/commands", "application/x-www-form-urlencoded", []byte(form.Encode()), nil
	case "interactive":
		form := url.Values{"payload": {string(payload)}}
		return "/slack/interactivity", "application/x-www-form-urlencoded", []byte(form.Encode()), nil
	}
	return "", "", nil, fmt.Errorf("slacktest: unknown delivery type %q", typ)
}

func (s *Server) deliver(ctx context.Context, typ string, payload json.RawMessage, retryAttempt int) (Ack, error) {
	s.mu.Lock()
	target := s.httpTarget
	s.mu.Unlock()
	if target == nil {
		return s.SendEnvelope(ctx, typ, payload, retryAttempt)
	}
	path, ctype, body, err := HTTPBody(typ, payload)
	if err != nil {
		return Ack{}, err
	}
	req, err := NewSignedRequest(ctx, target.base+path, ctype, body, target.secret, time.Now())
	if err != nil {
		return Ack{}, err
	}
	if retryAttempt > 0 {
		req.Header.Set("X-Slack-Retry-Num", strconv.Itoa(retryAttempt))
		req.Header.Set("X-Slack-Retry-Reason", "http_timeout")
	}
	start := time.Now()
	resp, err := target.client.Do(req)
	if err != nil {
		return Ack{}, fmt.Errorf("deliver over http: %w", err)
	}
	defer resp.Body.Close()
	answer, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return Ack{}, fmt.Errorf("read http ack: %w", err)
	}
	return Ack{Payload: answer, HTTPStatus: resp.StatusCode, Latency: time.Since(start)}, nil
}
