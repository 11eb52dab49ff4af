package slack

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	slackapi "github.com/slack-go/slack"

	"github.com/secondme-bridge/secondme-bridge/platforms"
)

// responseMessage is the JSON body of a response_url post.
type responseMessage struct {
	Text            string           `json:"text,omitempty"`
	ResponseType    string           `json:"response_type,omitempty"`
	ReplaceOriginal bool             `json:"replace_original"`
	DeleteOriginal  bool             `json:"delete_original,omitempty"`
	Blocks          []slackapi.Block `json:"blocks,omitempty"`
}

// httpDoer posts to response_urls. It never puts the URL (a secret) in an
// error.
type httpDoer struct{ c *http.Client }

func (d *httpDoer) postResponse(ctx context.Context, responseURL string, msg responseMessage) error {
	u, err := url.Parse(responseURL)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return errors.New("post slack response_url: not an http(s) URL")
	}
	body, err := json.Marshal(msg)
	if err != nil {
		return fmt.Errorf("post slack response_url: %w", err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, responseURL, bytes.NewReader(body))
	if err != nil {
		return errors.New("post slack response_url: bad request")
	}
	req.Header.Set("Content-Type", "application/json; charset=utf-8")
	resp, err := d.c.Do(req)
	if err != nil {
		if ue, ok := errors.AsType[*url.Error](err); ok {
			err = ue.Err // drop the URL
		}
		return fmt.Errorf("post slack response_url to %s: %w", u.Host, err)
	}
	defer resp.Body.Close()
	answer, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))

	if resp.StatusCode == http.StatusTooManyRequests {
		secs, _ := strconv.Atoi(resp.Header.Get("Retry-After"))
		return &platforms.RateLimitError{Platform: Name, RetryAfter: time.Duration(secs) * time.Second,
			Err: errors.New("slack response_url: rate limited")}
	}
	code := responseErrorCode(resp.Header.Get("Content-Type"), answer)
	if resp.StatusCode == http.StatusOK && code == "" {
		return nil
	}
	if code == "" {
		code = resp.Status
	}
	if tooLongCodes[code] {
		return fmt.Errorf("post slack response_url: %w (slack: %s)", platforms.ErrTooLong, code)
	}
	return fmt.Errorf("post slack response_url: %w", slackapi.SlackErrorResponse{Err: code})
}

// responseErrorCode reads {"ok":false,"error":"…"} or a plain-text error from
// a response_url answer; "" means success.
func responseErrorCode(contentType string, body []byte) string {
	text := strings.TrimSpace(string(body))
	if mt, _, _ := mime.ParseMediaType(contentType); mt == "application/json" {
		var r struct {
			OK    bool   `json:"ok"`
			Error string `json:"error"`
		}
		if json.Unmarshal(body, &r) == nil {
			if r.OK {
				return ""
			}
			return r.Error
		}
	}
	if text == "" || text == "ok" {
		return ""
	}
	if len(text) > 64 || strings.ContainsAny(text, " <>") {
		return "unexpected_response"
	}
	return text
}
