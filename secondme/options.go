package secondme

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// Defaults used by NewClient.
const (
	// DefaultBaseURL is the SecondMe API base (secondme-api.md §2).
	DefaultBaseURL = "https://api.mindverse.com/gate/lab"
	// DefaultAuthorizeURL is the OAuth authorize page.
	DefaultAuthorizeURL = "https://go.second.me/oauth/"
	// DefaultTimeout is the per-call deadline of non-streaming calls.
	DefaultTimeout = 30 * time.Second
	// DefaultIdleTimeout ends a stream that receives no bytes for this long.
	DefaultIdleTimeout = 60 * time.Second
	// DefaultUserAgent is sent when WithUserAgent is not used.
	DefaultUserAgent = "secondme-bridge-go"
)

// Option configures a Client. Options are applied in order by NewClient,
// which returns the first error an option reports.
type Option func(*Client) error

// WithBaseURL sets the API base URL (config secondme.api_url), for example
// "https://api.mindverse.com/gate/lab". A trailing slash is optional. The URL
// must be absolute http(s) without query or fragment.
func WithBaseURL(u string) Option {
	return func(c *Client) error {
		parsed, err := parseHTTPURL(u)
		if err != nil {
			return fmt.Errorf("parse base url: %w", err)
		}
		if parsed.RawQuery != "" || parsed.Fragment != "" {
			return errors.New("parse base url: query and fragment are not allowed")
		}
		c.base = strings.TrimRight(parsed.String(), "/")
		return nil
	}
}

// WithHTTPClient sets the HTTP client used for every request. Its Timeout
// applies to non-streaming calls only: streams use a copy with no Timeout
// and rely on the context and the idle timeout instead. A client without a
// CheckRedirect policy is used through a copy with SameHostRedirects.
func WithHTTPClient(hc *http.Client) Option {
	return func(c *Client) error {
		if hc == nil {
			return errors.New("http client is nil")
		}
		c.hc = hc
		return nil
	}
}

// WithUserAgent sets the User-Agent header.
func WithUserAgent(ua string) Option {
	return func(c *Client) error {
		c.userAgent = ua
		return nil
	}
}

// WithAppID sets the default appId used by ChatStream and ListSessions when
// a call leaves it empty (config secondme.app_id).
func WithAppID(appID string) Option {
	return func(c *Client) error {
		c.appID = appID
		return nil
	}
}

// WithOAuth sets the OAuth client credentials and the authorize page URL.
// An empty authorizeURL keeps DefaultAuthorizeURL. The authorize URL may
// carry a query; AuthorizeURL preserves it.
func WithOAuth(clientID, clientSecret, authorizeURL string) Option {
	return func(c *Client) error {
		c.clientID = clientID
		c.clientSecret = clientSecret
		if authorizeURL == "" {
			authorizeURL = DefaultAuthorizeURL
		}
		u, err := parseHTTPURL(authorizeURL)
		if err != nil {
			return fmt.Errorf("parse authorize url: %w", err)
		}
		c.authorizeURL = u
		return nil
	}
}

// WithTimeout sets the per-call deadline of non-streaming calls (default
// 30s). Zero disables it; the caller's context still applies.
func WithTimeout(d time.Duration) Option {
	return func(c *Client) error {
		if d < 0 {
			return errors.New("timeout is negative")
		}
		c.timeout = d
		return nil
	}
}

// WithIdleTimeout sets the stream idle timeout (default 60s): a stream that
// receives no bytes for d, waiting for the response headers included, ends
// with ErrIdleTimeout. Zero disables it.
func WithIdleTimeout(d time.Duration) Option {
	return func(c *Client) error {
		if d < 0 {
			return errors.New("idle timeout is negative")
		}
		c.idleTimeout = d
		return nil
	}
}

func parseHTTPURL(s string) (*url.URL, error) {
	u, err := url.Parse(s)
	if err != nil {
		return nil, errors.New("not a url") // url.Error would echo the input
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return nil, errors.New("scheme must be http or https")
	}
	if u.Host == "" {
		return nil, errors.New("host is missing")
	}
	if u.User != nil {
		return nil, errors.New("user info is not allowed")
	}
	return u, nil
}
