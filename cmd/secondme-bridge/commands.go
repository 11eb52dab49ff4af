package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"

	"github.com/secondme-bridge/secondme-bridge/bridge/commands"
	"github.com/secondme-bridge/secondme-bridge/internal/config"
	"github.com/secondme-bridge/secondme-bridge/platforms/discord"
	"github.com/secondme-bridge/secondme-bridge/platforms/slack"
)

// hooks are the subcommands whose work belongs to a platform adapter.
// The dispatch, flags and config checks are here; the work itself is a
// function the adapters provide, set in defaultHooks when they are wired.
// A nil hook makes its subcommand fail with errHookMissing.
type hooks struct {
	// syncDiscordCommands registers (bulk-overwrites) the Discord slash
	// commands for cfg: globally, or in discord.command_guild. It may do
	// network I/O and prints a short summary to stdout. cfg is validated
	// and has discord.enabled set.
	syncDiscordCommands func(ctx context.Context, cfg config.Config, logger *slog.Logger, stdout io.Writer) error
	// slackManifest writes the Slack app manifest for cfg (YAML) to stdout.
	// It does no I/O besides writing. cfg has slack.enabled set but is not
	// validated (tokens may still be missing: the manifest comes first).
	slackManifest func(cfg config.Config, stdout io.Writer) error
}

// defaultHooks returns the hooks of the real program, backed by the
// Discord and Slack adapters.
func defaultHooks() hooks {
	return hooks{
		syncDiscordCommands: func(ctx context.Context, cfg config.Config, logger *slog.Logger, stdout io.Writer) error {
			dc := discordConfig(cfg.Discord, nil)
			dc.MaxInputChars = cfg.Bridge.MaxInputChars
			if err := discord.SyncCommands(ctx, dc, logger); err != nil {
				return err
			}
			where := "globally (new commands can take a while to appear)"
			if dc.CommandGuild != "" {
				where = "in guild " + dc.CommandGuild
			}
			_, err := fmt.Fprintf(stdout, "registered %d Discord commands %s\n", len(discord.Commands(dc.Commands)), where)
			return err
		},
		slackManifest: func(cfg config.Config, stdout io.Writer) error {
			m, err := slack.Manifest(slack.ManifestOptions{
				AppName:    cfg.Slack.AppName,
				PublicURL:  cfg.HTTP.PublicURL,
				SocketMode: cfg.Slack.Mode != config.SlackModeHTTP,
				Installs:   cfg.Slack.Install.Enabled(),
				Commands:   commands.Specs(),
			})
			if err != nil {
				return err
			}
			_, err = io.WriteString(stdout, m)
			return err
		},
	}
}

// errHookMissing is returned by a subcommand whose hook is not wired.
var errHookMissing = errors.New("not available in this build")

// cmdCommandsSync is "commands sync": register the Discord slash commands.
func (c *cli) cmdCommandsSync(ctx context.Context, args []string) error {
	path, err := c.parseConfigFlags("commands sync", args)
	if err != nil {
		return err
	}
	cfg, err := c.loadValidConfig(path)
	if err != nil {
		return err
	}
	if !cfg.Discord.Enabled {
		return errors.New("commands sync: discord is not enabled in the config (set discord.enabled: true)")
	}
	if c.hooks.syncDiscordCommands == nil {
		return fmt.Errorf("commands sync: %w", errHookMissing)
	}
	if err := c.hooks.syncDiscordCommands(ctx, cfg, newLogger(c.stderr, cfg.Log), c.stdout); err != nil {
		return fmt.Errorf("commands sync: %w", err)
	}
	return nil
}

// cmdSlackManifest is "slack-manifest": print the Slack app manifest. It
// only needs the file to parse (not to validate): the manifest is what
// creates the Slack app whose tokens the config then needs.
func (c *cli) cmdSlackManifest(_ context.Context, args []string) error {
	path, err := c.parseConfigFlags("slack-manifest", args)
	if err != nil {
		return err
	}
	cfg, err := config.Load(path, c.getenv)
	if err != nil {
		return err
	}
	if !cfg.Slack.Enabled {
		return errors.New("slack-manifest: slack is not enabled in the config (set slack.enabled: true)")
	}
	if c.hooks.slackManifest == nil {
		return fmt.Errorf("slack-manifest: %w", errHookMissing)
	}
	if err := c.hooks.slackManifest(cfg, c.stdout); err != nil {
		return fmt.Errorf("slack-manifest: %w", err)
	}
	return nil
}
