package text

import (
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/secondme-bridge/secondme-bridge/internal/i18n"

	"github.com/secondme-bridge/secondme-bridge/platforms"
	"github.com/secondme-bridge/secondme-bridge/platforms/platformtest"
)

// TestEveryKeyInEveryCatalog: each Key constant of catalog.go has a
// "chat." text in every catalog (internal/i18n checks that the catalogs
// agree with each other and on their fmt verbs).
func TestEveryKeyInEveryCatalog(t *testing.T) {
	t.Parallel()
	src, err := os.ReadFile("catalog.go")
	if err != nil {
		t.Fatal(err)
	}
	keys := regexp.MustCompile(`Msg\w+\s+Key = "(\w+)"`).FindAllStringSubmatch(string(src), -1)
	if len(keys) < 40 {
		t.Fatalf("found %d message keys in catalog.go", len(keys))
	}
	for _, k := range keys {
		for _, c := range i18n.All() {
			if s := c.Texts["chat."+k[1]]; strings.TrimSpace(s) == "" {
				t.Errorf("catalog %s has no text for chat.%s", c.Language, k[1])
			}
		}
	}
}

func TestLangOf(t *testing.T) {
	t.Parallel()
	for locale, want := range map[string]Lang{
		"": EN, "en-US": EN, "fr": EN, "zh": ZH, "zh-CN": ZH, "ZH-hans": ZH,
		"zh-Hans-SG": ZH, "zh-SG": ZH, "zh-TW": ZH, "zh_HK": ZH, "zha": EN,
	} {
		if got := Of(locale, nil); got != want {
			t.Errorf("Of(%q) = %+v, want %+v", locale, got, want)
		}
	}
}

func TestTrUnknownKeyShowsKey(t *testing.T) {
	t.Parallel()
	if got := T(ZH, Key("nope")); got != "nope" {
		t.Errorf("T(unknown) = %q", got)
	}
	if got := T(ZH, MsgBusy, 3); got != "你的分身正忙：请 3 秒后再试。" {
		t.Errorf("T(busy, 3) = %q", got)
	}
}

// TestCommandsNamedForThePlatform: Slack users are told "/secondme link",
// Discord users "/link"; arguments (a name, the avatar's text) are never
// rewritten.
func TestCommandsNamedForThePlatform(t *testing.T) {
	t.Parallel()
	slack := platformtest.New(platformtest.Options{Name: "slack", Limits: platforms.Limits{MaxMessageChars: 3900, CommandPrefix: "/secondme "}}).As()
	discord := platformtest.New(platformtest.Options{Name: "discord"}).As()
	for _, tc := range []struct {
		l    Lang
		key  Key
		args []any
		want string
	}{
		{Of("en", slack), MsgNotLinked, nil, "You haven't linked your SecondMe account yet: run /secondme link to connect it."},
		{Of("zh-CN", slack), MsgLinkBroken, nil, "你的 SecondMe 账号绑定已失效：请重新运行 /secondme link。"},
		{Of("en", discord), MsgNotLinked, nil, "You haven't linked your SecondMe account yet: run /link to connect it."},
		{Of("en", slack), MsgAskUsage, nil, "Usage: /secondme ask <your question>"},
		{Of("en", slack), MsgMissingScope, []any{"/link"}, "Your SecondMe link lacks /link: run /secondme link again."},
	} {
		if got := T(tc.l, tc.key, tc.args...); got != tc.want {
			t.Errorf("T(%+v, %s) = %q, want %q", tc.l, tc.key, got, tc.want)
		}
	}
	// Discord localizes its command names for zh-CN clients: /绑定.
	zhDiscord := platformtest.New(platformtest.Options{Name: "discord", Limits: platforms.Limits{
		MaxMessageChars: 2000, CommandNamesZH: &platforms.CommandNames{"link": "绑定", "unlink": "解绑"},
	}}).As()
	for _, tc := range []struct {
		l    Lang
		key  Key
		want string
	}{
		{Of("zh-CN", zhDiscord), MsgNotLinked, "你还没有绑定 SecondMe 账号：运行 /绑定 即可绑定。"},
		{Of("zh-TW", zhDiscord), MsgNotLinked, "你还没有绑定 SecondMe 账号：运行 /link 即可绑定。"},
		{Of("en-US", zhDiscord), MsgNotLinked, "You haven't linked your SecondMe account yet: run /link to connect it."},
	} {
		if got := T(tc.l, tc.key); got != tc.want {
			t.Errorf("T(%+v, %s) = %q, want %q", tc.l, tc.key, got, tc.want)
		}
	}
}

// TestNotHereText: the answer to a command where the bot may not be used,
// in the user's language.
func TestNotHereText(t *testing.T) {
	t.Parallel()
	for locale, want := range map[string]string{
		"en-US": "I can't be used here: ask me in a channel where I'm allowed, or send me a direct message.",
		"":      "I can't be used here: ask me in a channel where I'm allowed, or send me a direct message.",
		"zh-CN": "我不能在这里使用：请在允许我回复的频道中找我，或者给我发私信。",
		"zh-TW": "我不能在这里使用：请在允许我回复的频道中找我，或者给我发私信。",
	} {
		if got := NotHereText(locale); got != want {
			t.Errorf("NotHereText(%q) = %q, want %q", locale, got, want)
		}
	}
}
