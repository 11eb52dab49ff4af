package linking

import (
	"bytes"
	"html/template"
	"net/http"
	"strconv"
	"strings"
)

// pageKind names one page. Each has an English and a Simplified Chinese
// title and message (templates "<kind>.title.<lang>" and
// "<kind>.msg.<lang>").
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

// pageTexts holds every user-facing sentence of the pages. Values are
// inserted by html/template, which escapes them. .Cmd is the link command
// of the user's own platform in the section's language ("/link", "/绑定",
// "/secondme link"); .Platform the platform's name ("Discord"). The one
// Chinese word for linking is 绑定, as in Discord's /绑定.
const pageTexts = `
{{define "account.en"}}{{.Platform}} user <strong>{{if .UserName}}{{.UserName}}{{else}}{{.UserID}}{{end}}</strong>{{if .Workspace}} in <strong>{{.Workspace}}</strong>{{end}}{{end}}
{{define "account.zh"}}{{.Platform}} 用户 <strong>{{if .UserName}}{{.UserName}}{{else}}{{.UserID}}{{end}}</strong>{{if .Workspace}}（<strong>{{.Workspace}}</strong>）{{end}}{{end}}

{{define "confirm.title.en"}}Link your SecondMe account?{{end}}
{{define "confirm.title.zh"}}绑定你的 SecondMe 账号？{{end}}
{{define "confirm.msg.en"}}You are about to let {{template "account.en" .}} talk to your SecondMe avatar, search your key memories and write notes for you. Continue only if that is you: if someone sent you this link, close this tab.{{end}}
{{define "confirm.msg.zh"}}你即将允许 {{template "account.zh" .}} 与你的 SecondMe 分身对话、搜索你的关键记忆并替你写笔记。只有当这是你本人时才继续；如果这个链接是别人发给你的，请关闭此页面。{{end}}
{{define "confirm.button.en"}}Continue to SecondMe{{end}}
{{define "confirm.button.zh"}}继续前往 SecondMe{{end}}

{{define "success.title.en"}}Linked{{end}}
{{define "success.title.zh"}}已绑定{{end}}
{{define "success.msg.en"}}{{template "account.en" .}} is now linked to the SecondMe account <strong>{{.Name}}</strong>.{{if .Replaced}} This replaced the link to <strong>{{.Replaced}}</strong>.{{end}} Go back to {{.Platform}} and mention the bot, or send it a direct message, to talk to your avatar. You can close this tab.{{end}}
{{define "success.msg.zh"}}{{template "account.zh" .}} 已绑定 SecondMe 账号 <strong>{{.Name}}</strong>。{{if .Replaced}}之前绑定的 <strong>{{.Replaced}}</strong> 已被替换。{{end}}回到 {{.Platform}}，@机器人 或私信它，即可与你的分身对话。你可以关闭此页面了。{{end}}

{{define "expired.title.en"}}Link expired{{end}}
{{define "expired.title.zh"}}链接已失效{{end}}
{{define "expired.msg.en"}}This link has expired or was already used — run {{.Cmd}} again.{{end}}
{{define "expired.msg.zh"}}此链接已过期或已被使用——请重新运行 {{.Cmd}}。{{end}}

{{define "invalid.title.en"}}Invalid link{{end}}
{{define "invalid.title.zh"}}链接无效{{end}}
{{define "invalid.msg.en"}}This link is not valid — run {{.Cmd}} again to get a new one.{{end}}
{{define "invalid.msg.zh"}}此链接无效——请重新运行 {{.Cmd}} 获取新链接。{{end}}

{{define "denied.title.en"}}Nothing was linked{{end}}
{{define "denied.title.zh"}}未绑定任何账号{{end}}
{{define "denied.msg.en"}}You declined — nothing was linked; run {{.Cmd}} again if you change your mind.{{end}}
{{define "denied.msg.zh"}}你拒绝了授权——未绑定任何账号；如果改变主意，请重新运行 {{.Cmd}}。{{end}}

{{define "provider_error.title.en"}}Sign-in failed{{end}}
{{define "provider_error.title.zh"}}登录失败{{end}}
{{define "provider_error.msg.en"}}SecondMe could not complete the sign-in. Nothing was linked — run {{.Cmd}} again.{{end}}
{{define "provider_error.msg.zh"}}SecondMe 未能完成登录，未绑定任何账号——请重新运行 {{.Cmd}}。{{end}}

{{define "missing_code.title.en"}}Sign-in incomplete{{end}}
{{define "missing_code.title.zh"}}登录未完成{{end}}
{{define "missing_code.msg.en"}}SecondMe did not send back a sign-in code. Nothing was linked — run {{.Cmd}} again.{{end}}
{{define "missing_code.msg.zh"}}SecondMe 没有返回登录授权码，未绑定任何账号——请重新运行 {{.Cmd}}。{{end}}

{{define "exchange_failed.title.en"}}Sign-in failed{{end}}
{{define "exchange_failed.title.zh"}}登录失败{{end}}
{{define "exchange_failed.msg.en"}}We could not finish signing you in to SecondMe. Nothing was linked — run {{.Cmd}} again.{{end}}
{{define "exchange_failed.msg.zh"}}无法完成 SecondMe 登录，未绑定任何账号——请重新运行 {{.Cmd}}。{{end}}

{{define "internal.title.en"}}Something went wrong{{end}}
{{define "internal.title.zh"}}出错了{{end}}
{{define "internal.msg.en"}}Something went wrong on our side. Nothing was linked — run {{.Cmd}} again in a moment.{{end}}
{{define "internal.msg.zh"}}服务器出了点问题，未绑定任何账号——请稍后重新运行 {{.Cmd}}。{{end}}

{{define "method.title.en"}}Not allowed{{end}}
{{define "method.title.zh"}}不允许的请求{{end}}
{{define "method.msg.en"}}Open this link in a browser.{{end}}
{{define "method.msg.zh"}}请在浏览器中打开此链接。{{end}}

{{define "wrong_browser.title.en"}}Finish in the browser where you opened the link{{end}}
{{define "wrong_browser.title.zh"}}请在打开链接的浏览器中完成{{end}}
{{define "wrong_browser.msg.en"}}This sign-in did not come back to the browser where you opened the link, so nothing was linked. Run {{.Cmd}} again, open the new link in your browser (on a phone: your default browser, not an in-app one) and finish there.{{end}}
{{define "wrong_browser.msg.zh"}}这次登录没有回到你打开链接的那个浏览器，因此未绑定任何账号。请重新运行 {{.Cmd}}，在浏览器中打开新链接（手机上请用默认浏览器，而不是应用内浏览器），并在同一个浏览器中完成。{{end}}

{{define "forbidden.title.en"}}Open the link again{{end}}
{{define "forbidden.title.zh"}}请重新打开链接{{end}}
{{define "forbidden.msg.en"}}This confirmation did not come from the link's own page (or your browser blocks cookies). Nothing was linked — open the link again, or run {{.Cmd}} again.{{end}}
{{define "forbidden.msg.zh"}}这次确认不是来自链接本身的页面（或者你的浏览器禁用了 Cookie），未绑定任何账号——请重新打开链接，或重新运行 {{.Cmd}}。{{end}}
`

const pageLayout = `<!doctype html>
<html lang="{{.Lang}}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
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

var (
	textTemplates   = template.Must(template.New("texts").Parse(pageTexts))
	layoutTemplate  = template.Must(template.New("layout").Parse(pageLayout))
	languageOrderZH = []string{"zh", "en"}
	languageOrderEN = []string{"en", "zh"}
)

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
	h.Set("Referrer-Policy", "no-referrer")
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
	var order []string
	switch {
	case view.Locale != "" && prefersChinese(view.Locale, ""):
		order = []string{"zh"}
	case view.Locale != "":
		order = []string{"en"}
	case prefersChinese("", r.Header.Get("Accept-Language")):
		order = languageOrderZH
	default:
		order = languageOrderEN
	}
	var (
		sections []pageSection
		labels   []string
	)
	for _, lang := range order {
		td := textData{pageData: data}
		td.Platform, td.Cmd = l.command(view.Platform, lang)
		title, err1 := execText(string(kind)+".title."+lang, td)
		msg, err2 := execText(string(kind)+".msg."+lang, td)
		if err1 != nil || err2 != nil {
			l.log.ErrorContext(r.Context(), "render page text", "page", string(kind))
			http.Error(w, "internal error", http.StatusInternalServerError)
			return
		}
		if data.Form != nil {
			label, err := execText(string(kind)+".button."+lang, td)
			if err != nil {
				l.log.ErrorContext(r.Context(), "render page button", "page", string(kind))
				http.Error(w, "internal error", http.StatusInternalServerError)
				return
			}
			labels = append(labels, string(label))
		}
		htmlLang := "en"
		if lang == "zh" {
			htmlLang = "zh-Hans"
		}
		sections = append(sections, pageSection{Lang: htmlLang, Title: string(title), Message: msg})
	}
	var form any
	if data.Form != nil {
		form = struct {
			Action, CSRF, Label string
		}{data.Form.Action, data.Form.CSRF, strings.Join(labels, " · ")}
	}
	var body bytes.Buffer
	err := layoutTemplate.Execute(&body, struct {
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
func execText(name string, data textData) (template.HTML, error) {
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
