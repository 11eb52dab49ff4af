package secondme

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// Body size limits. Success bodies larger than maxJSONBody are an error;
// error bodies are truncated to maxErrorBody before decoding.
const (
	maxJSONBody  = 1 << 20
	maxErrorBody = 64 << 10
)

// Client is a SecondMe API client. It is safe for concurrent use and holds
// no per-user state: every call takes the user's credential.
type Client struct {
	base         string // no trailing slash
	hc           *http.Client
	streamHC     *http.Client // hc without Timeout
	userAgent    string
	appID        string
	clientID     string
	clientSecret string
	authorizeURL *url.URL
	timeout      time.Duration
	idleTimeout  time.Duration
	now          func() time.Time
}

// NewClient returns a client configured by opts. It fails when an option is
// invalid, for example a base URL that is not absolute http(s).
func NewClient(opts ...Option) (*Client, error) {
	authURL, _ := url.Parse(DefaultAuthorizeURL)
	c := &Client{
		base:         DefaultBaseURL,
		hc:           &http.Client{Transport: LimitNewConns(NewTransport(0), 0)},
		userAgent:    DefaultUserAgent,
		authorizeURL: authURL,
		timeout:      DefaultTimeout,
		idleTimeout:  DefaultIdleTimeout,
		now:          time.Now,
	}
	for _, opt := range opts {
		if opt == nil {
			continue
		}
		if err := opt(c); err != nil {
			return nil, fmt.Errorf("secondme: new client: %w", err)
		}
	}
	if c.hc.CheckRedirect == nil {
		hc := *c.hc
		hc.CheckRedirect = SameHostRedirects
		c.hc = &hc
	}
	shc := *c.hc
	shc.Timeout = 0
	c.streamHC = &shc
	return c, nil
}

// BaseURL returns the API base URL without a trailing slash.
func (c *Client) BaseURL() string { return c.base }

// errCallTimeout is the cause of the per-call deadline set by WithTimeout.
var errCallTimeout = errors.New("secondme: per-call timeout")

// apiCall describes one non-streaming request.
type apiCall struct {
	method  string
	path    string
	token   string
	query   url.Values
	json    any        // JSON body, if non-nil
	form    url.Values // form body, if non-nil
	secrets []string   // values to redact from server messages besides token
	noAuth  bool       // public endpoint: no Bearer token
}

// envelope is the SecondMe response envelope, with the error variants of
// secondme-api.md §4.
type envelope struct {
	Code      flexInt         `json:"code"`
	Message   flexString      `json:"message"`
	SubCode   flexString      `json:"subCode"`
	ErrorCode flexString      `json:"error_code"`
	Detail    json.RawMessage `json:"detail"`
	Data      json.RawMessage `json:"data"`
}

// isError reports whether a decoded 2xx envelope carries an error: a
// non-zero code, or a FastAPI detail without data.
func (e *envelope) isError() bool {
	if e.Code.Set && e.Code.V != 0 {
		return true
	}
	return len(e.Detail) > 0 && !isJSONNull(e.Detail) && len(e.Data) == 0
}

// do sends ac and decodes the envelope's data into out (if non-nil). It
// returns the raw body of a success for callers that need more than data.
func (c *Client) do(ctx context.Context, ac apiCall, out any) ([]byte, error) {
	if !ac.noAuth && ac.token == "" {
		return nil, &ValidationError{Field: "token", Problem: "is empty"}
	}
	if c.timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeoutCause(ctx, c.timeout, errCallTimeout)
		defer cancel()
	}
	req, err := c.newRequest(ctx, ac)
	if err != nil {
		return nil, err
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return nil, c.transportError(ctx, ac, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode >= 400 {
		body, rerr := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
		if rerr != nil && len(body) == 0 {
			return nil, c.transportError(ctx, ac, rerr)
		}
		return nil, c.errorFromBody(resp, ac, body)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxJSONBody+1))
	if err != nil {
		return nil, c.transportError(ctx, ac, err)
	}
	if len(body) > maxJSONBody {
		return nil, fmt.Errorf("secondme: %s %s: response larger than %d bytes: %w", ac.method, ac.path, maxJSONBody, ErrMalformedResponse)
	}
	var env envelope
	if err := json.Unmarshal(body, &env); err != nil {
		return nil, fmt.Errorf("secondme: %s %s: decode response: %w", ac.method, ac.path, ErrMalformedResponse)
	}
	if env.isError() {
		return nil, c.errorFromEnvelope(resp, ac, &env)
	}
	if out != nil && len(env.Data) > 0 && !isJSONNull(env.Data) {
		if err := json.Unmarshal(env.Data, out); err != nil {
			return nil, fmt.Errorf("secondme: %s %s: decode data: %w", ac.method, ac.path, ErrMalformedResponse)
		}
	}
	return body, nil
}

func (c *Client) newRequest(ctx context.Context, ac apiCall) (*http.Request, error) {
	u := c.base + ac.path
	if len(ac.query) > 0 {
		u += "?" + ac.query.Encode()
	}
	var body io.Reader
	contentType := ""
	switch {
	case ac.form != nil:
		body = strings.NewReader(ac.form.Encode())
		contentType = "application/x-www-form-urlencoded"
	case ac.json != nil:
		b, err := json.Marshal(ac.json)
		if err != nil {
			return nil, fmt.Errorf("secondme: encode %s body: %w", ac.path, err)
		}
		body = bytes.NewReader(b)
		contentType = "application/json"
	}
	req, err := http.NewRequestWithContext(ctx, ac.method, u, body)
	if err != nil {
		return nil, fmt.Errorf("secondme: build %s request: %w", ac.path, err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	req.Header.Set("Accept", "application/json")
	if c.userAgent != "" {
		req.Header.Set("User-Agent", c.userAgent)
	}
	if ac.token != "" {
		req.Header.Set("Authorization", "Bearer "+ac.token)
	}
	return req, nil
}

// transportError wraps a failure to get or read a response. Timeouts of
// WithTimeout become ErrTimeout; the request URL is not included.
func (c *Client) transportError(ctx context.Context, ac apiCall, err error) error {
	if ctx.Err() != nil && errors.Is(context.Cause(ctx), errCallTimeout) {
		return fmt.Errorf("secondme: %s %s: %w", ac.method, ac.path, ErrTimeout)
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	return &netError{op: ac.method + " " + ac.path, err: err}
}

// errorFromBody builds the *APIError for an HTTP error status.
func (c *Client) errorFromBody(resp *http.Response, ac apiCall, body []byte) *APIError {
	return apiErrorFromBody(c.newAPIError(resp, ac.path), body, ac.redactions())
}

func (c *Client) errorFromEnvelope(resp *http.Response, ac apiCall, env *envelope) *APIError {
	return apiErrorFromEnvelope(c.newAPIError(resp, ac.path), env, ac.redactions())
}

// redactions lists the values to redact from server messages about ac:
// its token and any extra secrets.
func (ac *apiCall) redactions() []string {
	return append([]string{ac.token}, ac.secrets...)
}

// apiErrorFromBody fills e from an error body (an API response or an
// event: error payload): the envelope when body is JSON, else a one-line
// snippet. secrets and credential-shaped text are redacted.
func apiErrorFromBody(e *APIError, body []byte, secrets []string) *APIError {
	var env envelope
	if err := json.Unmarshal(body, &env); err != nil {
		e.Message = snippet(body, secrets...)
		return e
	}
	return apiErrorFromEnvelope(e, &env, secrets)
}

// apiErrorFromEnvelope fills e from a decoded envelope and redacts
// secrets and credential-shaped text from it.
func apiErrorFromEnvelope(e *APIError, env *envelope, secrets []string) *APIError {
	if len(env.Detail) > 0 {
		// A detail that is neither a string, a list nor an object is cut
		// to a snippet: redact it whole first.
		env.Detail = json.RawMessage(redact(string(env.Detail), secrets...))
	}
	fillFromEnvelope(e, env)
	e.Message = redact(e.Message, secrets...)
	e.SubCode = redact(e.SubCode, secrets...)
	return e
}

func (c *Client) newAPIError(resp *http.Response, endpoint string) *APIError {
	e := &APIError{HTTPStatus: resp.StatusCode, Endpoint: endpoint}
	if ra := resp.Header.Get("Retry-After"); ra != "" {
		e.RetryAfter = parseRetryAfter(ra, c.now())
	}
	return e
}

// fillFromEnvelope copies code, sub-code and message (or detail) into e.
func fillFromEnvelope(e *APIError, env *envelope) {
	e.Code = int(env.Code.V)
	e.SubCode = env.SubCode.V
	if e.SubCode == "" {
		e.SubCode = env.ErrorCode.V
	}
	e.Message = env.Message.V
	if len(env.Detail) > 0 && !isJSONNull(env.Detail) {
		msg, sub := detailMessage(env.Detail)
		if e.Message == "" {
			e.Message = msg
		}
		if e.SubCode == "" {
			e.SubCode = sub
		}
	}
}

// detailMessage renders a FastAPI detail: a string, a list of
// {loc, msg} items, or an object with message/msg and maybe a code.
func detailMessage(raw json.RawMessage) (msg, subCode string) {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s, ""
	}
	var items []struct {
		Loc []any      `json:"loc"`
		Msg flexString `json:"msg"`
	}
	if json.Unmarshal(raw, &items) == nil {
		parts := make([]string, 0, len(items))
		for _, it := range items {
			loc := make([]string, 0, len(it.Loc))
			for _, l := range it.Loc {
				loc = append(loc, fmt.Sprint(l))
			}
			if len(loc) > 0 {
				parts = append(parts, strings.Join(loc, ".")+": "+it.Msg.V)
			} else {
				parts = append(parts, it.Msg.V)
			}
		}
		return strings.Join(parts, "; "), ""
	}
	var obj struct {
		Message   flexString `json:"message"`
		Msg       flexString `json:"msg"`
		SubCode   flexString `json:"subCode"`
		ErrorCode flexString `json:"error_code"`
	}
	if json.Unmarshal(raw, &obj) == nil {
		msg = obj.Message.V
		if msg == "" {
			msg = obj.Msg.V
		}
		subCode = obj.SubCode.V
		if subCode == "" {
			subCode = obj.ErrorCode.V
		}
		return msg, subCode
	}
	return snippet(raw), ""
}

func isJSONNull(b []byte) bool {
	return string(bytes.TrimSpace(b)) == "null"
}
