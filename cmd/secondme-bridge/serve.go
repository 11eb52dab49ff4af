package main

import (
	"context"
	"fmt"

	"github.com/secondme-bridge/secondme-bridge/internal/i18n"
)

// cmdServe runs the bridge until ctx is done (SIGINT/SIGTERM in main).
func (c *cli) cmdServe(ctx context.Context, args []string) error {
	path, err := c.parseConfigFlags("serve", args)
	if err != nil {
		return err
	}
	cfg, err := c.loadValidConfig(path)
	if err != nil {
		return err
	}
	logger := newLogger(c.stderr, cfg.Log)
	if err := i18n.Apply(cfg.Bridge.TextsDir); err != nil {
		return fmt.Errorf("start: %w", err)
	}
	a, err := newApp(ctx, cfg, logger)
	if err != nil {
		return fmt.Errorf("start: %w", err)
	}
	defer func() {
		if err := a.Close(); err != nil {
			logger.Error("close", "error", err)
		}
	}()
	logger.Info("starting secondme-bridge",
		"version", version, "instance", a.instanceID, "store", a.storeDesc,
		"discord", cfg.Discord.Enabled, "slack", cfg.Slack.Enabled,
		"components", a.componentNames(), "gogc", gcPercent())
	if c.onStart != nil {
		c.onStart(a)
	}
	stopReloads := c.serveReloads(ctx, a, cfg, path, logger)
	defer stopReloads()
	if err := a.Run(ctx); err != nil {
		logger.Error("stopped with an error", "error", err)
		return errReported
	}
	logger.Info("stopped")
	return nil
}
