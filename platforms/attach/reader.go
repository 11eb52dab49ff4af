package attach

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"path"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/secondme-bridge/secondme-bridge/platforms"
)

// DefaultMaxBytes is the default bound on the bytes read of one file.
const DefaultMaxBytes = 100 * 1024

// Defaults of a Reader.
const (
	defaultMaxFiles = 10
	defaultTimeout  = 10 * time.Second // one file
	totalTimeout    = 20 * time.Second // every file of a message
	maxRedirects    = 3
)

// File is an attachment as the platform describes it.
type File struct {
	Name        string
	ContentType string
	Size        int64
	URL         string
}

// Reader downloads text attachments. The zero value is not usable: set
// Hosts. It is safe for concurrent use once configured.
type Reader struct {
	// Client is the HTTP client (default: one with a 10 s timeout). Its
	// CheckRedirect is replaced: redirects are followed only to Hosts.
	Client *http.Client
	// MaxBytes bounds the bytes read of one file (default DefaultMaxBytes);
	// a longer file is cut there and marked Truncated.
	MaxBytes int64
	// MaxFiles bounds the files read per message (default 10); the others
	// are not read (platforms.NotReadLimit).
	MaxFiles int
	// Hosts are the platform's own file hosts. A URL is fetched only when
	// its host is one of them, over https. Required.
	Hosts []string
	// AllowHTTP also accepts http URLs (tests against a fake on
	// 127.0.0.1); production adapters never set it.
	AllowHTTP bool
	// Header is added to every request, redirects included (Slack's
	// Authorization: Bearer <bot token>). It is a secret: never logged.
	Header http.Header
}

// Read reads files, in order: the text of the text files from the allowed
// hosts, and a reason for every other file. It never fails as a whole, and
// takes at most 10 s per file and 20 s in all (an adapter calls it before
// handing the event over).
func (r *Reader) Read(ctx context.Context, files []File) []platforms.Attachment {
	if len(files) == 0 {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, totalTimeout)
	defer cancel()
	out := make([]platforms.Attachment, 0, len(files))
	read := 0
	for _, f := range files {
		a := platforms.Attachment{Name: f.Name, ContentType: f.ContentType, Size: f.Size}
		switch {
		case !IsText(f.Name, f.ContentType):
			a.NotRead = platforms.NotReadType
		case !r.allowed(f.URL):
			a.NotRead = platforms.NotReadHost
		case read >= r.maxFiles():
			a.NotRead = platforms.NotReadLimit
		default:
			read++
			text, cut, err := r.fetch(ctx, f)
			if err != nil {
				a.NotRead = platforms.NotReadFailed
				if errors.Is(err, errHost) {
					a.NotRead = platforms.NotReadHost
				}
				break
			}
			a.Text, a.Truncated = text, cut
		}
		out = append(out, a)
	}
	return out
}

func (r *Reader) maxFiles() int {
	if r.MaxFiles > 0 {
		return r.MaxFiles
	}
	return defaultMaxFiles
}

func (r *Reader) maxBytes() int64 {
	if r.MaxBytes > 0 {
		return r.MaxBytes
	}
	return DefaultMaxBytes
}

// allowed reports whether raw is an https (or, with AllowHTTP, http) URL on
// one of Hosts, without credentials in it.
func (r *Reader) allowed(raw string) bool {
	u, err := url.Parse(raw)
	if err != nil || u.User != nil {
		return false
	}
	if u.Scheme != "https" && !(r.AllowHTTP && u.Scheme == "http") {
		return false
	}
	return slices.Contains(r.Hosts, strings.ToLower(u.Host))
}

var errHost = errors.New("attachment host not allowed")

// fetch downloads at most MaxBytes of f and returns them as text, cut when
// the file is longer. An HTML page where the file is not HTML is a login
// page (Slack's answer to a request it did not authorize): not the file.
func (r *Reader) fetch(ctx context.Context, f File) (string, bool, error) {
	ctx, cancel := context.WithTimeout(ctx, defaultTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, f.URL, nil)
	if err != nil {
		return "", false, fmt.Errorf("read attachment: %w", err)
	}
	for k, vs := range r.Header {
		req.Header[k] = slices.Clone(vs)
	}
	resp, err := r.client().Do(req)
	if err != nil {
		return "", false, fmt.Errorf("read attachment: %w", redactURL(err))
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return "", false, fmt.Errorf("read attachment: status %d", resp.StatusCode)
	}
	if isHTML(resp.Header.Get("Content-Type")) && !isHTML(f.ContentType) && !isHTMLName(f.Name) {
		return "", false, errors.New("read attachment: got an HTML page instead of the file")
	}
	limit := r.maxBytes()
	b, err := io.ReadAll(io.LimitReader(resp.Body, limit+1))
	if err != nil {
		return "", false, fmt.Errorf("read attachment: %w", err)
	}
	cut := int64(len(b)) > limit
	if cut {
		b = b[:limit]
		// Do not split a character at the bound.
		for i := 0; i < utf8.UTFMax && len(b) > 0 && !utf8.Valid(b); i++ {
			b = b[:len(b)-1]
		}
	}
	if !utf8.Valid(b) || bytes.IndexByte(b, 0) >= 0 {
		return "", false, errors.New("read attachment: not UTF-8 text")
	}
	return string(b), cut, nil
}

// client is r.Client (or a default) whose redirects stay on Hosts and keep
// Header (Go drops Authorization when a redirect changes host).
func (r *Reader) client() *http.Client {
	c := &http.Client{Timeout: defaultTimeout}
	if r.Client != nil {
		cp := *r.Client
		c = &cp
	}
	c.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		if len(via) >= maxRedirects {
			return errors.New("too many redirects")
		}
		if !r.allowed(req.URL.String()) {
			return errHost
		}
		for k, vs := range r.Header {
			req.Header[k] = slices.Clone(vs)
		}
		return nil
	}
	return c
}

func isHTML(contentType string) bool {
	mt, _, err := mime.ParseMediaType(contentType)
	return err == nil && mt == "text/html"
}

func isHTMLName(name string) bool {
	ext := strings.ToLower(path.Ext(name))
	return ext == ".html" || ext == ".htm"
}

// redactURL drops the URL's query (signed CDN parameters) from a client
// error.
func redactURL(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		u, perr := url.Parse(ue.URL)
		if perr == nil {
			u.RawQuery = ""
			return &url.Error{Op: ue.Op, URL: u.String(), Err: ue.Err}
		}
	}
	return err
}
