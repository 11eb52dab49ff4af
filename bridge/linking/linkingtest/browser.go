package linkingtest

import (
	"context"
	"errors"
	"fmt"
	"html"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"time"
)

// Browser is one browser: a cookie jar and an HTTP client that follows
// redirects. Its methods are not safe for concurrent use.
type Browser struct {
	c *http.Client
}

// Page is where a request ended.
type Page struct {
	Status int
	Body   string
	URL    *url.URL
	Header http.Header
}

// NewBrowser returns a browser with an empty cookie jar.
func NewBrowser() *Browser {
	jar, _ := cookiejar.New(nil) // never fails without options
	return &Browser{c: &http.Client{
		Jar:     jar,
		Timeout: 30 * time.Second,
		CheckRedirect: func(_ *http.Request, via []*http.Request) error {
			if len(via) > 10 {
				return errors.New("too many redirects")
			}
			return nil
		},
	}}
}

var (
	formAction = regexp.MustCompile(`<form method="post" action="([^"]+)">`)
	formCSRF   = regexp.MustCompile(`<input type="hidden" name="csrf" value="([^"]+)">`)
)

// Get GETs u, following redirects, clicking nothing.
func (b *Browser) Get(ctx context.Context, u string) (Page, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return Page{}, err
	}
	return b.do(req)
}

// Continue clicks Continue on the confirmation page p: it posts the page's
// form and follows the redirects (to SecondMe and, when it approves at
// once, back to the callback).
func (b *Browser) Continue(ctx context.Context, p Page) (Page, error) {
	req, err := continueRequest(ctx, p)
	if err != nil {
		return Page{}, err
	}
	return b.do(req)
}

// continueRequest is the post that Continue on the confirmation page p
// sends: the page's form action with its CSRF token.
func continueRequest(ctx context.Context, p Page) (*http.Request, error) {
	a, c := formAction.FindStringSubmatch(p.Body), formCSRF.FindStringSubmatch(p.Body)
	if a == nil || c == nil {
		return nil, fmt.Errorf("continue: no confirmation form on the page (status %d)", p.Status)
	}
	action, err := p.URL.Parse(html.UnescapeString(a[1]))
	if err != nil {
		return nil, fmt.Errorf("continue: form action: %w", err)
	}
	form := url.Values{"csrf": {html.UnescapeString(c[1])}}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, action.String(), strings.NewReader(form.Encode()))
	if err != nil {
		return nil, fmt.Errorf("continue: %w", err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return req, nil
}

// AuthorizeURL clicks Continue on the confirmation page p but does not
// follow the redirect: it returns the SecondMe authorize URL the browser
// was sent to (what an attacker would forward to a victim). The browser
// keeps the cookies the bridge set.
func (b *Browser) AuthorizeURL(ctx context.Context, p Page) (string, error) {
	req, err := continueRequest(ctx, p)
	if err != nil {
		return "", err
	}
	stop := *b.c
	stop.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	resp, err := stop.Do(req)
	if err != nil {
		return "", err
	}
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther {
		return "", fmt.Errorf("continue: status %d, want 303", resp.StatusCode)
	}
	return resp.Header.Get("Location"), nil
}

// Link opens a one-time link and, on its confirmation page, clicks
// Continue: the whole flow as a user goes through it. It returns the
// confirmation page and the page the flow ended on.
func (b *Browser) Link(ctx context.Context, link string) (confirm, end Page, err error) {
	confirm, err = b.Get(ctx, link)
	if err != nil {
		return confirm, Page{}, err
	}
	if confirm.Status != http.StatusOK {
		return confirm, confirm, nil // expired, invalid: no form
	}
	end, err = b.Continue(ctx, confirm)
	return confirm, end, err
}

// Follow is Link in a fresh browser, for tests that need only the end.
func Follow(ctx context.Context, link string) (Page, error) {
	_, end, err := NewBrowser().Link(ctx, link)
	return end, err
}

func (b *Browser) do(req *http.Request) (Page, error) {
	resp, err := b.c.Do(req)
	if err != nil {
		return Page{}, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return Page{}, err
	}
	return Page{Status: resp.StatusCode, Body: string(body), URL: resp.Request.URL, Header: resp.Header}, nil
}
