package secondme

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"strconv"
	"sync/atomic"
)

const pathChatStream = "/api/secondme/chat/stream"

// MaxTokensLimit is the largest MaxTokens the API accepts.
const MaxTokensLimit = 16000

// ChatRequest is one turn of chat/stream.
type ChatRequest struct {
	// Message is the user's message (required).
	Message string
	// SessionID continues a session; empty starts a new one, whose ID
	// arrives as an EventSession.
	SessionID string
	// SystemPrompt is sent only when SessionID is empty: the API honours
	// it on the first turn of a session only.
	SystemPrompt string
	// AppID tags the session; empty falls back to WithAppID. It is sent as
	// body appId and as the X-App-Id header.
	AppID string
	// Model is omitted when empty (server default). Other values than the
	// server knows give a 422.
	Model string
	// MaxTokens is omitted when 0; otherwise 1–16000.
	MaxTokens int
	// EnableWebSearch adds tool_call and tool_result events.
	EnableWebSearch bool
}

type chatBody struct {
	Message         string `json:"message"`
	SessionID       string `json:"sessionId,omitempty"`
	SystemPrompt    string `json:"systemPrompt,omitempty"`
	AppID           string `json:"appId,omitempty"`
	Model           string `json:"model,omitempty"`
	MaxTokens       int    `json:"maxTokens,omitempty"`
	EnableWebSearch bool   `json:"enableWebSearch,omitempty"`
}

// ChatStream starts a streaming reply from the token owner's own avatar
// (scope chat.write, older chat). It returns once the response headers
// arrived. A response that is not a 2xx text/event-stream (a JSON error
// body at any status, even 200) gives a *APIError. The stream lives until
// ctx ends: give ctx the overall deadline of the reply. The client's HTTP
// timeout does not apply; the idle timeout (WithIdleTimeout) does, from
// the request on.
//
// SecondMe API docs: https://develop-docs.second.me/en/docs/secondme/chat
func (c *Client) ChatStream(ctx context.Context, token string, req ChatRequest) (*Stream, error) {
	if isBlank(req.Message) {
		return nil, &ValidationError{Field: "message", Problem: "is required"}
	}
	if token == "" {
		return nil, &ValidationError{Field: "token", Problem: "is empty"}
	}
	if req.MaxTokens < 0 || req.MaxTokens > MaxTokensLimit {
		return nil, &ValidationError{Field: "maxTokens", Problem: "must be between 1 and " + strconv.Itoa(MaxTokensLimit)}
	}
	body := chatBody{
		Message:         req.Message,
		SessionID:       req.SessionID,
		AppID:           cmp.Or(req.AppID, c.appID),
		Model:           req.Model,
		MaxTokens:       req.MaxTokens,
		EnableWebSearch: req.EnableWebSearch,
	}
	if req.SessionID == "" {
		body.SystemPrompt = req.SystemPrompt
	}
	ac := apiCall{method: http.MethodPost, path: pathChatStream, token: token, json: body}
	s := newStream(ctx, c.idleTimeout, pathChatStream, []string{token})
	// newRequest sets no deadline (do adds the per-call timeout); the
	// stream's context is the caller's plus idle timeout and Close.
	hreq, err := c.newRequest(s.ctx, ac)
	if err != nil {
		s.release(ErrStreamClosed)
		return nil, err
	}
	hreq.Header.Set("Accept", "text/event-stream")
	if body.AppID != "" {
		hreq.Header.Set("X-App-Id", body.AppID)
	}
	// Whether the request was written decides whether a failure may be
	// retried without the risk of a second reply (NotSent).
	var wrote atomic.Bool
	hreq = hreq.WithContext(httptrace.WithClientTrace(hreq.Context(), &httptrace.ClientTrace{
		WroteHeaders: func() { wrote.Store(true) },
	}))
	resp, err := c.streamHC.Do(hreq)
	if err != nil {
		err = s.startErr(err)
		var ne *netError
		if errors.As(err, &ne) && !wrote.Load() {
			ne.unsent = true
		}
		s.release(ErrStreamClosed)
		return nil, err
	}
	s.attach(resp.Body, resp.StatusCode)
	if !s.isEventStream(resp) {
		defer s.release(ErrStreamClosed)
		raw, rerr := io.ReadAll(io.LimitReader(s.dec.r, maxErrorBody))
		if rerr != nil && len(raw) == 0 {
			return nil, s.endErr(rerr)
		}
		ae := c.errorFromBody(resp, ac, raw)
		if ae.Message == "" && ae.SubCode == "" && ae.Code == 0 {
			ae.Message = "response is not an event stream (content type " + snippet([]byte(resp.Header.Get("Content-Type"))) + ")"
		}
		return nil, ae
	}
	return s, nil
}

// isEventStream reports whether resp is a 2xx event stream. A 2xx without
// Content-Type is sniffed: a body starting with '{' is a JSON error.
func (s *Stream) isEventStream(resp *http.Response) bool {
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return false
	}
	ct := resp.Header.Get("Content-Type")
	if ct == "" {
		for {
			b, err := s.dec.r.Peek(1)
			if err != nil || len(b) == 0 {
				return true // let Next report the end
			}
			switch b[0] {
			case ' ', '\t', '\r', '\n':
				_, _ = s.dec.r.ReadByte()
				continue
			}
			return b[0] != '{'
		}
	}
	mt, _, err := mime.ParseMediaType(ct)
	return err == nil && mt == "text/event-stream"
}

// startErr classifies a failure before the response headers.
func (s *Stream) startErr(err error) error {
	if s.ctx.Err() != nil && errors.Is(context.Cause(s.ctx), ErrIdleTimeout) {
		return fmt.Errorf("secondme: start chat stream: %w", ErrIdleTimeout)
	}
	if perr := s.parent.Err(); perr != nil {
		return fmt.Errorf("secondme: start chat stream: %w", perr)
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	return &netError{op: "POST " + pathChatStream, err: err}
}
