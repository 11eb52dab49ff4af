package bridge

import (
	"strings"
	"testing"
)

func TestCatalogHasBothLanguages(t *testing.T) {
	t.Parallel()
	for key, texts := range catalog {
		for l, s := range texts {
			if strings.TrimSpace(s) == "" {
				t.Errorf("%s: language %d is empty", key, l)
			}
		}
		if strings.Count(texts[langEN], "%") != strings.Count(texts[langZH], "%") {
			t.Errorf("%s: the languages take different arguments: %q vs %q", key, texts[langEN], texts[langZH])
		}
	}
}

func TestLangOf(t *testing.T) {
	t.Parallel()
	for locale, want := range map[string]lang{
		"": langEN, "en-US": langEN, "fr": langEN, "zh": langZH, "zh-CN": langZH, "ZH-hans": langZH,
		"zh-Hans-SG": langZH, "zh-SG": langZH, "zh-TW": langZH, "zh_HK": langZH, "zha": langEN,
	} {
		if got := langOf(locale); got != want {
			t.Errorf("langOf(%q) = %d, want %d", locale, got, want)
		}
	}
}

func TestTrUnknownKeyShowsKey(t *testing.T) {
	t.Parallel()
	if got := tr(langZH, msgKey("nope")); got != "nope" {
		t.Errorf("tr(unknown) = %q", got)
	}
	if got := tr(langZH, msgBusy, 3); got != "你的分身正忙：请 3 秒后再试。" {
		t.Errorf("tr(busy, 3) = %q", got)
	}
}
