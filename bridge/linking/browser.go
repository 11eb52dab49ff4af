package linking

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/secondme-bridge/secondme-bridge/internal/i18n"
)

// Cookie base names. With an https public URL they get the __Host- prefix
// (the browser then insists on Secure, Path=/ and no Domain, so no other
// host, sibling subdomains included, can set or overwrite them).
const (
	// cookieCSRF holds the confirmation page's CSRF token; the Continue
	// form must send the same value (double submit). SameSite=Strict: a
	// form posted from another site never carries it.
	cookieCSRF = "smb_csrf"
	// cookieFlow holds the browser nonce of a continued link, and hints
	// (platform, language) for the pages of a callback whose state is
	// gone. SameSite=Lax: the top-level redirect back from SecondMe
	// carries it.
	cookieFlow = "smb_link"
)

// maxFormBytes bounds the Continue form (one hidden field).
const maxFormBytes = 4 << 10

func (l *Linker) cookieName(base string) string {
	if l.secure {
		return "__Host-" + base
	}
	return base
}

// setCookie sets an HttpOnly cookie on path / for maxAge (a negative
// maxAge deletes it).
func (l *Linker) setCookie(w http.ResponseWriter, base, value string, maxAge time.Duration, site http.SameSite) {
	c := &http.Cookie{
		Name: l.cookieName(base), Value: value, Path: "/",
		HttpOnly: true, Secure: l.secure, SameSite: site,
	}
	if maxAge < 0 {
		c.MaxAge = -1
	} else {
		c.MaxAge = int(maxAge / time.Second)
	}
	http.SetCookie(w, c)
}

func (l *Linker) cookie(r *http.Request, base string) string {
	c, err := r.Cookie(l.cookieName(base))
	if err != nil {
		return ""
	}
	return c.Value
}

// nonceHash is what the OAuth state stores of the browser nonce.
func nonceHash(nonce string) string {
	sum := sha256.Sum256([]byte("secondme-bridge/browser-nonce/v1\x00" + nonce))
	return hex.EncodeToString(sum[:])
}

// sameBrowser reports, in constant time, whether nonce is the one whose
// hash the state holds. An empty hash or nonce never matches.
func sameBrowser(nonce, hash string) bool {
	if nonce == "" || hash == "" {
		return false
	}
	return subtle.ConstantTimeCompare([]byte(nonceHash(nonce)), []byte(hash)) == 1
}

// flowCookie is the value of cookieFlow: nonces~platform~lang, the nonces
// dot-separated, newest first. A browser may have a few links under way
// (the user ran /link twice): each callback matches its own nonce. Once a
// flow is over its nonce is dropped; the hints stay a while, for the page
// of a callback replayed later.
type flowCookie struct {
	nonces         []string
	platform, lang string
}

// maxFlowNonces bounds the links one browser can have under way.
const maxFlowNonces = 4

func (f flowCookie) String() string {
	return strings.Join(f.nonces, ".") + "~" + f.platform + "~" + f.lang
}

// with returns f with nonce added (newest first, at most maxFlowNonces).
func (f flowCookie) with(nonce string) flowCookie {
	f.nonces = append([]string{nonce}, f.nonces[:min(len(f.nonces), maxFlowNonces-1)]...)
	return f
}

// matching returns the nonce of f whose hash is hash, or "".
func (f flowCookie) matching(hash string) string {
	found := ""
	for _, n := range f.nonces {
		if sameBrowser(n, hash) {
			found = n
		}
	}
	return found
}

// without returns f without nonce.
func (f flowCookie) without(nonce string) flowCookie {
	out := f
	out.nonces = nil
	for _, n := range f.nonces {
		if n != nonce {
			out.nonces = append(out.nonces, n)
		}
	}
	return out
}

// parseFlowCookie reads cookieFlow. Anything malformed reads as empty; the
// hints are kept only when they name a configured platform and a known
// language.
func (l *Linker) parseFlowCookie(r *http.Request) flowCookie {
	parts := strings.Split(l.cookie(r, cookieFlow), "~")
	if len(parts) != 3 {
		return flowCookie{}
	}
	var f flowCookie
	if parts[0] != "" {
		for _, n := range strings.Split(parts[0], ".") {
			if !validID(n) || len(f.nonces) == maxFlowNonces {
				return flowCookie{}
			}
			f.nonces = append(f.nonces, n)
		}
	}
	f.platform, f.lang = l.hint(parts[1], parts[2])
	return f
}

// hint validates a platform and language hint (from the link URL's query
// or the flow cookie): only configured platforms and catalog languages
// pass.
func (l *Linker) hint(platform, lang string) (string, string) {
	if _, ok := l.platforms[platform]; !ok {
		platform = ""
	}
	if lang != "" && i18n.Get(lang) == nil {
		lang = ""
	}
	return platform, lang
}

// langOf is the catalog language of a locale ("zh", "en"), or "" when
// the locale is unknown.
func langOf(locale string) string {
	if locale == "" {
		return ""
	}
	return i18n.Match(locale).Language
}

// sameOrigin reports whether a state-changing request comes from our own
// pages: Sec-Fetch-Site, when sent, must not be cross-site, and Origin,
// when sent, must be the public URL's origin. (The CSRF cookie is the
// main guard; this refuses a forged post early, in every browser that
// sends the headers.)
func (l *Linker) sameOrigin(r *http.Request) bool {
	if s := r.Header.Get("Sec-Fetch-Site"); s != "" && s != "same-origin" && s != "none" {
		return false
	}
	o := r.Header.Get("Origin")
	if o == "" {
		return true
	}
	if o == "null" {
		// A browser hides the origin under some referrer policies and
		// privacy settings; Sec-Fetch-Site, which no page can set, must
		// then say the post came from our own origin.
		return r.Header.Get("Sec-Fetch-Site") == "same-origin"
	}
	u, err := url.Parse(l.publicURL)
	if err != nil {
		return false
	}
	host := u.Host
	if (u.Scheme == "https" && u.Port() == "443") || (u.Scheme == "http" && u.Port() == "80") {
		host = u.Hostname() // browsers omit the default port
	}
	return strings.EqualFold(o, u.Scheme+"://"+host)
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
