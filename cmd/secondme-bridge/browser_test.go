package main

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"sync/atomic"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/secondme-bridge/secondme-bridge/bridge/linking/linkingtest"
	"github.com/secondme-bridge/secondme-bridge/internal/browsertest"
	"github.com/secondme-bridge/secondme-bridge/internal/demo"
	"github.com/secondme-bridge/secondme-bridge/platforms/discord/discordtest"
	"github.com/secondme-bridge/secondme-bridge/secondme/secondmetest"
)

// TestBrowserPages loads every page a person sees in a real headless
// Chromium, at desktop and phone width (internal/browsertest): the demo
// page, where a message is typed and the avatar's streamed reply must
// appear, and each page of bridge/linking in English and Chinese, reached
// through the real flow of the running demo. No console error, nothing cut
// off, screenshots kept.
func TestBrowserPages(t *testing.T) {
	t.Parallel()
	run := startDemo(t)
	// Started second, so stopped first: an open browser keeps connections
	// to the bridge, which its graceful shutdown would wait for.
	b := browsertest.Start(t)
	for _, p := range browserPages(t, run) {
		b.Check(t, p)
	}
}

// linkPage is one page of bridge/linking: how to reach it (open returns
// the link URL or page a browser opens, for a user with locale; with
// proceed, the link is continued first: see continued) and a text it shows
// in each language.
type linkPage struct {
	name    string
	open    func(t *testing.T, run demoRun, locale string) string
	proceed bool
	titles  map[string]string // lang → text the page must show
}

// linkPages lists every page of bridge/linking a browser can reach. Add a
// row when linking gets a page. Three pages are left out: "internal" (a
// store failure), "method" (a POST elsewhere) and "missing_code" (SecondMe
// redirecting back without a code: the fake never does, and a callback
// forged in another browser gets "wrong_browser" first).
var linkPages = []linkPage{
	{
		name:   "confirm",
		open:   func(t *testing.T, run demoRun, locale string) string { return linkURL(t, run, locale) },
		titles: map[string]string{"en": "Link your SecondMe account?", "zh": "绑定你的 SecondMe 账号？"},
	},
	{
		name:    "success",
		open:    func(t *testing.T, run demoRun, locale string) string { return linkURL(t, run, locale) },
		proceed: true,
		titles:  map[string]string{"en": "is now linked to the SecondMe account " + demo.AvatarName, "zh": "已绑定 SecondMe 账号 " + demo.AvatarName},
	},
	{
		name: "expired",
		open: func(t *testing.T, run demoRun, locale string) string {
			u := linkURL(t, run, locale)
			if _, err := linkingtest.Follow(waitCtx(t), u); err != nil { // the whole flow: the link is used
				t.Fatal(err)
			}
			return u
		},
		titles: map[string]string{"en": "Link expired", "zh": "链接已失效"},
	},
	{
		name:   "invalid",
		open:   func(_ *testing.T, run demoRun, _ string) string { return run.bridgeURL + "/link/not-a-link" },
		titles: map[string]string{"en": "Invalid link", "zh": "链接无效"},
	},
	{
		name: "denied",
		open: func(t *testing.T, run demoRun, locale string) string {
			run.env.SM.DenyNextAuthorize()
			return linkURL(t, run, locale)
		},
		proceed: true,
		titles:  map[string]string{"en": "You declined", "zh": "你拒绝了授权"},
	},
	{
		name: "provider-error",
		open: func(t *testing.T, run demoRun, locale string) string {
			run.env.SM.NextAuthorize(secondmetest.AuthorizeDecision{Deny: true, Error: "server_error"})
			return linkURL(t, run, locale)
		},
		proceed: true,
		titles:  map[string]string{"en": "SecondMe could not complete the sign-in", "zh": "SecondMe 未能完成登录"},
	},
	{
		name: "wrong-browser",
		open: func(t *testing.T, run demoRun, locale string) string {
			// Continued in another browser, whose cookie this one lacks.
			authorize, _ := continued(t, linkURL(t, run, locale))
			return run.bridgeURL + "/oauth/callback?code=x&state=" + url.QueryEscape(authorize.Query().Get("state"))
		},
		titles: map[string]string{"en": "Finish in the browser where you opened the link", "zh": "请在打开链接的浏览器中完成"},
	},
	{
		name: "exchange-failed",
		open: func(t *testing.T, run demoRun, locale string) string {
			run.env.SM.QueueResponse(secondmetest.PathTokenCode, secondmetest.ErrorResponse(500, "oauth2.server_error", "boom"))
			return linkURL(t, run, locale)
		},
		proceed: true,
		titles:  map[string]string{"en": "We could not finish signing you in", "zh": "无法完成 SecondMe 登录"},
	},
}

// demoPage is the demo page where ask is typed and sent; it is ready when
// one more bot message than before shows final (and, with edited, was
// edited: streamed). The phone load sees the desktop's conversation too.
func demoPage(name string, run demoRun, ask, final string, edited bool) browsertest.Page {
	cond := `e.textContent.includes(` + strconv.Quote(final) + `)`
	if edited {
		cond += ` && e.querySelector(".edited")`
	}
	complete := `[...document.querySelectorAll(".msg.bot .content")].filter(e => ` + cond + `).length`
	return browsertest.Page{
		Name: name,
		Open: func(*testing.T) string { return run.pageURL },
		Act: chromedp.Steps(
			chromedp.WaitVisible("#input"),
			chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
				_, err := chromedp.Evaluate[int](`window.repliesBefore = `+complete)(ctx, t)
				return err
			}),
			chromedp.SendKeys("#input", ask),
			chromedp.Click("#composer button"),
		),
		Ready: complete + ` > window.repliesBefore`,
		Want:  []string{"@SecondMe " + ask, final},
	}
}

// browserPages is the demo page (a short answer streamed through edits, a
// code block that must not widen a phone's page, a story split into two
// messages), then every link page in English and in Chinese (the user's
// Discord locale and the browser's language agree).
func browserPages(t *testing.T, run demoRun) []browsertest.Page {
	t.Helper()
	pages := []browsertest.Page{
		demoPage("demo", run, "hi, who are you?", "split into several messages.", true),
		demoPage("demo-code", run, "show me some Go code", "rate limits are never hit.", true),
		// The story's last words are in its second message.
		demoPage("demo-story", run, "tell me a long story", "or type anything else.", false),
	}
	for _, lp := range linkPages {
		for _, lang := range []string{"en", "zh"} {
			locale, accept := "en-US", "en-US,en;q=0.9"
			if lang == "zh" {
				locale, accept = "zh-CN", "zh-CN,zh;q=0.9"
			}
			page := browsertest.Page{
				Name:           "link-" + lp.name + "-" + lang,
				Open:           func(t *testing.T) string { return lp.open(t, run, locale) },
				AcceptLanguage: accept,
				Want:           []string{lp.titles[lang]},
			}
			if lp.proceed {
				// Continue is clicked in a Go browser, whose cookies the
				// headless one gets before it goes on to SecondMe and back.
				var cookies []*http.Cookie
				page.Open = func(t *testing.T) string {
					var authorize *url.URL
					authorize, cookies = continued(t, lp.open(t, run, locale))
					return authorize.String()
				}
				page.Cookies = func() (string, []*http.Cookie) { return run.bridgeURL, cookies }
			}
			pages = append(pages, page)
		}
	}
	return pages
}

// visitors numbers the Discord users of linkURL: each page gets its own,
// since the bridge allows one user only a few links per ten minutes.
var visitors atomic.Int64

// linkURL runs /link as a new Discord user with locale and returns the
// button's one-time URL.
func linkURL(t *testing.T, run demoRun, locale string) string {
	t.Helper()
	n := visitors.Add(1)
	user := discordtest.User{ID: strconv.FormatInt(300000000000001000+n, 10), Username: "visitor" + strconv.FormatInt(n, 10)}
	u, err := run.env.LinkURL(waitCtx(t), user, locale)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// continued opens linkURL and clicks Continue in a browser of its own,
// without following the redirect to SecondMe: it returns the authorize URL
// (with its OAuth state) and the cookies that bind the flow to that
// browser.
func continued(t *testing.T, linkURL string) (*url.URL, []*http.Cookie) {
	t.Helper()
	ctx := waitCtx(t)
	b := linkingtest.NewBrowser()
	confirm, err := b.Get(ctx, linkURL)
	if err != nil {
		t.Fatal(err)
	}
	authorize, err := b.AuthorizeURL(ctx, confirm)
	if err != nil {
		t.Fatal(err)
	}
	loc, err := url.Parse(authorize)
	if err != nil || loc.Query().Get("state") == "" {
		t.Fatalf("link %s continued to %q, want an authorize URL with a state", linkURL, authorize)
	}
	return loc, b.Cookies(linkURL)
}
