package linking

import (
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestRenderPageEscapesAndIsBilingual(t *testing.T) {
	t.Parallel()
	l := &Linker{log: slog.New(slog.DiscardHandler)}
	r := httptest.NewRequest(http.MethodGet, "/oauth/callback", nil)
	w := httptest.NewRecorder()
	l.renderPage(w, r, pageSuccess, "", pageData{Name: `<script>alert("x")</script>`, Replaced: `O'Brien & <b>`})

	body := w.Body.String()
	if w.Code != http.StatusOK {
		t.Fatalf("status = %d, want 200", w.Code)
	}
	for _, bad := range []string{"<script>", "<b>", `alert("x")`} {
		if strings.Contains(body, bad) {
			t.Errorf("body contains unescaped %q:\n%s", bad, body)
		}
	}
	for _, want := range []string{
		"&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;",
		"O&#39;Brien &amp; &lt;b&gt;",
		"Linked as <strong>&lt;script&gt;",
		"you can close this tab",
		"已关联为 <strong>&lt;script&gt;",
		`<meta name="viewport" content="width=device-width, initial-scale=1">`,
		`<html lang="en">`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("body lacks %q:\n%s", want, body)
		}
	}
	if strings.Index(body, "Linked as") > strings.Index(body, "已关联为") {
		t.Error("English should come first without a Chinese locale")
	}
	for _, asset := range []string{"<script", "<link", "<img", "src=", "href="} {
		if strings.Contains(body, asset) {
			t.Errorf("page references an external asset or script (%q)", asset)
		}
	}
	checkSecurityHeaders(t, w.Header())
}

func TestRenderPageChineseFirst(t *testing.T) {
	t.Parallel()
	l := &Linker{log: slog.New(slog.DiscardHandler)}
	tests := []struct {
		name, locale, accept string
		zhFirst              bool
	}{
		{"locale zh-CN", "zh-CN", "en-US", true},
		{"locale en-US beats header", "en-US", "zh-CN", false},
		{"header zh", "", "zh-Hans-CN,zh;q=0.9,en;q=0.8", true},
		{"header en then zh", "", "en-GB,zh;q=0.5", false},
		{"header other then zh", "", "fr-FR,zh-TW;q=0.5", true},
		{"nothing", "", "", false},
		{"garbage header", "", strings.Repeat(";,", 10000), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := httptest.NewRequest(http.MethodGet, "/link/x", nil)
			r.Header.Set("Accept-Language", tt.accept)
			w := httptest.NewRecorder()
			l.renderPage(w, r, pageExpired, tt.locale, pageData{})
			body := w.Body.String()
			en := strings.Index(body, "This link has expired or was already used — run /link again.")
			zh := strings.Index(body, "此链接已过期或已被使用——请重新运行 /link。")
			if en < 0 || zh < 0 {
				t.Fatalf("both languages must be shown:\n%s", body)
			}
			if (zh < en) != tt.zhFirst {
				t.Errorf("zh first = %v, want %v", zh < en, tt.zhFirst)
			}
			if w.Code != http.StatusGone {
				t.Errorf("status = %d, want 410", w.Code)
			}
		})
	}
}

func TestEveryPageRenders(t *testing.T) {
	t.Parallel()
	l := &Linker{log: slog.New(slog.DiscardHandler)}
	for kind, status := range pageStatus {
		r := httptest.NewRequest(http.MethodGet, "/oauth/callback", nil)
		w := httptest.NewRecorder()
		l.renderPage(w, r, kind, "", pageData{Name: "N"})
		if w.Code != status {
			t.Errorf("%s: status = %d, want %d", kind, w.Code, status)
		}
		if n := strings.Count(w.Body.String(), "<section"); n != 2 {
			t.Errorf("%s: %d language sections, want 2", kind, n)
		}
		body := w.Body.String()
		relink := kind != pageSuccess && kind != pageMethod
		if relink && (!strings.Contains(body, "run /link") || !strings.Contains(body, "In Slack the command is /secondme link.") ||
			!strings.Contains(body, "在 Slack 中，命令为 /secondme link。")) {
			t.Errorf("%s: page does not tell the user to run /link (/secondme link in Slack):\n%s", kind, body)
		}
		if !relink && strings.Contains(body, "/secondme link") {
			t.Errorf("%s: page names the relink command", kind)
		}
	}
}

func checkSecurityHeaders(t *testing.T, h http.Header) {
	t.Helper()
	want := map[string]string{
		"Cache-Control":           "no-store",
		"Referrer-Policy":         "no-referrer",
		"X-Content-Type-Options":  "nosniff",
		"Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'",
	}
	for k, v := range want {
		if got := h.Get(k); got != v {
			t.Errorf("header %s = %q, want %q", k, got, v)
		}
	}
}
