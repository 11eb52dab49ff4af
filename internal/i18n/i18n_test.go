package i18n

import (
	"html/template"
	"regexp"
	"slices"
	"strings"
	"testing"
	"testing/fstest"
	"unicode/utf8"
)

// TestCatalogsAgree: every catalog has exactly the default catalog's keys,
// no empty text, the same fmt verbs in the same order, page texts that
// html/template parses with the same fields, and Discord names and
// descriptions within Discord's limits.
func TestCatalogsAgree(t *testing.T) {
	t.Parallel()
	en := Default()
	if en.Language != "en" || len(All()) < 2 || Get("zh") == nil {
		t.Fatalf("catalogs: %d, default %q", len(All()), en.Language)
	}
	slashName := regexp.MustCompile(`^[-_\p{Ll}\p{Lo}\p{N}]{1,32}$`)
	for _, c := range All() {
		for key := range en.Texts {
			if !c.Has(key) {
				t.Errorf("%s.yaml lacks %s", c.Language, key)
			}
		}
		for key, text := range c.Texts {
			ref, ok := en.Texts[key]
			if !ok {
				t.Errorf("%s.yaml has %s, which en.yaml has not", c.Language, key)
				continue
			}
			if strings.TrimSpace(text) == "" {
				t.Errorf("%s.yaml: %s is empty", c.Language, key)
			}
			if !slices.Equal(verbs(text), verbs(ref)) {
				t.Errorf("%s.yaml: %s takes %v, en.yaml %v", c.Language, key, verbs(text), verbs(ref))
			}
			switch {
			case strings.HasPrefix(key, "page."):
				if _, err := template.New(key).Parse(text); err != nil {
					t.Errorf("%s.yaml: %s: %v", c.Language, key, err)
				}
				if got, want := fields(text), fields(ref); !slices.Equal(got, want) {
					t.Errorf("%s.yaml: %s uses fields %v, en.yaml %v", c.Language, key, got, want)
				}
			case strings.HasPrefix(key, "command.message.") && strings.HasSuffix(key, ".name"):
				if n := utf8.RuneCountInString(text); n > 32 {
					t.Errorf("%s.yaml: %s is %d characters (Discord's limit: 32)", c.Language, key, n)
				}
			case strings.HasPrefix(key, "command.") && strings.HasSuffix(key, ".name"):
				if !slashName.MatchString(text) || strings.ToLower(text) != text {
					t.Errorf("%s.yaml: %s = %q is not a valid Discord command name", c.Language, key, text)
				}
			case strings.HasPrefix(key, "command.") && strings.HasSuffix(key, ".description"):
				if n := utf8.RuneCountInString(text); n > 100 {
					t.Errorf("%s.yaml: %s is %d characters (Discord's limit: 100)", c.Language, key, n)
				}
			}
		}
	}
}

func TestMatch(t *testing.T) {
	t.Parallel()
	zh, en := Get("zh"), Default()
	for locale, want := range map[string]*Catalog{
		"": en, "en-US": en, "fr": en, "zh": zh, "zh-CN": zh, "ZH-hans": zh,
		"zh-Hans-SG": zh, "zh_TW": zh, "zha": en, "  zh  ": zh,
	} {
		if got := Match(locale); got != want {
			t.Errorf("Match(%q) = %s, want %s", locale, got.Language, want.Language)
		}
	}
	if _, ok := MatchOK("fr-CA"); ok {
		t.Error("MatchOK(fr-CA) matched")
	}
	if c, ok := MatchOK("en-GB"); !ok || c != en {
		t.Error("MatchOK(en-GB) did not match English")
	}
	if got := zh.Text("chat.no_such_key"); got != "chat.no_such_key" {
		t.Errorf("unknown key = %q, want the key", got)
	}
}

// TestThirdLanguageIsOneFile: a catalog set with one more file (French
// here, with a single translated text) loads, sorts after English, is
// chosen by its locales, and falls back to English for what it lacks.
func TestThirdLanguageIsOneFile(t *testing.T) {
	t.Parallel()
	fsys := fstest.MapFS{}
	for _, name := range []string{"locales/en.yaml", "locales/zh.yaml"} {
		b, err := files.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		fsys[name] = &fstest.MapFile{Data: b}
	}
	fsys["locales/fr.yaml"] = &fstest.MapFile{Data: []byte(`language: fr
name: "Français"
html_lang: fr
matches: [fr]
discord_locale: "fr"
texts:
  chat.not_linked: "Vous n'avez pas encore lié votre compte SecondMe : lancez /link."
`)}
	cs, err := load(fsys)
	if err != nil {
		t.Fatal(err)
	}
	var langs []string
	for _, c := range cs {
		langs = append(langs, c.Language)
	}
	if !slices.Equal(langs, []string{"en", "fr", "zh"}) {
		t.Fatalf("languages = %v", langs)
	}
	fr := cs[1]
	if got := fr.Text("chat.not_linked"); !strings.HasPrefix(got, "Vous n'avez pas") {
		t.Errorf("fr text = %q", got)
	}

	// A broken file is refused with its name.
	fsys["locales/de.yaml"] = &fstest.MapFile{Data: []byte("language: fr\ntexts: {a: b}\nmatches: [de]\nhtml_lang: de\n")}
	if _, err := load(fsys); err == nil || !strings.Contains(err.Error(), "de.yaml") {
		t.Errorf("load with a mislabelled file = %v", err)
	}
	fsys["locales/de.yaml"] = &fstest.MapFile{Data: []byte("language: de\nnope: 1\n")}
	if _, err := load(fsys); err == nil || !strings.Contains(err.Error(), "de.yaml") {
		t.Errorf("load with an unknown field = %v", err)
	}
}
