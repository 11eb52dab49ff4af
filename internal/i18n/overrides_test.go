package i18n

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func writeOverride(t *testing.T, dir, name, content string) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}

// TestOverlay: an operator's file replaces texts key by key for its
// language; every mistake is refused, naming the file and the key.
func TestOverlay(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	writeOverride(t, dir, "en.yaml", "language: en\ntexts:\n  chat.busy: \"Hold on, back in %d s.\"\n  page.invalid.title: Bad link\n")
	writeOverride(t, dir, "zh.yaml", "language: zh\ntexts:\n  chat.not_linked: 先运行 /link。\n")
	s, err := overlay(builtin, dir)
	if err != nil {
		t.Fatal(err)
	}
	if got := s.Get("en").Text("chat.busy"); got != "Hold on, back in %d s." {
		t.Errorf("en chat.busy = %q", got)
	}
	if got := s.Get("zh").Text("chat.not_linked"); got != "先运行 /link。" {
		t.Errorf("zh chat.not_linked = %q", got)
	}
	if got, want := s.Get("zh").Text("chat.busy"), builtin.Get("zh").Text("chat.busy"); got != want {
		t.Errorf("a text not overridden changed: %q", got)
	}
	if builtin.Get("en").Text("chat.busy") == "Hold on, back in %d s." {
		t.Error("the overlay changed the built-in catalog")
	}

	for name, tc := range map[string]struct{ file, want string }{
		"unknown language": {"language: xx\ntexts: {chat.busy: \"x %d\"}\n", `language "xx" has no built-in catalog (built in: en, zh)`},
		"unknown key":      {"language: en\ntexts: {chat.nope: x}\n", "chat.nope is not a text key"},
		"wrong verbs":      {"language: en\ntexts: {chat.busy: \"wait %s\"}\n", "chat.busy must take [%d] like the built-in text, has [%s]"},
		"missing verb":     {"language: en\ntexts: {chat.too_long: \"too long\"}\n", "chat.too_long must take [%d %d]"},
		"bad template":     {"language: en\ntexts: {page.success.msg: \"{{.Name\"}\n", "page.success.msg: template:"},
		"wrong field":      {"language: en\ntexts: {page.success.msg: \"hi {{.Nme}}\"}\n", "page.success.msg must use the fields [Name Platform Replaced]"},
		"command":          {"language: zh\ntexts: {command.link.name: bangding}\n", "command.link.name: Discord command texts cannot be overridden"},
		"empty":            {"language: en\ntexts: {chat.busy: \" \"}\n", "chat.busy is empty"},
		"unknown field":    {"language: en\nlanguages: [en]\n", "field languages not found"},
		"not yaml":         {"language: [en\n", "en.yaml: yaml:"},
	} {
		dir := t.TempDir()
		writeOverride(t, dir, "en.yaml", tc.file)
		if _, err := overlay(builtin, dir); err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), filepath.Join(dir, "en.yaml")) {
			t.Errorf("%s: overlay = %v, want an error naming the file and %q", name, err, tc.want)
		}
	}
	if _, err := overlay(builtin, filepath.Join(dir, "missing")); err == nil {
		t.Error("a missing directory was accepted")
	}
}

// TestApplySwapsTheCatalogs (not parallel: it changes the catalogs in
// force, and restores them): Apply swaps atomically, a failed Apply
// changes nothing, Apply("") restores the built-in texts.
func TestApplySwapsTheCatalogs(t *testing.T) {
	dir := t.TempDir()
	writeOverride(t, dir, "en.yaml", "language: en\ntexts: {chat.unknown_command: \"Nope: try /help.\"}\n")
	t.Cleanup(func() { _ = Apply("") })
	if err := Apply(dir); err != nil {
		t.Fatal(err)
	}
	if got := Match("en-US").Text("chat.unknown_command"); got != "Nope: try /help." {
		t.Errorf("after Apply: %q", got)
	}
	bad := t.TempDir()
	writeOverride(t, bad, "en.yaml", "language: en\ntexts: {chat.nope: x}\n")
	if err := Apply(bad); err == nil {
		t.Fatal("Apply of a bad file succeeded")
	}
	if got := Default().Text("chat.unknown_command"); got != "Nope: try /help." {
		t.Errorf("a failed Apply changed the texts: %q", got)
	}
	if err := Apply(""); err != nil {
		t.Fatal(err)
	}
	if Current() != builtin {
		t.Error("Apply(\"\") did not restore the built-in catalogs")
	}
}
