package linking

import (
	"bytes"
	"html/template"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"

	"github.com/secondme-bridge/secondme-bridge/internal/i18n"
)

// pageKind names one result page. Each has a title and a message in every
// catalog language (templates "<kind>.title.<lang>" and "<kind>.msg.<lang>",
// from internal/i18n); every language is shown, the user's first.
type pageKind string

const (
	pageSuccess        pageKind = "success"
	pageExpired        pageKind = "expired"
	pageInvalid        pageKind = "invalid"
	pageDenied         pageKind = "denied"
	pageProviderError  pageKind = "provider_error"
	pageMissingCode    pageKind = "missing_code"
	pageExchangeFailed pageKind = "exchange_failed"
	pageInternal       pageKind = "internal"
	pageMethod         pageKind = "method"
)

var pageStatus = map[pageKind]int{
	pageSuccess:        http.StatusOK,
	pageExpired:        http.StatusGone,
	pageInvalid:        http.StatusBadRequest,
	pageDenied:         http.StatusOK,
	pageProviderError:  http.StatusBadGateway,
	pageMissingCode:    http.StatusBadRequest,
	pageExchangeFailed: http.StatusBadGateway,
	pageInternal:       http.StatusInternalServerError,
	pageMethod:         http.StatusMethodNotAllowed,
}

// pageTexts are the pages' sentences, from the "page.*" texts of every
// catalog in internal/i18n: "<kind>.title.<lang>", "<kind>.msg.<lang>" and
// "relink.<lang>" templates. Values are inserted by html/template, which
// escapes them.
func pageTexts(set *i18n.Set) string {
	var b strings.Builder
	for _, c := range set.All() {
		for key, text := range c.Texts {
			name, ok := strings.CutPrefix(key, "page.")
			if !ok {
				continue
			}
			b.WriteString(`{{define "` + name + "." + c.Language + `"}}` + text + "{{end}}\n")
		}
	}
	return b.String()
}

const pageLayout = `<!doctype html>
<html lang="{{.Lang}}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>{{.Title}} · SecondMe</title>
<style>
body{margin:0;font:16px/1.5 system-ui,-apple-system,"Segoe UI","PingFang SC","Microsoft YaHei",sans-serif;background:#f6f7f9;color:#1d1f23}
main{max-width:32rem;margin:10vh auto;padding:0 1rem}
section{background:#fff;border-radius:12px;padding:1.25rem 1.5rem;box-shadow:0 1px 3px rgba(0,0,0,.08);margin-bottom:1rem}
h1{font-size:1.25rem;margin:0 0 .5rem}
p{margin:0;overflow-wrap:anywhere}
section+section{opacity:.85}
@media (prefers-color-scheme:dark){body{background:#16181c;color:#e6e7ea}section{background:#202329}}
</style>
</head>
<body>
<main>
{{range .Sections}}<section lang="{{.Lang}}">
<h1>{{.Title}}</h1>
<p>{{.Message}}</p>
</section>
{{end}}</main>
</body>
</html>
`

var layoutTemplate = template.Must(template.New("layout").Parse(pageLayout))

// pageTemplates are the text templates of one generation of the catalogs
// (texts can change on a config reload: i18n.Apply).
type pageTemplates struct {
	set *i18n.Set
	tpl *template.Template
}

var textTemplatesCache atomic.Pointer[pageTemplates]

// textTemplates returns the page texts of set, parsed once per set. The
// catalogs' page texts are checked to parse (internal/i18n), so an error
// here is a defect; it is returned, not panicked.
func textTemplates(set *i18n.Set) (*template.Template, error) {
	if pt := textTemplatesCache.Load(); pt != nil && pt.set == set {
		return pt.tpl, nil
	}
	tpl, err := template.New("texts").Parse(pageTexts(set))
	if err != nil {
		return nil, err
	}
	textTemplatesCache.Store(&pageTemplates{set: set, tpl: tpl})
	return tpl, nil
}

type pageData struct {
	Name     string
	Replaced string
}

type pageSection struct {
	Lang    string
	Title   string
	Message template.HTML // produced by html/template from pageTexts, values escaped
}

// securityHeaders are sent with every response of the linking routes,
// redirects included.
func securityHeaders(h http.Header) {
	h.Set("Cache-Control", "no-store")
	h.Set("Pragma", "no-cache")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'")
}

// renderPage writes the page of kind, primary language chosen from locale
// (the PendingLink's, when known) or else the Accept-Language header.
func (l *Linker) renderPage(w http.ResponseWriter, r *http.Request, kind pageKind, locale string, data pageData) {
	set := i18n.Current()
	texts, err := textTemplates(set)
	if err != nil {
		l.log.ErrorContext(r.Context(), "parse page texts", "error", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	var sections []pageSection
	for _, c := range languageOrder(set, locale, r.Header.Get("Accept-Language")) {
		lang := c.Language
		title, err1 := execText(texts, string(kind)+".title."+lang, data)
		msg, err2 := execText(texts, string(kind)+".msg."+lang, data)
		if err2 == nil && kind != pageSuccess && kind != pageMethod {
			// The pages don't always know the platform; name both commands.
			var note template.HTML
			note, err2 = execText(texts, "relink."+lang, data)
			msg += note
		}
		if err1 != nil || err2 != nil {
			l.log.ErrorContext(r.Context(), "render page text", "page", string(kind))
			http.Error(w, "internal error", http.StatusInternalServerError)
			return
		}
		sections = append(sections, pageSection{Lang: c.HTMLLang, Title: string(title), Message: msg})
	}
	var body bytes.Buffer
	err = layoutTemplate.Execute(&body, struct {
		Lang     string
		Title    string
		Sections []pageSection
	}{Lang: sections[0].Lang, Title: sections[0].Title, Sections: sections})
	if err != nil {
		l.log.ErrorContext(r.Context(), "render page", "page", string(kind), "error", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	h := w.Header()
	securityHeaders(h)
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Length", strconv.Itoa(body.Len()))
	w.WriteHeader(pageStatus[kind])
	if r.Method != http.MethodHead {
		_, _ = w.Write(body.Bytes())
	}
}

// execText renders one text snippet. Titles contain no markup; the snippet
// output is HTML already escaped by html/template.
func execText(texts *template.Template, name string, data pageData) (template.HTML, error) {
	var b bytes.Buffer
	if err := texts.ExecuteTemplate(&b, name, data); err != nil {
		return "", err
	}
	return template.HTML(b.String()), nil //nolint:gosec // G203: produced by html/template, every value escaped
}

// languageOrder lists every catalog, the page's primary language first:
// the one matching the locale of the request that asked for the link, else
// the first Accept-Language entry that a catalog matches, else the default
// language.
func languageOrder(set *i18n.Set, locale, acceptLanguage string) []*i18n.Catalog {
	primary := preferredCatalog(set, locale, acceptLanguage)
	order := []*i18n.Catalog{primary}
	for _, c := range set.All() {
		if c != primary {
			order = append(order, c)
		}
	}
	return order
}

// preferredCatalog is the primary language of languageOrder.
func preferredCatalog(set *i18n.Set, locale, acceptLanguage string) *i18n.Catalog {
	if locale != "" {
		return set.Match(locale)
	}
	parts := strings.SplitN(acceptLanguage, ",", 17)
	if len(parts) > 16 {
		parts = parts[:16] // the rest is one unsplit remainder
	}
	for _, part := range parts {
		tag, _, _ := strings.Cut(strings.TrimSpace(part), ";")
		if c, ok := set.MatchOK(tag); ok {
			return c
		}
	}
	return set.Default()
}
