package discord

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/bwmarrin/discordgo"

	"github.com/secondme-bridge/secondme-bridge/internal/i18n"
	"github.com/secondme-bridge/secondme-bridge/platforms"
)

// slashCommands maps each slash command to the name of its string option
// ("" when it has none). The command names are the bridge's.
var slashCommands = map[string]string{
	"link": "", "unlink": "", "ask": "message", "new": "", "whoami": "",
	"memory": "keyword", "note": "text", "sessions": "", "help": "",
}

// Message context-menu command names (as registered) and the bridge's
// command each maps to.
const (
	saveCommandName     = "Save to SecondMe"
	askAboutCommandName = "Ask my avatar"
)

var messageCommandNames = map[string]string{saveCommandName: "save", askAboutCommandName: "askabout"}

// publicCommands are deferred publicly; every other command is deferred
// ephemerally (only the user sees the answer).
var publicCommands = map[string]bool{"ask": true, "askabout": true}

// Commands returns the application command definitions: nine slash
// commands and two message context-menu commands, in English with a
// localization for every other catalog language (internal/i18n: Simplified
// Chinese as zh-CN), installable in guilds and usable in guild channels and
// in DMs with the bot. Each call returns fresh values.
func Commands() []*discordgo.ApplicationCommand { return CommandsFor(0) }

// maxOptionLength is Discord's limit on a string option's max_length.
const maxOptionLength = 6000

// CommandsFor is Commands with the /ask and /note text options limited to
// maxInput characters (0 or more than 6000: Discord's 6000), the bridge's
// bridge.max_input_chars, so Discord refuses a longer text in the input box
// instead of the bridge refusing it after sending.
func CommandsFor(maxInput int) []*discordgo.ApplicationCommand {
	if maxInput <= 0 || maxInput > maxOptionLength {
		maxInput = maxOptionLength
	}
	contexts := []discordgo.InteractionContextType{discordgo.InteractionContextGuild, discordgo.InteractionContextBotDM}
	installs := []discordgo.ApplicationIntegrationType{discordgo.ApplicationIntegrationGuildInstall}
	en := i18n.Default()
	slash := func(name string, opts ...*discordgo.ApplicationCommandOption) *discordgo.ApplicationCommand {
		key := "command." + name
		return &discordgo.ApplicationCommand{
			Type: discordgo.ChatApplicationCommand, Name: name, NameLocalizations: localized(key + ".name"),
			Description: en.Text(key + ".description"), DescriptionLocalizations: localized(key + ".description"), Options: opts,
			Contexts: &contexts, IntegrationTypes: &installs,
		}
	}
	option := func(command, name string, required bool) *discordgo.ApplicationCommandOption {
		key := "command." + command + ".option." + name
		return &discordgo.ApplicationCommandOption{
			Type: discordgo.ApplicationCommandOptionString, Name: name,
			NameLocalizations: *localized(key + ".name"),
			Description:       en.Text(key + ".description"), DescriptionLocalizations: *localized(key + ".description"),
			Required: required, MaxLength: maxInput,
		}
	}
	message := func(name, bridgeCommand string) *discordgo.ApplicationCommand {
		return &discordgo.ApplicationCommand{
			Type: discordgo.MessageApplicationCommand, Name: name,
			NameLocalizations: localized("command.message." + bridgeCommand + ".name"),
			Contexts:          &contexts, IntegrationTypes: &installs,
		}
	}
	return []*discordgo.ApplicationCommand{
		slash("link"),
		slash("unlink"),
		slash("ask", option("ask", "message", true)),
		slash("new"),
		slash("whoami"),
		slash("memory", option("memory", "keyword", false)),
		slash("note", option("note", "text", true)),
		slash("sessions"),
		slash("help"),
		message(saveCommandName, "save"),
		message(askAboutCommandName, "askabout"),
	}
}

// localized returns the text of key in every catalog language that has a
// Discord locale (internal/i18n: every language but the default one, whose
// texts are the base name and description).
func localized(key string) *map[discordgo.Locale]string {
	m := map[discordgo.Locale]string{}
	for _, c := range i18n.All() {
		if c.DiscordLocale != "" && c.Has(key) {
			m[discordgo.Locale(c.DiscordLocale)] = c.Text(key)
		}
	}
	return &m
}

// SyncCommands registers Commands() by bulk overwrite: globally, or in
// cfg.CommandGuild when set (guild commands appear at once; global ones may
// take a while). It retries a 429 up to twice, waiting as Discord asks.
func SyncCommands(ctx context.Context, cfg Config, logger *slog.Logger) error {
	if err := cfg.validate(true); err != nil {
		return err
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	s, err := newSession(cfg)
	if err != nil {
		return err
	}
	return syncCommands(ctx, s, cfg, logger)
}

func (a *Adapter) syncCommands(ctx context.Context) error {
	return syncCommands(ctx, a.s, a.cfg, a.log)
}

func syncCommands(ctx context.Context, s *discordgo.Session, cfg Config, logger *slog.Logger) error {
	scope := "global"
	if cfg.CommandGuild != "" {
		scope = "guild"
	}
	for attempt := 0; ; attempt++ {
		cmds, err := s.ApplicationCommandBulkOverwrite(cfg.ApplicationID, cfg.CommandGuild, CommandsFor(cfg.MaxInputChars), discordgo.WithContext(ctx))
		err = apiError("sync discord commands", err)
		var rl *platforms.RateLimitError
		if err == nil {
			logger.InfoContext(ctx, "discord commands synced", "count", len(cmds), "scope", scope, "guild", cfg.CommandGuild)
			return nil
		}
		if !errors.As(err, &rl) || attempt >= 2 {
			return err
		}
		t := time.NewTimer(max(rl.RetryAfter, 100*time.Millisecond))
		select {
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("sync discord commands: %w", ctx.Err())
		case <-t.C:
		}
	}
}

// Check verifies the token with GET /users/@me and returns "bot <name>".
// Only cfg.Token (and optionally APIURL, HTTPClient) is used.
func Check(ctx context.Context, cfg Config) (string, error) {
	if err := cfg.validate(false); err != nil {
		return "", err
	}
	s, err := newSession(cfg)
	if err != nil {
		return "", err
	}
	u, err := s.User("@me", discordgo.WithContext(ctx))
	if err != nil {
		return "", apiError("check discord token", err)
	}
	if u == nil || u.ID == "" {
		return "", errors.New("check discord token: empty user")
	}
	return "bot " + u.Username, nil
}
