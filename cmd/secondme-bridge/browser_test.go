package main

import (
	"context"
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
// the URL a browser opens, for a user with locale; with click, the user
// then clicks Continue on that confirmation page, after running prep) and
// the title it shows in each language.
type linkPage struct {
	name   string
	open   func(t *testing.T, run demoRun, locale string) string
	click  bool
	prep   string            // JavaScript run before the click ("" for none)
	titles map[string]string // lang → text the page must show
}

// linkPages lists every page of bridge/linking a browser can reach. Add a
// row when linking gets a page. Two pages are not reachable from a browser
// and are left out: "internal" (a store failure) and "method" (a PUT).
var linkPages = []linkPage{
	{
		name:   "confirm",
		open:   func(t *testing.T, run demoRun, locale string) string { return linkURL(t, run, locale) },
		titles: map[string]string{"en": "Link your SecondMe account?", "zh": "绑定你的 SecondMe 账号？"},
	},
	{
		name:   "success",
		open:   func(t *testing.T, run demoRun, locale string) string { return linkURL(t, run, locale) },
		click:  true,
		titles: map[string]string{"en": "is now linked to the SecondMe account " + demo.AvatarName, "zh": "已绑定 SecondMe 账号 " + demo.AvatarName},
	},
	{
		name: "expired",
		open: func(t *testing.T, run demoRun, locale string) string {
			u := linkURL(t, run, locale)
			if _, err := linkingtest.Follow(waitCtx(t), u); err != nil { // the link is used
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
		click:  true,
		titles: map[string]string{"en": "You declined", "zh": "你拒绝了授权"},
	},
	{
		name: "provider-error",
		open: func(t *testing.T, run demoRun, locale string) string {
			run.env.SM.NextAuthorize(secondmetest.AuthorizeDecision{Deny: true, Error: "server_error"})
			return linkURL(t, run, locale)
		},
		click:  true,
		titles: map[string]string{"en": "SecondMe could not complete the sign-in", "zh": "SecondMe 未能完成登录"},
	},
	{
		name: "missing-code",
		open: func(t *testing.T, run demoRun, locale string) string {
			run.env.SM.NextAuthorize(secondmetest.AuthorizeDecision{NoCode: true})
			return linkURL(t, run, locale)
		},
		click:  true,
		titles: map[string]string{"en": "did not send back a sign-in code", "zh": "没有返回登录授权码"},
	},
	{
		name: "exchange-failed",
		open: func(t *testing.T, run demoRun, locale string) string {
			run.env.SM.QueueResponse(secondmetest.PathTokenCode, secondmetest.ErrorResponse(500, "oauth2.server_error", "boom"))
			return linkURL(t, run, locale)
		},
		click:  true,
		titles: map[string]string{"en": "We could not finish signing you in", "zh": "无法完成 SecondMe 登录"},
	},
	{
		// The flow was started in another browser (the attacker's, or a
		// phone's in-app browser): this one lacks its cookie.
		name: "wrong-browser",
		open: func(t *testing.T, run demoRun, locale string) string {
			return run.bridgeURL + "/oauth/callback?code=x&state=" + url.QueryEscape(linkState(t, linkURL(t, run, locale)))
		},
		titles: map[string]string{"en": "Finish in the browser where you opened the link", "zh": "请在打开链接的浏览器中完成"},
	},
	{
		// Continue posted without the page's own token (a forged form, or
		// a browser that blocks cookies).
		name:   "forbidden",
		open:   func(t *testing.T, run demoRun, locale string) string { return linkURL(t, run, locale) },
		click:  true,
		prep:   `document.querySelector("input[name=csrf]").value = "forged"`,
		titles: map[string]string{"en": "Open the link again", "zh": "请重新打开链接"},
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
			p := browsertest.Page{
				Name:           "link-" + lp.name + "-" + lang,
				Open:           func(t *testing.T) string { return lp.open(t, run, locale) },
				AcceptLanguage: accept,
				Want:           []string{lp.titles[lang]},
			}
			if lp.click {
				steps := []chromedp.Action[chromedp.Void]{chromedp.WaitVisible("form button")}
				if lp.prep != "" {
					steps = append(steps, chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
						_, err := chromedp.Evaluate[any](lp.prep)(ctx, t)
						return err
					}))
				}
				p.Act = chromedp.Steps(append(steps, browsertest.ClickAndLoad("form button"))...)
			}
			pages = append(pages, p)
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

// linkState continues a link in a browser of its own (not the one under
// test) and returns the OAuth state of the authorize URL it is sent to.
func linkState(t *testing.T, linkURL string) string {
	t.Helper()
	b := linkingtest.NewBrowser()
	confirm, err := b.Get(waitCtx(t), linkURL)
	if err != nil {
		t.Fatal(err)
	}
	authorize, err := b.AuthorizeURL(waitCtx(t), confirm)
	if err != nil {
		t.Fatal(err)
	}
	loc, err := url.Parse(authorize)
	if err != nil || loc.Query().Get("state") == "" {
		t.Fatalf("Continue on %s redirected to %q, want an authorize URL with a state", linkURL, authorize)
	}
	return loc.Query().Get("state")
}
