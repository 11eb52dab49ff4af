package main

import (
	"log/slog"
	"net/http"
	"time"

	"github.com/secondme-bridge/secondme-bridge/bridge/commands"
	"github.com/secondme-bridge/secondme-bridge/bridge/text"
	"github.com/secondme-bridge/secondme-bridge/internal/config"
	"github.com/secondme-bridge/secondme-bridge/internal/i18n"
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
	// (Slack's HTTP mode). hc is the adapter's REST client (measured).
	build func(cfg config.Config, logger *slog.Logger, mux *http.ServeMux, hc *http.Client) (platforms.Platform, error)
	// timeout is the whole-request timeout of hc (0: the adapter's own).
	timeout time.Duration
}

// platformFactories lists the adapters, in start-up order.
func platformFactories() []platformFactory {
	return []platformFactory{
		{
			name:    "discord",
			enabled: func(cfg config.Config) bool { return cfg.Discord.Enabled },
			build: func(cfg config.Config, logger *slog.Logger, _ *http.ServeMux, hc *http.Client) (platforms.Platform, error) {
				dc := discordConfig(cfg.Discord, hc)
				dc.MaxInputChars = cfg.Bridge.MaxInputChars
				dc.MaxAttachmentBytes = int64(cfg.Bridge.MaxAttachmentBytes)
				return discord.New(dc, logger)
			},
		},
		{
			name:    "slack",
			enabled: func(cfg config.Config) bool { return cfg.Slack.Enabled },
			timeout: 15 * time.Second, // the adapter's default without a client
			build: func(cfg config.Config, logger *slog.Logger, mux *http.ServeMux, hc *http.Client) (platforms.Platform, error) {
				sc := slackConfig(cfg.Slack, hc)
				sc.MaxAttachmentBytes = int64(cfg.Bridge.MaxAttachmentBytes)
				a, err := slack.New(sc, logger)
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
		NotHereText:     text.NotHereText, // the wording lives in the bridge's catalog
		AutoThread:      d.AutoThread,
		CommandGuild:    d.CommandGuild,
		SyncCommands:    d.SyncCommands,
		Commands:        commands.Specs(), // the bridge's command table
		GlobalRate:      d.GlobalRate,
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
		Commands:        commands.Specs(),
		HTTPClient:      hc,
		// The wording lives in the catalog (slack.prompt_*), taken at each
		// use so that a texts reload applies.
		SuggestedPrompts: slackPrompts,
	}
}

// slackPromptKeys name the agent view's suggested prompts in the catalog:
// slack.prompt_<key>_title is shown, slack.prompt_<key> is sent.
var slackPromptKeys = []string{"intro", "week", "ideas", "memory"}

// slackPrompts are the suggested prompts pinned in a Slack user's Messages
// tab, in the language their locale selects.
func slackPrompts(locale string) []slack.SuggestedPrompt {
	c := i18n.Match(locale)
	out := make([]slack.SuggestedPrompt, 0, len(slackPromptKeys))
	for _, k := range slackPromptKeys {
		out = append(out, slack.SuggestedPrompt{Title: c.Text("slack.prompt_" + k + "_title"), Message: c.Text("slack.prompt_" + k)})
	}
	return out
}
