package config

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"testing"
)

func TestSecretNeverPrinted(t *testing.T) {
	t.Parallel()
	cfg := validConfig(t)
	var logs bytes.Buffer
	logger := slog.New(slog.NewJSONHandler(&logs, nil))
	logger.Info("config", "token", cfg.Discord.Token, "slack", cfg.Slack)
	js, err := json.Marshal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	outputs := map[string]string{
		"slog":  logs.String(),
		"%v":    fmt.Sprintf("%v", cfg),
		"%+v":   fmt.Sprintf("%+v", cfg),
		"%#v":   fmt.Sprintf("%#v", cfg),
		"%s":    fmt.Sprintf("%s", cfg.Discord.Token), //nolint:staticcheck // S1025: the %s verb itself is under test
		"json":  string(js),
		"error": fmt.Errorf("wrap %v", cfg.SecondMe.OAuth.ClientSecret).Error(),
	}
	for name, out := range outputs {
		for _, secret := range []string{"discord-token-1", "secret-1", "signing-1", "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="} {
			if strings.Contains(out, secret) {
				t.Errorf("%s output contains secret %q: %s", name, secret, out)
			}
		}
		if !strings.Contains(out, "[redacted]") {
			t.Errorf("%s output does not show [redacted]: %s", name, out)
		}
	}
	if cfg.Discord.Token.Value() != "discord-token-1" {
		t.Error("Value does not return the secret")
	}
	if Secret("").String() != "" {
		t.Error("an empty secret should print as empty")
	}
}
