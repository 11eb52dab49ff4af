package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// Load reads the YAML file at path and returns the configuration: defaults,
// then the file (Parse), then the environment (ApplyEnv with os.ReadFile for
// _FILE variables). getenv is usually os.Getenv. It does not validate: call
// Validate next. Errors are *Error, except for an unreadable file.
func Load(path string, getenv func(string) string) (Config, error) {
	data, err := os.ReadFile(path) //nolint:gosec // G304: the operator names the config file
	if err != nil {
		return Config{}, fmt.Errorf("read config file: %w", err)
	}
	cfg, err := Parse(data, path)
	if err != nil {
		return Config{}, err
	}
	if err := cfg.ApplyEnv(getenv, os.ReadFile); err != nil {
		return Config{}, err
	}
	return cfg, nil
}

// Parse strictly decodes YAML data over Default(). name (usually the file
// path) is used in the error summary. Every unknown key, every value of the
// wrong type and malformed YAML is reported with its line, all at once, in
// an *Error. Empty data yields Default().
func Parse(data []byte, name string) (Config, error) {
	summary := "parse config file " + name
	var ps problems

	dec := yaml.NewDecoder(bytes.NewReader(data))
	var root yaml.Node
	if err := dec.Decode(&root); err != nil {
		if errors.Is(err, io.EOF) {
			return Default(), nil
		}
		ps = append(ps, syntaxProblem(err))
		return Config{}, ps.err(summary)
	}
	var next yaml.Node
	if err := dec.Decode(&next); !errors.Is(err, io.EOF) {
		ps.addLine(next.Line, "", "the file must hold one YAML document, not several")
	}
	doc := &root
	if doc.Kind == yaml.DocumentNode && len(doc.Content) == 1 {
		doc = doc.Content[0]
	}
	w := &nodeWalker{ps: &ps, active: map[*yaml.Node]bool{}}
	w.check(doc, configType, "")
	if err := ps.err(summary); err != nil {
		return Config{}, err
	}

	// The node walk above found every problem with key names; this strict
	// decode is the one that fills the struct (and would still refuse an
	// unknown key if the walk ever missed one).
	cfg := Default()
	strict := yaml.NewDecoder(bytes.NewReader(data))
	strict.KnownFields(true)
	if err := strict.Decode(&cfg); err != nil {
		ps.add("", "%s", err)
		return Config{}, ps.err(summary)
	}
	cfg.normalize()
	return cfg, nil
}

var yamlLine = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// syntaxProblem turns a yaml syntax error into a Problem with its line.
func syntaxProblem(err error) Problem {
	msg := err.Error()
	if m := yamlLine.FindStringSubmatch(msg); m != nil {
		line, _ := strconv.Atoi(m[1])
		return Problem{Line: line, Message: "malformed YAML: " + m[2]}
	}
	return Problem{Message: "malformed YAML: " + strings.TrimPrefix(msg, "yaml: ")}
}

// maxAliases bounds how many alias expansions the node walk follows, so a
// "billion laughs" document cannot make it explode.
const maxAliases = 1000

// nodeWalker checks a YAML node tree against the Config type.
type nodeWalker struct {
	ps      *problems
	active  map[*yaml.Node]bool // anchors being expanded (cycle guard)
	aliases int
}

// check checks node n against type t at path: unknown keys, mappings where
// a section is expected, and leaf values that do not decode into their
// field's type. A null value keeps the default.
func (w *nodeWalker) check(n *yaml.Node, t reflect.Type, path string) {
	if n.Kind == yaml.AliasNode {
		target := n.Alias
		switch {
		case target == nil:
			return
		case w.active[target]:
			w.ps.addLine(n.Line, path, "alias *%s refers to itself", n.Value)
			return
		case w.aliases >= maxAliases:
			if w.aliases == maxAliases {
				w.ps.addLine(n.Line, path, "too many aliases (more than %d)", maxAliases)
			}
			w.aliases++
			return
		}
		w.aliases++
		w.active[target] = true
		defer delete(w.active, target)
		n = target
	}
	if n.Kind == 0 || n.ShortTag() == "!!null" {
		return
	}
	if t.Kind() != reflect.Struct || t == secretType {
		checkLeaf(n, t, path, w.ps)
		return
	}
	if n.Kind != yaml.MappingNode {
		what := "the file"
		if path != "" {
			what = path
		}
		w.ps.addLine(n.Line, path, "%s must be a mapping of keys, got %s", what, describe(n))
		return
	}
	w.active[n] = true
	defer delete(w.active, n)
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if k.Value == "<<" && k.ShortTag() == "!!merge" {
			if v.Kind == yaml.SequenceNode {
				for _, m := range v.Content {
					w.check(m, t, path)
				}
			} else {
				w.check(v, t, path)
			}
			continue
		}
		keyPath := joinPath(path, k.Value)
		f, ok := fieldByYAML(t, k.Value)
		if !ok {
			msg := "unknown key"
			if s := suggest(t, k.Value); s != "" {
				msg += fmt.Sprintf(" (did you mean %q?)", joinPath(path, s))
			}
			w.ps.addLine(k.Line, keyPath, "%s", msg)
			continue
		}
		w.check(v, f.Type, keyPath)
	}
}

// checkLeaf decodes n into a fresh value of type t and reports a failure in
// words an operator understands. Secret values are never echoed.
func checkLeaf(n *yaml.Node, t reflect.Type, path string, ps *problems) {
	if err := n.Decode(reflect.New(t).Interface()); err == nil {
		return
	}
	got := describe(n)
	if n.Kind == yaml.ScalarNode && !isSecret(t) {
		v := n.Value
		if len(v) > 40 {
			v = v[:37] + "..."
		}
		got = strconv.Quote(v)
	}
	var want string
	switch {
	case t == reflect.TypeFor[time.Duration]():
		want = `a duration such as "30s", "10m" or "168h"`
	case t.Kind() == reflect.Bool:
		want = "true or false"
	case t.Kind() == reflect.Int:
		want = "a whole number"
	case t.Kind() == reflect.Slice:
		want = "a list of strings, e.g. [\"a\", \"b\"]"
	default:
		want = "a string"
	}
	ps.addLine(n.Line, path, "want %s, got %s", want, got)
}

func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	}
	switch n.ShortTag() {
	case "!!str":
		return "a string"
	case "!!int", "!!float":
		return "a number"
	case "!!bool":
		return "a boolean"
	default:
		return "a " + strings.TrimPrefix(n.ShortTag(), "!!") + " value"
	}
}

func joinPath(prefix, name string) string {
	if prefix == "" {
		return name
	}
	return prefix + "." + name
}

// suggest returns the key of struct type t closest to name, if it is close
// enough to be a likely typo.
func suggest(t reflect.Type, name string) string {
	best, bestDist := "", 3
	for i := range t.NumField() {
		cand := yamlName(t.Field(i))
		if cand == "" {
			continue
		}
		if d := editDistance(strings.ToLower(name), cand); d < bestDist {
			best, bestDist = cand, d
		}
	}
	return best
}

// editDistance is the Levenshtein distance between a and b (bytes).
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
