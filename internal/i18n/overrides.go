package i18n

import (
	"errors"
	"fmt"
	"html/template"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"
)

// overrideFile is an operator's file of replacement texts for one built-in
// language: <dir>/<language>.yaml with "language" and a partial "texts".
type overrideFile struct {
	Language string            `yaml:"language"`
	Texts    map[string]string `yaml:"texts"`
}

// Apply makes the built-in catalogs with the overrides in dir (every
// *.yaml file; "" for none) the catalogs in force. Each file replaces
// texts of one built-in language, key by key. Nothing changes when any
// file is unreadable, names no built-in language or an unknown key, or
// has a text whose fmt verbs or page template fields differ from the
// built-in one: the error names the file and the key. It is safe to call
// concurrently with every reader (the swap is atomic); texts already
// handed out stay as they were.
func Apply(dir string) error {
	s, err := overlay(builtin, dir)
	if err != nil {
		return err
	}
	current.Store(s)
	return nil
}

// overlay returns base with the overrides of dir.
func overlay(base *Set, dir string) (*Set, error) {
	if dir == "" {
		return base, nil
	}
	names, err := filepath.Glob(filepath.Join(dir, "*.yaml"))
	if err != nil {
		return nil, fmt.Errorf("load texts from %s: %w", dir, err)
	}
	if _, err := os.Stat(dir); err != nil {
		return nil, fmt.Errorf("load texts from %s: %w", dir, err)
	}
	slices.Sort(names)
	cs := make([]*Catalog, 0, len(base.catalogs))
	by := map[string]*Catalog{}
	for _, c := range base.catalogs {
		cp := *c
		cp.Texts = maps.Clone(c.Texts)
		cs = append(cs, &cp)
		by[cp.Language] = &cp
	}
	var problems []error
	for _, name := range names {
		raw, err := os.ReadFile(name)
		if err != nil {
			problems = append(problems, err)
			continue
		}
		var f overrideFile
		dec := yaml.NewDecoder(strings.NewReader(string(raw)))
		dec.KnownFields(true)
		if err := dec.Decode(&f); err != nil {
			problems = append(problems, fmt.Errorf("%s: %w", name, err))
			continue
		}
		c, ok := by[f.Language]
		if !ok {
			problems = append(problems, fmt.Errorf("%s: language %q has no built-in catalog (built in: %s)", name, f.Language, strings.Join(languages(base), ", ")))
			continue
		}
		for _, key := range slices.Sorted(maps.Keys(f.Texts)) {
			text := f.Texts[key]
			ref, ok := base.Get(f.Language).Texts[key]
			switch {
			case !ok:
				problems = append(problems, fmt.Errorf("%s: %s is not a text key", name, key))
			case strings.TrimSpace(text) == "":
				problems = append(problems, fmt.Errorf("%s: %s is empty", name, key))
			case !slices.Equal(verbs(text), verbs(ref)):
				problems = append(problems, fmt.Errorf("%s: %s must take %v like the built-in text, has %v", name, key, verbs(ref), verbs(text)))
			case strings.HasPrefix(key, "page."):
				if _, err := template.New(key).Parse(text); err != nil {
					problems = append(problems, fmt.Errorf("%s: %s: %w", name, key, err))
					continue
				}
				if got, want := fields(text), fields(ref); !slices.Equal(got, want) {
					problems = append(problems, fmt.Errorf("%s: %s must use the fields %v like the built-in text, uses %v", name, key, want, got))
					continue
				}
				c.Texts[key] = text
			case strings.HasPrefix(key, "command."):
				problems = append(problems, fmt.Errorf("%s: %s: Discord command texts cannot be overridden (they are registered with Discord)", name, key))
			default:
				c.Texts[key] = text
			}
		}
	}
	if len(problems) > 0 {
		return nil, fmt.Errorf("load texts from %s: %w", dir, errors.Join(problems...))
	}
	return newSet(cs), nil
}

func languages(s *Set) []string {
	var out []string
	for _, c := range s.catalogs {
		out = append(out, c.Language)
	}
	return out
}
