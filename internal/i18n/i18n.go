package i18n

import (
	"embed"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strings"
	"sync/atomic"

	"go.yaml.in/yaml/v3"
)

//go:embed locales/*.yaml
var files embed.FS

// DefaultLanguage is the language of the reference catalog and the
// fallback for a locale no catalog matches.
const DefaultLanguage = "en"

// Catalog is one language's texts.
type Catalog struct {
	// Language is the catalog's BCP 47 base tag ("en", "zh").
	Language string `yaml:"language"`
	// Name is the language's own name ("English", "简体中文").
	Name string `yaml:"name"`
	// HTMLLang is the lang attribute of a page in this language.
	HTMLLang string `yaml:"html_lang"`
	// Matches are the locale prefixes (lower case) that choose it.
	Matches []string `yaml:"matches"`
	// DiscordLocale is Discord's locale code for command localizations
	// ("" for the default language, whose texts are the base ones).
	DiscordLocale string `yaml:"discord_locale"`

	Texts map[string]string `yaml:"texts"`
}

// Set is one immutable generation of the catalogs: the built-in ones,
// with the operator's overrides (Apply) on top.
type Set struct {
	catalogs []*Catalog // DefaultLanguage first, then by language
	byLang   map[string]*Catalog
}

func newSet(cs []*Catalog) *Set {
	s := &Set{catalogs: cs, byLang: map[string]*Catalog{}}
	for _, c := range cs {
		s.byLang[c.Language] = c
	}
	return s
}

var (
	builtin *Set                // the embedded catalogs
	current atomic.Pointer[Set] // builtin, or builtin with overrides
)

func init() {
	cs, err := load(files)
	if err != nil {
		panic(err)
	}
	builtin = newSet(cs)
	current.Store(builtin)
}

// Current returns the catalogs in force. It changes only through Apply;
// callers that render several texts together (a page) take one Set and
// use it throughout.
func Current() *Set { return current.Load() }

// load reads every locales/*.yaml of fsys.
func load(fsys fs.FS) ([]*Catalog, error) {
	names, err := fs.Glob(fsys, "locales/*.yaml")
	if err != nil {
		return nil, fmt.Errorf("load catalogs: %w", err)
	}
	var cs []*Catalog
	for _, name := range names {
		raw, err := fs.ReadFile(fsys, name)
		if err != nil {
			return nil, fmt.Errorf("load catalog %s: %w", name, err)
		}
		var c Catalog
		dec := yaml.NewDecoder(strings.NewReader(string(raw)))
		dec.KnownFields(true)
		if err := dec.Decode(&c); err != nil {
			return nil, fmt.Errorf("load catalog %s: %w", name, err)
		}
		if want := strings.TrimSuffix(path.Base(name), ".yaml"); c.Language != want {
			return nil, fmt.Errorf("load catalog %s: language %q, want %q (the file name)", name, c.Language, want)
		}
		if len(c.Texts) == 0 || len(c.Matches) == 0 || c.HTMLLang == "" {
			return nil, fmt.Errorf("load catalog %s: texts, matches and html_lang are required", name)
		}
		for i, m := range c.Matches {
			c.Matches[i] = strings.ToLower(m)
		}
		cs = append(cs, &c)
	}
	sort.SliceStable(cs, func(i, j int) bool {
		if (cs[i].Language == DefaultLanguage) != (cs[j].Language == DefaultLanguage) {
			return cs[i].Language == DefaultLanguage
		}
		return cs[i].Language < cs[j].Language
	})
	if len(cs) == 0 || cs[0].Language != DefaultLanguage {
		return nil, fmt.Errorf("load catalogs: no %s.yaml", DefaultLanguage)
	}
	return cs, nil
}

// All returns every catalog in force, the default language first, then by
// language tag.
func All() []*Catalog { return Current().All() }

// Default returns the default language's catalog in force.
func Default() *Catalog { return Current().Default() }

// Get returns the catalog in force of a language tag ("zh"), or nil.
func Get(language string) *Catalog { return Current().Get(language) }

// Match is Set.Match on the catalogs in force.
func Match(locale string) *Catalog { return Current().Match(locale) }

// MatchOK is Set.MatchOK on the catalogs in force.
func MatchOK(locale string) (*Catalog, bool) { return Current().MatchOK(locale) }

// All returns every catalog of s, the default language first.
func (s *Set) All() []*Catalog { return append([]*Catalog(nil), s.catalogs...) }

// Default returns the default language's catalog of s.
func (s *Set) Default() *Catalog { return s.catalogs[0] }

// Get returns the catalog of s for a language tag, or nil.
func (s *Set) Get(language string) *Catalog { return s.byLang[language] }

// Match returns the catalog of s for a locale (BCP 47, any case, "-" or "_":
// "zh-Hans-SG", "zh_TW", "en-US"): the one with the longest matching
// prefix, a prefix matching a whole subtag; the default language when none
// does.
func (s *Set) Match(locale string) *Catalog {
	loc := strings.ReplaceAll(strings.ToLower(strings.TrimSpace(locale)), "_", "-")
	best, bestLen := s.Default(), 0
	for _, c := range s.catalogs {
		for _, m := range c.Matches {
			if (loc == m || strings.HasPrefix(loc, m+"-")) && len(m) > bestLen {
				best, bestLen = c, len(m)
			}
		}
	}
	return best
}

// MatchOK is Match that also reports whether a catalog matched (false:
// the default was returned for want of a match).
func (s *Set) MatchOK(locale string) (*Catalog, bool) {
	c := s.Match(locale)
	if c != s.Default() {
		return c, true
	}
	loc := strings.ReplaceAll(strings.ToLower(strings.TrimSpace(locale)), "_", "-")
	for _, m := range c.Matches {
		if loc == m || strings.HasPrefix(loc, m+"-") {
			return c, true
		}
	}
	return c, false
}

// Text returns the text of key in c, falling back to the built-in default
// language's, then to the key itself (so a missing text shows up instead
// of an empty message).
func (c *Catalog) Text(key string) string {
	if s, ok := c.Texts[key]; ok {
		return s
	}
	if s, ok := builtin.Default().Texts[key]; ok {
		return s
	}
	return key
}

// Has reports whether c itself has key.
func (c *Catalog) Has(key string) bool {
	_, ok := c.Texts[key]
	return ok
}
