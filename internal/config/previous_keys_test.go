package config

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

const (
	prevKey1 = "AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyA="
	prevKey2 = "ICEiIyQlJicoKSorLC0uLzAxMjM0NTY3ODk6Ozw9Pj8="
)

// store.previous_encryption_keys: a YAML list, a comma-separated
// variable, or a file of one key a line; validated like encryption_key and
// never printed.
func TestPreviousEncryptionKeys(t *testing.T) {
	t.Parallel()
	cfg, err := Parse([]byte(validYAML(t)+"\n"), "x")
	if err != nil {
		t.Fatal(err)
	}
	if len(cfg.Store.PreviousEncryptionKeys) != 0 {
		t.Fatalf("default previous keys = %v, want none", cfg.Store.PreviousEncryptionKeys)
	}
	withList := strings.Replace(validYAML(t), "store:\n", "store:\n  previous_encryption_keys: [\""+prevKey1+"\", \""+prevKey2+"\"]\n", 1)
	cfg, err = Parse([]byte(withList), "x")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{prevKey1, prevKey2}, cfg.Store.PreviousEncryptionKeys.Values()); diff != "" {
		t.Errorf("YAML list (-want +got):\n%s", diff)
	}
	if s := fmt.Sprint(cfg.Store.PreviousEncryptionKeys) + fmt.Sprintf("%#v %v", cfg.Store.PreviousEncryptionKeys, cfg); strings.Contains(s, prevKey1) {
		t.Error("printing the config shows a previous key")
	}

	cfg = validConfig(t)
	err = cfg.ApplyEnv(mapEnv(map[string]string{"SECONDME_BRIDGE_STORE_PREVIOUS_ENCRYPTION_KEYS": prevKey1 + " , " + prevKey2}), os.ReadFile)
	if err != nil || cmp.Diff([]string{prevKey1, prevKey2}, cfg.Store.PreviousEncryptionKeys.Values()) != "" {
		t.Errorf("env list = %v, %v", cfg.Store.PreviousEncryptionKeys.Values(), err)
	}
	file := filepath.Join(t.TempDir(), "prev")
	if err := os.WriteFile(file, []byte(prevKey2+"\n"+prevKey1+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg = validConfig(t)
	err = cfg.ApplyEnv(mapEnv(map[string]string{"SECONDME_BRIDGE_STORE_PREVIOUS_ENCRYPTION_KEYS_FILE": file}), os.ReadFile)
	if err != nil || cmp.Diff([]string{prevKey2, prevKey1}, cfg.Store.PreviousEncryptionKeys.Values()) != "" {
		t.Errorf("_FILE list = %v, %v", cfg.Store.PreviousEncryptionKeys.Values(), err)
	}
	if err := cfg.Validate(); err != nil {
		t.Errorf("Validate with previous keys: %v", err)
	}

	cfg.Store.PreviousEncryptionKeys = SecretList{Secret(prevKey1), "not-a-key-secretvalue"}
	err = cfg.Validate()
	if err == nil || !strings.Contains(err.Error(), "store.previous_encryption_keys[1]") {
		t.Errorf("Validate with a bad previous key: %v, want a problem naming store.previous_encryption_keys[1]", err)
	}
	if err != nil && strings.Contains(err.Error(), "secretvalue") {
		t.Error("the validation error shows the bad key")
	}
}

func validYAML(t *testing.T) string {
	t.Helper()
	data, err := os.ReadFile("testdata/valid.yaml")
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}
