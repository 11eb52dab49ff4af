package main

import (
	"strings"

	"github.com/bwmarrin/discordgo"

	"github.com/secondme-bridge/secondme-bridge/bridge/commands"
	"github.com/secondme-bridge/secondme-bridge/bridge/linking"
	"github.com/secondme-bridge/secondme-bridge/platforms/discord"
	"github.com/secondme-bridge/secondme-bridge/platforms/slack"
)

// linkPlatforms tells the link pages how each platform is named and how
// its users run the link command, in English and in Chinese (Discord's
// localized /绑定), from the adapters' own command tables.
func linkPlatforms() map[string]linking.Platform {
	discordZH := "/link"
	for _, c := range discord.Commands(commands.Specs()) {
		if c.Name == "link" && c.NameLocalizations != nil {
			if zh, ok := (*c.NameLocalizations)[discordgo.ChineseCN]; ok {
				discordZH = "/" + zh
			}
		}
	}
	slackLink := strings.TrimSpace(slack.CommandPrefix) + " link"
	return map[string]linking.Platform{
		"discord":  {Title: "Discord", LinkCommand: "/link", LinkCommandZH: discordZH},
		slack.Name: {Title: "Slack", LinkCommand: slackLink, LinkCommandZH: slackLink},
	}
}
