package linking

import (
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// testPlatforms are the platforms as cmd/secondme-bridge names them.
var testPlatforms = map[string]Platform{
	"discord": {Title: "Discord", LinkCommand: "/link", LinkCommandZH: "/绑定"},
	"slack":   {Title: "Slack", LinkCommand: "/secondme link", LinkCommandZH: "/secondme link"},
}

func pagesLinker() *Linker {
	return &Linker{log: slog.New(slog.DiscardHandler), platforms: testPlatforms}
}

func TestRenderPageEscapesAndIsBilingual(t *testing.T) {
	t.Parallel()
	l := pagesLinker()
	r := httptest.NewRequest(http.MethodGet, "/oauth/callback", nil)
	w := httptest.NewRecorder()
	l.renderPage(w, r, pageSuccess, pageView{Platform: "discord"}, pageData{
		Name: `<script>alert("x")</script>`, Replaced: `O'Brien & <b>`, UserName: "<i>ada</i>", Workspace: "Guild & Co",
	})

	body := w.Body.String()
	if w.Code != http.StatusOK {
		t.Fatalf("status = %d, want 200", w.Code)
	}
	for _, bad := range []string{"<script>", "<b>", "<i>", `alert("x")`} {
		if strings.Contains(body, bad) {
			t.Errorf("body contains unescaped %q:\n%s", bad, body)
		}
	}
	for _, want := range []string{
		"Discord user <strong>&lt;i&gt;ada&lt;/i&gt;</strong> in <strong>Guild &amp; Co</strong> is now linked to the SecondMe account <strong>&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;</strong>.",
		"This replaced the link to <strong>O&#39;Brien &amp; &lt;b&gt;</strong>.",
		"Go back to Discord and mention the bot, or send it a direct message, to talk to your avatar.",
		"Discord 用户 <strong>&lt;i&gt;ada&lt;/i&gt;</strong>（<strong>Guild &amp; Co</strong>） 已绑定 SecondMe 账号",
		"回到 Discord，@机器人 或私信它",
		`<meta name="viewport" content="width=device-width, initial-scale=1">`,
		`<html lang="en">`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("body lacks %q:\n%s", want, body)
		}
	}
	if strings.Index(body, "is now linked") > strings.Index(body, "已绑定") {
		t.Error("English should come first without a Chinese locale")
	}
	for _, asset := range []string{"<script", "<link", "<img", "src=", "href="} {
		if strings.Contains(body, asset) {
			t.Errorf("page references an external asset or script (%q)", asset)
		}
	}
	checkSecurityHeaders(t, w.Header())
}

// Without a known locale both languages show, in the Accept-Language
// header's order; a known locale shows that language only.
func TestRenderPageLanguages(t *testing.T) {
	t.Parallel()
	l := pagesLinker()
	const en, zh = "This link has expired or was already used — run /link again.", "此链接已过期或已被使用——请重新运行 /绑定。"
	tests := []struct {
		name, locale, accept string
		want                 []string // in order
	}{
		{"locale zh-CN only", "zh-CN", "en-US", []string{zh}},
		{"locale en-US only", "en-US", "zh-CN", []string{en}},
		{"header zh", "", "zh-Hans-CN,zh;q=0.9,en;q=0.8", []string{zh, en}},
		{"header en then zh", "", "en-GB,zh;q=0.5", []string{en, zh}},
		{"header other then zh", "", "fr-FR,zh-TW;q=0.5", []string{zh, en}},
		{"nothing", "", "", []string{en, zh}},
		{"garbage header", "", strings.Repeat(";,", 10000), []string{en, zh}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := httptest.NewRequest(http.MethodGet, "/link/x", nil)
			r.Header.Set("Accept-Language", tt.accept)
			w := httptest.NewRecorder()
			l.renderPage(w, r, pageExpired, pageView{Platform: "discord", Locale: tt.locale}, pageData{})
			body := w.Body.String()
			at := -1
			for _, s := range tt.want {
				i := strings.Index(body, s)
				if i < 0 || i < at {
					t.Fatalf("want %q in order %q:\n%s", s, tt.want, body)
				}
				at = i
			}
			if n := strings.Count(body, "<section"); n != len(tt.want) {
				t.Errorf("%d sections, want %d", n, len(tt.want))
			}
			if w.Code != http.StatusGone {
				t.Errorf("status = %d, want 410", w.Code)
			}
		})
	}
}

// Every page names the link command of the reader's own platform only, in
// the reader's language: /link and /绑定 on Discord, /secondme link on
// Slack; both platforms only when the platform is unknown.
func TestEveryPageNamesTheUsersOwnCommand(t *testing.T) {
	t.Parallel()
	l := pagesLinker()
	for kind, status := range pageStatus {
		relink := kind != pageSuccess && kind != pageMethod && kind != pageConfirm
		for _, tc := range []struct {
			view       pageView
			want, deny []string
		}{
			{pageView{Platform: "discord", Locale: "en"}, []string{"/link again"}, []string{"/secondme", "Slack", "/绑定", "绑"}},
			{pageView{Platform: "discord", Locale: "zh-CN"}, []string{"/绑定"}, []string{"/secondme", "Slack", "/link ", "关联"}},
			{pageView{Platform: "slack", Locale: "en"}, []string{"/secondme link"}, []string{"Discord", "run /link"}},
			{pageView{Platform: "slack", Locale: "zh"}, []string{"/secondme link"}, []string{"Discord", "/绑定", "关联"}},
			{pageView{}, []string{"/link (Discord) or /secondme link (Slack)", "/绑定（Discord） 或 /secondme link（Slack）"}, nil},
		} {
			r := httptest.NewRequest(http.MethodGet, "/oauth/callback", nil)
			w := httptest.NewRecorder()
			l.renderPage(w, r, kind, tc.view, pageData{Name: "N", UserName: "U"})
			if w.Code != status {
				t.Errorf("%s: status = %d, want %d", kind, w.Code, status)
			}
			body := w.Body.String()
			if !relink {
				if strings.Contains(body, "/secondme link") || strings.Contains(body, "run /") {
					t.Errorf("%s %+v: page names the relink command", kind, tc.view)
				}
				continue
			}
			for _, s := range tc.want {
				if !strings.Contains(body, s) {
					t.Errorf("%s %+v: page lacks %q:\n%s", kind, tc.view, s, body)
				}
			}
			for _, s := range tc.deny {
				if strings.Contains(body, s) {
					t.Errorf("%s %+v: page names %q, which is not the user's:\n%s", kind, tc.view, s, body)
				}
			}
		}
	}
}

func checkSecurityHeaders(t *testing.T, h http.Header) {
	t.Helper()
	want := map[string]string{
		"Cache-Control":           "no-store",
		"Referrer-Policy":         "same-origin",
		"X-Content-Type-Options":  "nosniff",
		"Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'",
	}
	for k, v := range want {
		if got := h.Get(k); got != v {
			t.Errorf("header %s = %q, want %q", k, got, v)
		}
	}
}
