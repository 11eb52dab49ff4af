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

// pageKind names one page. Each has a title and a message in every catalog
// language (the texts "page.<kind>.title" and "page.<kind>.msg" of
// internal/i18n, templates "<kind>.title.<lang>" and "<kind>.msg.<lang>").
type pageKind string

const (
	pageConfirm        pageKind = "confirm"
	pageSuccess        pageKind = "success"
	pageExpired        pageKind = "expired"
	pageInvalid        pageKind = "invalid"
	pageDenied         pageKind = "denied"
	pageProviderError  pageKind = "provider_error"
	pageMissingCode    pageKind = "missing_code"
	pageExchangeFailed pageKind = "exchange_failed"
	pageInternal       pageKind = "internal"
	pageMethod         pageKind = "method"
	pageWrongBrowser   pageKind = "wrong_browser"
	pageForbidden      pageKind = "forbidden"
)

var pageStatus = map[pageKind]int{
	pageConfirm:        http.StatusOK,
	pageSuccess:        http.StatusOK,
	pageExpired:        http.StatusGone,
	pageInvalid:        http.StatusBadRequest,
	pageDenied:         http.StatusOK,
	pageProviderError:  http.StatusBadGateway,
	pageMissingCode:    http.StatusBadRequest,
	pageExchangeFailed: http.StatusBadGateway,
	pageInternal:       http.StatusInternalServerError,
	pageMethod:         http.StatusMethodNotAllowed,
	pageWrongBrowser:   http.StatusForbidden,
	pageForbidden:      http.StatusForbidden,
}

// pageTexts are the pages' sentences, from the "page.*" texts of every
// catalog in internal/i18n: "page.<name>" of language lang becomes the
// template "<name>.<lang>", and {{template "account" .}} in it the
// language's own "account.<lang>". Values are inserted by html/template,
// which escapes them. .Cmd is the link command of the user's own platform
// in the section's language ("/link", "/绑定", "/secondme link"); .Platform
// the platform's name ("Discord"). The one Chinese word for linking is 绑定,
// as in Discord's /绑定.
func pageTexts(set *i18n.Set) string {
	var b strings.Builder
	for _, c := range set.All() {
		for key, text := range c.Texts {
			name, ok := strings.CutPrefix(key, "page.")
			if !ok {
				continue
			}
			text = strings.ReplaceAll(text, `{{template "account" .}}`, `{{template "account.`+c.Language+`" .}}`)
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
<meta name="referrer" content="same-origin">
<meta name="robots" content="noindex, nofollow">
<title>{{.Title}} · SecondMe</title>
<style>
body{margin:0;font:16px/1.5 system-ui,-apple-system,"Segoe UI","PingFang SC","Microsoft YaHei",sans-serif;background:#f6f7f9;color:#1d1f23}
main{max-width:32rem;margin:10vh auto;padding:0 1rem}
section{background:#fff;border-radius:12px;padding:1.25rem 1.5rem;box-shadow:0 1px 3px rgba(0,0,0,.08);margin-bottom:1rem}
h1{font-size:1.25rem;margin:0 0 .5rem}
p{margin:0;overflow-wrap:anywhere}
section+section{opacity:.85}
button{font:inherit;font-weight:600;padding:.6rem 1.2rem;border:0;border-radius:8px;background:#3b5bdb;color:#fff;cursor:pointer}
@media (prefers-color-scheme:dark){body{background:#16181c;color:#e6e7ea}section{background:#202329}}
</style>
</head>
<body>
<main>
{{range .Sections}}<section lang="{{.Lang}}">
<h1>{{.Title}}</h1>
<p>{{.Message}}</p>
</section>
{{end}}{{with .Form}}<form method="post" action="{{.Action}}">
<input type="hidden" name="csrf" value="{{.CSRF}}">
<button type="submit">{{.Label}}</button>
</form>
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

// Platform is how the pages name a chat platform and its link command.
type Platform struct {
	// Title is the platform's name as users know it ("Discord").
	Title string
	// LinkCommand is how a user runs the link command there, in English
	// and in Chinese ("/link" and "/绑定" on Discord; "/secondme link" for
	// both on Slack).
	LinkCommand, LinkCommandZH string
}

// pageView is what a page knows about its reader: their platform (a key
// of LinkerConfig.Platforms) and their locale, either of which may be
// unknown (""). A known locale shows that language only; an unknown one
// shows both, the Accept-Language header's first.
type pageView struct {
	Platform string
	Locale   string
}

// pageData holds the values a page's texts show.
type pageData struct {
	Name      string // the SecondMe account
	Replaced  string // the SecondMe account replaced, if any
	UserName  string // the chat account
	UserID    string
	Workspace string
	Form      *pageForm
}

// pageForm is the confirmation page's Continue button.
type pageForm struct {
	Action string
	CSRF   string
}

type pageSection struct {
	Lang    string
	Title   string
	Message template.HTML // produced by html/template from pageTexts, values escaped
}

// textData is pageData with the section's platform words.
type textData struct {
	pageData
	Platform string
	Cmd      string
}

// securityHeaders are sent with every response of the linking routes,
// redirects included.
func securityHeaders(h http.Header) {
	h.Set("Cache-Control", "no-store")
	h.Set("Pragma", "no-cache")
	h.Set("Referrer-Policy", "same-origin")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
	h.Set("X-Robots-Tag", "noindex, nofollow")
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'")
}

// platformInfo returns how to name platform, or the generic wording when
// it is unknown: both platforms' commands, since the reader's is unknown.
func (l *Linker) platformInfo(platform string) (Platform, bool) {
	if p, ok := l.platforms[platform]; ok {
		return p, true
	}
	return Platform{}, false
}

// command returns the link command to name in lang for the view's
// platform; when the platform is unknown, every configured platform's.
func (l *Linker) command(platform, lang string) (title, cmd string) {
	pick := func(p Platform) string {
		if lang == "zh" && p.LinkCommandZH != "" {
			return p.LinkCommandZH
		}
		if p.LinkCommand != "" {
			return p.LinkCommand
		}
		return "/link"
	}
	if p, ok := l.platformInfo(platform); ok {
		return p.Title, pick(p)
	}
	if len(l.platforms) == 0 {
		if platform != "" {
			platform = strings.ToUpper(platform[:1]) + platform[1:]
		}
		return platform, "/link"
	}
	var cmds []string
	for _, name := range sortedKeys(l.platforms) {
		p := l.platforms[name]
		c := pick(p)
		if lang == "zh" {
			cmds = append(cmds, c+"（"+p.Title+"）")
		} else {
			cmds = append(cmds, c+" ("+p.Title+")")
		}
	}
	sep := " or "
	if lang == "zh" {
		sep = " 或 "
	}
	return platform, strings.Join(cmds, sep)
}

// renderPage writes the page of kind for view.
func (l *Linker) renderPage(w http.ResponseWriter, r *http.Request, kind pageKind, view pageView, data pageData) {
	set := i18n.Current()
	texts, err := textTemplates(set)
	if err != nil {
		l.log.ErrorContext(r.Context(), "parse page texts", "error", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	order := languageOrder(set, r.Header.Get("Accept-Language"))
	if view.Locale != "" {
		order = []*i18n.Catalog{set.Match(view.Locale)}
	}
	var (
		sections []pageSection
		labels   []string
	)
	for _, c := range order {
		lang := c.Language
		td := textData{pageData: data}
		td.Platform, td.Cmd = l.command(view.Platform, lang)
		title, err1 := execText(texts, string(kind)+".title."+lang, td)
		msg, err2 := execText(texts, string(kind)+".msg."+lang, td)
		if err1 != nil || err2 != nil {
			l.log.ErrorContext(r.Context(), "render page text", "page", string(kind))
			http.Error(w, "internal error", http.StatusInternalServerError)
			return
		}
		if data.Form != nil {
			label, err := execText(texts, string(kind)+".button."+lang, td)
			if err != nil {
				l.log.ErrorContext(r.Context(), "render page button", "page", string(kind))
				http.Error(w, "internal error", http.StatusInternalServerError)
				return
			}
			labels = append(labels, string(label))
		}
		sections = append(sections, pageSection{Lang: c.HTMLLang, Title: string(title), Message: msg})
	}
	var form any
	if data.Form != nil {
		form = struct {
			Action, CSRF, Label string
		}{data.Form.Action, data.Form.CSRF, strings.Join(labels, " · ")}
	}
	var body bytes.Buffer
	err = layoutTemplate.Execute(&body, struct {
		Lang     string
		Title    string
		Sections []pageSection
		Form     any
	}{Lang: sections[0].Lang, Title: sections[0].Title, Sections: sections, Form: form})
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
func execText(texts *template.Template, name string, data textData) (template.HTML, error) {
	var b bytes.Buffer
	if err := texts.ExecuteTemplate(&b, name, data); err != nil {
		return "", err
	}
	return template.HTML(b.String()), nil //nolint:gosec // G203: produced by html/template, every value escaped
}

// languageOrder lists every catalog, the first Accept-Language entry that
// a catalog matches first (else the default language): the order of a
// page whose reader's locale is unknown.
func languageOrder(set *i18n.Set, acceptLanguage string) []*i18n.Catalog {
	primary := set.Default()
	parts := strings.SplitN(acceptLanguage, ",", 17)
	if len(parts) > 16 {
		parts = parts[:16] // the rest is one unsplit remainder
	}
	for _, part := range parts {
		tag, _, _ := strings.Cut(strings.TrimSpace(part), ";")
		if c, ok := set.MatchOK(tag); ok {
			primary = c
			break
		}
	}
	order := []*i18n.Catalog{primary}
	for _, c := range set.All() {
		if c != primary {
			order = append(order, c)
		}
	}
	return order
}
