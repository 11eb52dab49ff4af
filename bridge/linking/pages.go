package linking

import (
	"bytes"
	"html/template"
	"net/http"
	"strconv"
	"strings"
)

// pageKind names one result page. Each has an English and a Simplified
// Chinese title and message (templates "<kind>.title.<lang>" and
// "<kind>.msg.<lang>"); both languages are always shown, the user's first.
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

// pageTexts holds every user-facing sentence of the pages. Values are
// inserted by html/template, which escapes them.
const pageTexts = `
{{define "success.title.en"}}Linked{{end}}
{{define "success.title.zh"}}已关联{{end}}
{{define "success.msg.en"}}Linked as <strong>{{.Name}}</strong> — you can close this tab.{{if .Replaced}} This replaced the link to <strong>{{.Replaced}}</strong>.{{end}}{{end}}
{{define "success.msg.zh"}}已关联为 <strong>{{.Name}}</strong>，你可以关闭此标签页了。{{if .Replaced}}之前关联的 <strong>{{.Replaced}}</strong> 已被替换。{{end}}{{end}}

{{define "expired.title.en"}}Link expired{{end}}
{{define "expired.title.zh"}}链接已失效{{end}}
{{define "expired.msg.en"}}This link has expired or was already used — run /link again.{{end}}
{{define "expired.msg.zh"}}此链接已过期或已被使用——请重新运行 /link。{{end}}

{{define "invalid.title.en"}}Invalid link{{end}}
{{define "invalid.title.zh"}}链接无效{{end}}
{{define "invalid.msg.en"}}This link is not valid — run /link again to get a new one.{{end}}
{{define "invalid.msg.zh"}}此链接无效——请重新运行 /link 获取新链接。{{end}}

{{define "denied.title.en"}}Nothing was linked{{end}}
{{define "denied.title.zh"}}未关联任何账号{{end}}
{{define "denied.msg.en"}}You declined — nothing was linked; run /link again if you change your mind.{{end}}
{{define "denied.msg.zh"}}你拒绝了授权——未关联任何账号；如果改变主意，请重新运行 /link。{{end}}

{{define "provider_error.title.en"}}Sign-in failed{{end}}
{{define "provider_error.title.zh"}}登录失败{{end}}
{{define "provider_error.msg.en"}}SecondMe could not complete the sign-in. Nothing was linked — run /link again.{{end}}
{{define "provider_error.msg.zh"}}SecondMe 未能完成登录，未关联任何账号——请重新运行 /link。{{end}}

{{define "missing_code.title.en"}}Sign-in incomplete{{end}}
{{define "missing_code.title.zh"}}登录未完成{{end}}
{{define "missing_code.msg.en"}}SecondMe did not send back a sign-in code. Nothing was linked — run /link again.{{end}}
{{define "missing_code.msg.zh"}}SecondMe 没有返回登录授权码，未关联任何账号——请重新运行 /link。{{end}}

{{define "exchange_failed.title.en"}}Sign-in failed{{end}}
{{define "exchange_failed.title.zh"}}登录失败{{end}}
{{define "exchange_failed.msg.en"}}We could not finish signing you in to SecondMe. Nothing was linked — run /link again.{{end}}
{{define "exchange_failed.msg.zh"}}无法完成 SecondMe 登录，未关联任何账号——请重新运行 /link。{{end}}

{{define "internal.title.en"}}Something went wrong{{end}}
{{define "internal.title.zh"}}出错了{{end}}
{{define "internal.msg.en"}}Something went wrong on our side. Nothing was linked — run /link again in a moment.{{end}}
{{define "internal.msg.zh"}}服务器出了点问题，未关联任何账号——请稍后重新运行 /link。{{end}}

{{define "method.title.en"}}Not allowed{{end}}
{{define "method.title.zh"}}不允许的请求{{end}}
{{define "method.msg.en"}}Open this link in a browser.{{end}}
{{define "method.msg.zh"}}请在浏览器中打开此链接。{{end}}

{{define "relink.en"}} In Slack the command is /secondme link.{{end}}
{{define "relink.zh"}}在 Slack 中，命令为 /secondme link。{{end}}
`

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

var (
	textTemplates   = template.Must(template.New("texts").Parse(pageTexts))
	layoutTemplate  = template.Must(template.New("layout").Parse(pageLayout))
	languageOrderZH = []string{"zh", "en"}
	languageOrderEN = []string{"en", "zh"}
)

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
	order := languageOrderEN
	if prefersChinese(locale, r.Header.Get("Accept-Language")) {
		order = languageOrderZH
	}
	var sections []pageSection
	for _, lang := range order {
		title, err1 := execText(string(kind)+".title."+lang, data)
		msg, err2 := execText(string(kind)+".msg."+lang, data)
		if err2 == nil && kind != pageSuccess && kind != pageMethod {
			// The pages don't always know the platform; name both commands.
			var note template.HTML
			note, err2 = execText("relink."+lang, data)
			msg += note
		}
		if err1 != nil || err2 != nil {
			l.log.ErrorContext(r.Context(), "render page text", "page", string(kind))
			http.Error(w, "internal error", http.StatusInternalServerError)
			return
		}
		htmlLang := "en"
		if lang == "zh" {
			htmlLang = "zh-Hans"
		}
		sections = append(sections, pageSection{Lang: htmlLang, Title: string(title), Message: msg})
	}
	var body bytes.Buffer
	err := layoutTemplate.Execute(&body, struct {
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
func execText(name string, data pageData) (template.HTML, error) {
	var b bytes.Buffer
	if err := textTemplates.ExecuteTemplate(&b, name, data); err != nil {
		return "", err
	}
	return template.HTML(b.String()), nil //nolint:gosec // G203: produced by html/template, every value escaped
}

// prefersChinese reports whether the page should show Chinese first: the
// locale of the request that asked for the link wins, else the first
// Accept-Language entry naming zh or en.
func prefersChinese(locale, acceptLanguage string) bool {
	if locale != "" {
		return strings.HasPrefix(strings.ToLower(locale), "zh")
	}
	parts := strings.SplitN(acceptLanguage, ",", 17)
	if len(parts) > 16 {
		parts = parts[:16] // the rest is one unsplit remainder
	}
	for _, part := range parts {
		tag, _, _ := strings.Cut(strings.TrimSpace(part), ";")
		tag = strings.ToLower(tag)
		switch {
		case strings.HasPrefix(tag, "zh"):
			return true
		case strings.HasPrefix(tag, "en"):
			return false
		}
	}
	return false
}
