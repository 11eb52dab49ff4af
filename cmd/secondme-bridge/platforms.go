package main

import (
	"log/slog"
	"net/http"

	"github.com/secondme-bridge/secondme-bridge/bridge"
	"github.com/secondme-bridge/secondme-bridge/internal/config"
	"github.com/secondme-bridge/secondme-bridge/platforms"
	"github.com/secondme-bridge/secondme-bridge/platforms/discord"
	"github.com/secondme-bridge/secondme-bridge/platforms/slack"
)

// platformFactory builds one platform adapter from the config. The list
// lives here, in cmd, so that neither the bridge nor platforms/ imports an
// adapter (STYLE.md §4.1).
type platformFactory struct {
	name    string
	enabled func(cfg config.Config) bool
	// build returns the adapter; it may register HTTP routes on mux
	// (Slack's HTTP mode).
	build func(cfg config.Config, logger *slog.Logger, mux *http.ServeMux) (platforms.Platform, error)
}

// platformFactories lists the adapters, in start-up order.
func platformFactories() []platformFactory {
	return []platformFactory{
		{
			name:    "discord",
			enabled: func(cfg config.Config) bool { return cfg.Discord.Enabled },
			build: func(cfg config.Config, logger *slog.Logger, _ *http.ServeMux) (platforms.Platform, error) {
				return discord.New(discordConfig(cfg.Discord, nil), logger)
			},
		},
		{
			name:    "slack",
			enabled: func(cfg config.Config) bool { return cfg.Slack.Enabled },
			build: func(cfg config.Config, logger *slog.Logger, mux *http.ServeMux) (platforms.Platform, error) {
				a, err := slack.New(slackConfig(cfg.Slack, nil), logger)
				if err != nil {
					return nil, err
				}
				if cfg.Slack.Mode == config.SlackModeHTTP {
					a.Routes(mux)
				}
				return a, nil
			},
		},
	}
}

// discordConfig maps the discord.* settings onto the adapter's options. hc
// is nil in production (the adapter's default client).
func discordConfig(d config.Discord, hc *http.Client) discord.Config {
	return discord.Config{
		Token:           d.Token.Value(),
		ApplicationID:   d.ApplicationID,
		APIURL:          d.APIURL,
		AllowedGuilds:   d.AllowedGuilds,
		AllowedChannels: d.AllowedChannels,
		NotHereText:     bridge.NotHereText, // the wording lives in the bridge's catalog
		AutoThread:      d.AutoThread,
		CommandGuild:    d.CommandGuild,
		SyncCommands:    d.SyncCommands,
		HTTPClient:      hc,
	}
}

// slackConfig maps the slack.* settings onto the adapter's options.
func slackConfig(s config.Slack, hc *http.Client) slack.Config {
	var install *slack.InstallConfig
	if s.Install.Enabled() {
		// The store comes later (wireSlackInstalls, EnableInstalls).
		install = &slack.InstallConfig{
			ClientID: s.Install.ClientID, ClientSecret: s.Install.ClientSecret.Value(),
			AuthorizeURL: s.Install.AuthorizeURL,
		}
	}
	return slack.Config{
		Install:         install,
		Mode:            s.Mode,
		BotToken:        s.BotToken.Value(),
		AppToken:        s.AppToken.Value(),
		SigningSecret:   s.SigningSecret.Value(),
		APIURL:          s.APIURL,
		NativeStreaming: s.NativeStreaming,
		HTTPClient:      hc,
	}
}
