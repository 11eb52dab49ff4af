package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/secondme-bridge/secondme-bridge/internal/config"
)

// Exit codes.
const (
	exitOK      = 0
	exitFailure = 1 // the command ran and failed (bad config, failed check, runtime error)
	exitUsage   = 2 // the command line was wrong
)

const usageText = `secondme-bridge bridges Discord and Slack to SecondMe AI avatars.

Usage:
  secondme-bridge <command> [flags]

Commands:
  serve           run the bridge: HTTP server, store and every enabled platform
  check           validate the config, open the store and verify every credential
  commands sync   register the Discord slash commands (overwrites them)
  rekey           re-encrypt every stored secret under store.encryption_key
  slack-manifest  print the Slack app manifest for this config
  demo            try the bridge locally: no config, network or credentials
  probe [--url U] exit 0 when the instance at U is ready (Docker HEALTHCHECK)
  version         print version information
  help [command]  show this help, or the flags of one command

Every command except demo, probe, version and help needs a config file: --config FILE,
or the environment variable SECONDME_BRIDGE_CONFIG. Any key of the file can
be overridden with SECONDME_BRIDGE_<KEY_PATH> (see config.example.yaml).
`

// cli holds what the subcommands share. Tests build one directly to set the
// unexported seams (onStart, httpClient, hooks).
type cli struct {
	stdout, stderr io.Writer
	getenv         func(string) string
	// hooks implement the platform-specific subcommands (commands.go).
	hooks hooks
	// httpClient is used by check; nil means a client with a 15s timeout.
	httpClient *http.Client
	// checkTimeout bounds each network check of check (0: checkTimeout).
	checkTimeout time.Duration
	// onStart, if set, is called by serve once the app is built and its
	// listener is bound, before it runs (tests read the address from it).
	onStart func(*app)
	// onDemo, if set, is called by demo once the demo user is linked and
	// the page (or the script) is about to start (demo.go).
	onDemo func(demoRun)
	// reloads delivers SIGHUP (main) or a test's signal: serve re-reads
	// its config on each (reload.go). nil: no reloads.
	reloads <-chan os.Signal
}

func newCLI(stdout, stderr io.Writer, getenv func(string) string) *cli {
	return &cli{stdout: stdout, stderr: stderr, getenv: getenv, hooks: defaultHooks()}
}

// usageError is a mistake on the command line: it exits with code 2.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error {
	return &usageError{msg: fmt.Sprintf(format, args...)}
}

// errReported means the command has already printed why it failed.
var errReported = errors.New("failure already reported")

func (c *cli) run(ctx context.Context, args []string) int {
	err := c.dispatch(ctx, args)
	var ue *usageError
	switch {
	case err == nil, errors.Is(err, flag.ErrHelp):
		return exitOK
	case errors.As(err, &ue):
		fmt.Fprintf(c.stderr, "secondme-bridge: %s\nRun 'secondme-bridge help' for usage.\n", ue.msg)
		return exitUsage
	case errors.Is(err, errReported):
		return exitFailure
	default:
		fmt.Fprintf(c.stderr, "secondme-bridge: %s\n", err)
		return exitFailure
	}
}

func (c *cli) dispatch(ctx context.Context, args []string) error {
	if len(args) == 0 {
		fmt.Fprint(c.stderr, usageText)
		return usagef("no command given")
	}
	cmd, rest := args[0], args[1:]
	switch cmd {
	case "serve":
		return c.cmdServe(ctx, rest)
	case "check":
		return c.cmdCheck(ctx, rest)
	case "commands":
		if len(rest) == 0 {
			return usagef("commands: missing subcommand (want: commands sync)")
		}
		if rest[0] != "sync" {
			return usagef("commands: unknown subcommand %q (want: commands sync)", rest[0])
		}
		return c.cmdCommandsSync(ctx, rest[1:])
	case "slack-manifest":
		return c.cmdSlackManifest(ctx, rest)
	case "demo":
		return c.cmdDemo(ctx, rest)
	case "probe":
		return c.cmdProbe(ctx, rest)
	case "rekey":
		return c.cmdRekey(ctx, rest)
	case "version":
		if len(rest) > 0 {
			return usagef("version: unexpected argument %q", rest[0])
		}
		printVersion(c.stdout)
		return nil
	case "help", "-h", "-help", "--help":
		return c.cmdHelp(rest)
	default:
		return usagef("unknown command %q", cmd)
	}
}

func (c *cli) cmdHelp(args []string) error {
	if len(args) == 0 {
		fmt.Fprint(c.stdout, usageText)
		return nil
	}
	name := strings.Join(args, " ")
	var fs *flag.FlagSet
	switch name {
	case "serve", "check", "commands sync", "slack-manifest", "rekey":
		fs, _ = c.configFlagSet(name)
	case "demo":
		fs = demoFlagSet(&demoFlags{})
	case "version", "help":
		fmt.Fprintf(c.stdout, "Usage: secondme-bridge %s\n", name)
		return nil
	case "probe":
		fs, _, _ = c.probeFlagSet()
	default:
		return usagef("help: unknown command %q", name)
	}
	fs.SetOutput(c.stdout)
	fs.Usage()
	return nil
}

// commandSummaries are the one-line descriptions shown by "help <command>".
var commandSummaries = map[string]string{
	"serve":          "Run the bridge until SIGINT or SIGTERM, then shut down gracefully.\nSIGHUP re-reads the config file and applies what can change live.",
	"probe":          "GET the URL (default: this host's /readyz on :8080) and exit 0 on 200, 1 otherwise.\nNeeds no config and no shell: use it as Docker's HEALTHCHECK.",
	"check":          "Validate the config, open the store and verify every configured credential.\nPrints one PASS/FAIL/SKIP line per item; exits 1 if anything failed.",
	"commands sync":  "Register (bulk-overwrite) the Discord slash commands.",
	"slack-manifest": "Print the Slack app manifest (YAML) to paste into api.slack.com/apps.",
	"rekey": "Re-encrypt every sealed record (tokens, pending links, in-flight replies) under\n" +
		"store.encryption_key, opening them with it or store.previous_encryption_keys,\n" +
		"and print how many were re-sealed, already current and unreadable. Safe while\n" +
		"the bridge runs on Redis; a bolt file must not be open in a running bridge.",
}

// configFlagSet returns the flag set of a command that takes --config.
func (c *cli) configFlagSet(name string) (*flag.FlagSet, *string) {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(c.stderr)
	path := fs.String("config", "", "config `FILE` (default: $SECONDME_BRIDGE_CONFIG)")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: secondme-bridge %s --config FILE\n\n%s\n\nFlags:\n", name, commandSummaries[name])
		fs.PrintDefaults()
	}
	return fs, path
}

// parseConfigFlags parses a command's flags and returns the config path.
func (c *cli) parseConfigFlags(name string, args []string) (string, error) {
	fs, path := c.configFlagSet(name)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return "", err
		}
		return "", usagef("%s: %v", name, err)
	}
	if fs.NArg() > 0 {
		return "", usagef("%s: unexpected argument %q", name, fs.Arg(0))
	}
	p := *path
	if p == "" {
		p = c.getenv("SECONDME_BRIDGE_CONFIG")
	}
	if p == "" {
		return "", usagef("%s: no config file: pass --config FILE or set SECONDME_BRIDGE_CONFIG", name)
	}
	return p, nil
}

// loadValidConfig loads and validates the config at path. On failure it
// prints every problem to stderr and returns errReported.
func (c *cli) loadValidConfig(path string) (config.Config, error) {
	cfg, err := config.Load(path, c.getenv)
	if err == nil {
		err = cfg.Validate()
	}
	if err != nil {
		fmt.Fprintf(c.stderr, "secondme-bridge: %s\n", err)
		return config.Config{}, errReported
	}
	return cfg, nil
}
