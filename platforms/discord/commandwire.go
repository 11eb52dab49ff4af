package discord

import (
	"encoding/json"
	"fmt"
	"net/http"

	"github.com/bwmarrin/discordgo"
)

// discordgo v0.28.1, the approved release, has no contexts or
// integration_types on ApplicationCommand: the adapter declares Discord's
// values itself and registers its commands with its own request
// (bulkOverwriteCommands).

// InteractionContextType is where an application command can be used (an
// entry of the command's "contexts" in Discord's API). The values are
// Discord's. It is not a byte type: encoding/json would marshal a slice of
// bytes as a base64 string, not as Discord's array of numbers.
type InteractionContextType uint

// Interaction context types.
const (
	// InteractionContextGuild is any guild channel.
	InteractionContextGuild InteractionContextType = 0
	// InteractionContextBotDM is the DM with the bot.
	InteractionContextBotDM InteractionContextType = 1
	// InteractionContextPrivateChannel is a group DM or a DM other than
	// the bot's (user-installed commands only).
	InteractionContextPrivateChannel InteractionContextType = 2
)

// ApplicationIntegrationType is an installation an application command is
// available in (an entry of the command's "integration_types" in
// Discord's API). The values are Discord's (not a byte type, as
// InteractionContextType).
type ApplicationIntegrationType uint

// Application integration types.
const (
	// ApplicationIntegrationGuildInstall is the application installed in
	// a guild (the bot invited).
	ApplicationIntegrationGuildInstall ApplicationIntegrationType = 0
	// ApplicationIntegrationUserInstall is the application installed by a
	// user for themself.
	ApplicationIntegrationUserInstall ApplicationIntegrationType = 1
)

// Command is an application command as the adapter registers it:
// discordgo's ApplicationCommand, whose fields it marshals at the top
// level of one JSON object, with the contexts and integration types
// discordgo v0.28.1 does not carry. Nil Contexts or IntegrationTypes are
// left out (Discord's defaults).
type Command struct {
	discordgo.ApplicationCommand
	// Contexts are where the command can be used ("contexts").
	Contexts []InteractionContextType `json:"contexts,omitempty"`
	// IntegrationTypes are the installations it is available in
	// ("integration_types").
	IntegrationTypes []ApplicationIntegrationType `json:"integration_types,omitempty"`
}

// bulkOverwriteCommands replaces the application's commands in guildID
// (globally when "") with cmds and returns what Discord registered: the
// PUT, endpoint and rate-limit bucket of discordgo's
// ApplicationCommandBulkOverwrite, with a body of Commands. It blocks for
// the call. Its errors are discordgo's, unwrapped (a *discordgo.RESTError,
// a *discordgo.RateLimitError, a transport error; see apiError), or the
// answer's decoding error.
func bulkOverwriteCommands(s *discordgo.Session, appID, guildID string, cmds []*Command, options ...discordgo.RequestOption) ([]*Command, error) {
	endpoint := discordgo.EndpointApplicationGlobalCommands(appID)
	if guildID != "" {
		endpoint = discordgo.EndpointApplicationGuildCommands(appID, guildID)
	}
	body, err := s.RequestWithBucketID(http.MethodPut, endpoint, cmds, endpoint, options...)
	if err != nil {
		return nil, err
	}
	var out []*Command
	if err := json.Unmarshal(body, &out); err != nil {
		return nil, fmt.Errorf("decode registered commands: %w", err)
	}
	return out, nil
}
