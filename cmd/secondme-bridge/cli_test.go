package main

import (
	"runtime"
	"strings"
	"testing"
)

func TestUsageErrors(t *testing.T) {
	t.Parallel()
	cfg := writeConfig(t, minimalYAML)
	tests := []struct {
		name string
		args []string
		want string // in stderr
	}{
		{"no command", nil, "secondme-bridge: no command given"},
		{"unknown command", []string{"serv"}, `unknown command "serv"`},
		{"missing config", []string{"serve"}, "serve: no config file: pass --config FILE or set SECONDME_BRIDGE_CONFIG"},
		{"check missing config", []string{"check"}, "check: no config file"},
		{"extra argument", []string{"serve", "--config", cfg, "now"}, `serve: unexpected argument "now"`},
		{"unknown flag", []string{"check", "--verbose"}, "check: flag provided but not defined: -verbose"},
		{"flag without value", []string{"serve", "--config"}, "serve: flag needs an argument: -config"},
		{"commands without sub", []string{"commands"}, "commands: missing subcommand (want: commands sync)"},
		{"commands unknown sub", []string{"commands", "list"}, `commands: unknown subcommand "list"`},
		{"version extra", []string{"version", "x"}, `version: unexpected argument "x"`},
		{"help unknown", []string{"help", "nope"}, `help: unknown command "nope"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			code, _, stderr := runCLI(t, nil, tt.args...)
			if code != exitUsage {
				t.Errorf("exit code = %d, want %d", code, exitUsage)
			}
			if !strings.Contains(stderr, tt.want) {
				t.Errorf("stderr does not contain %q:\n%s", tt.want, stderr)
			}
			if !strings.Contains(stderr, "Run 'secondme-bridge help' for usage.") {
				t.Errorf("stderr has no usage hint:\n%s", stderr)
			}
		})
	}
}

func TestHelpAndVersion(t *testing.T) {
	t.Parallel()
	code, stdout, _ := runCLI(t, nil, "help")
	if code != exitOK || !strings.Contains(stdout, "commands sync") || !strings.Contains(stdout, "SECONDME_BRIDGE_CONFIG") {
		t.Errorf("help: code %d, stdout:\n%s", code, stdout)
	}
	code, stdout, _ = runCLI(t, nil, "help", "commands", "sync")
	if code != exitOK || !strings.Contains(stdout, "Usage: secondme-bridge commands sync --config FILE") || !strings.Contains(stdout, "-config FILE") {
		t.Errorf("help commands sync: code %d, stdout:\n%s", code, stdout)
	}
	code, _, stderr := runCLI(t, nil, "check", "-h")
	if code != exitOK || !strings.Contains(stderr, "Usage: secondme-bridge check") {
		t.Errorf("check -h: code %d, stderr:\n%s", code, stderr)
	}
	code, stdout, _ = runCLI(t, nil, "version")
	if code != exitOK || !strings.HasPrefix(stdout, "secondme-bridge dev\n") || !strings.Contains(stdout, runtime.Version()) {
		t.Errorf("version: code %d, stdout:\n%s", code, stdout)
	}
}

func TestConfigFromEnvironment(t *testing.T) {
	t.Parallel()
	// A config path from SECONDME_BRIDGE_CONFIG; a bad value from the
	// environment then fails validation through the same path as serve.
	path := writeConfig(t, minimalYAML)
	code, _, stderr := runCLI(t, map[string]string{
		"SECONDME_BRIDGE_CONFIG":    path,
		"SECONDME_BRIDGE_LOG_LEVEL": "loud",
	}, "serve")
	if code != exitFailure {
		t.Errorf("exit code = %d, want %d", code, exitFailure)
	}
	want := "secondme-bridge: invalid config:\n  - log.level: must be one of debug, info, warn, error, got \"loud\"\n"
	if stderr != want {
		t.Errorf("stderr = %q, want %q", stderr, want)
	}
}

func TestServeReportsEveryProblem(t *testing.T) {
	t.Parallel()
	path := writeConfig(t, "http:\n  listen: \":1\"\n  bogus: 1\nlog:\n  level: [x]\n")
	code, _, stderr := runCLI(t, nil, "serve", "--config", path)
	if code != exitFailure {
		t.Errorf("exit code = %d, want %d", code, exitFailure)
	}
	for _, want := range []string{"parse config file " + path, "line 3: http.bogus: unknown key", "line 5: log.level: want a string, got a list"} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr does not contain %q:\n%s", want, stderr)
		}
	}
}
