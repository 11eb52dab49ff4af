package discord

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"github.com/bwmarrin/discordgo"

	"github.com/secondme-bridge/secondme-bridge/internal/i18n"
	"github.com/secondme-bridge/secondme-bridge/platforms"
)

// commandSet is what the adapter derives from Config.Commands to read
// interactions: each slash command's option ("" for none), each message
// command's bridge command, and the commands deferred publicly (every
// other one is deferred ephemerally: only the user sees the answer).
type commandSet struct {
	slash   map[string]string
	message map[string]string
	public  map[string]bool
	namesZH platforms.CommandNames // each slash command's zh-CN name (link → 绑定)
}

func newCommandSet(specs []platforms.CommandSpec) *commandSet {
	cs := &commandSet{slash: map[string]string{}, message: map[string]string{}, public: map[string]bool{}, namesZH: platforms.CommandNames{}}
	for _, sp := range specs {
		if sp.Slash {
			cs.slash[sp.Name] = sp.Option
		}
		if sp.Action != "" {
			cs.message[sp.Action] = sp.Name
		}
		if sp.Public {
			cs.public[sp.Name] = true
		}
	}
	for _, c := range Commands(specs) {
		if zh := c.NameLocalizations; zh != nil && c.Type != discordgo.MessageApplicationCommand {
			if name, ok := (*zh)[discordgo.ChineseCN]; ok {
				cs.namesZH[c.Name] = name
			}
		}
	}
	return cs
}

// Commands returns the application command definitions of specs: a slash
// command per spec with Slash, a message context-menu command per spec
// with an Action, in English with a
// localization for every other catalog language (internal/i18n: Simplified
// Chinese as zh-CN), installable in guilds and usable in guild channels and
// in DMs with the bot. Each call returns fresh values.
func Commands(specs []platforms.CommandSpec) []*Command {
	return CommandsFor(specs, 0)
}

// maxOptionLength is Discord's limit on a string option's max_length.
const maxOptionLength = 6000

// commandContexts and commandInstalls are where every command of the
// bridge can be used (guild channels and the DM with the bot) and the
// installation it comes with (the bot's, in a guild).
var (
	commandContexts = []InteractionContextType{InteractionContextGuild, InteractionContextBotDM}
	commandInstalls = []ApplicationIntegrationType{ApplicationIntegrationGuildInstall}
)

// CommandsFor is Commands with the /ask and /note text options limited to
// maxInput characters (0 or more than 6000: Discord's 6000), the bridge's
// bridge.max_input_chars, so Discord refuses a longer text in the input box
// instead of the bridge refusing it after sending.
func CommandsFor(specs []platforms.CommandSpec, maxInput int) []*Command {
	if maxInput <= 0 || maxInput > maxOptionLength {
		maxInput = maxOptionLength
	}
	en := i18n.Default()
	command := func(c discordgo.ApplicationCommand) *Command {
		return &Command{ApplicationCommand: c, Contexts: slices.Clone(commandContexts), IntegrationTypes: slices.Clone(commandInstalls)}
	}
	slash := func(name string, opts ...*discordgo.ApplicationCommandOption) *Command {
		key := "command." + name
		return command(discordgo.ApplicationCommand{
			Type: discordgo.ChatApplicationCommand, Name: name, NameLocalizations: localized(key + ".name"),
			Description: en.Text(key + ".description"), DescriptionLocalizations: localized(key + ".description"), Options: opts,
		})
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
	message := func(name, bridgeCommand string) *Command {
		return command(discordgo.ApplicationCommand{
			Type: discordgo.MessageApplicationCommand, Name: name,
			NameLocalizations: localized("command.message." + bridgeCommand + ".name"),
		})
	}
	var slashes, messages []*Command
	for _, sp := range specs {
		if sp.Slash {
			var opts []*discordgo.ApplicationCommandOption
			if sp.Option != "" {
				opts = append(opts, option(sp.Name, sp.Option, sp.OptionRequired))
			}
			slashes = append(slashes, slash(sp.Name, opts...))
		}
		if sp.Action != "" {
			messages = append(messages, message(sp.Action, sp.Name))
		}
	}
	return append(slashes, messages...)
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

// SyncCommands registers Commands(cfg.Commands) by bulk overwrite
// (bulkOverwriteCommands, with their contexts and integration types):
// globally, or in cfg.CommandGuild when set (guild commands appear at once;
// global ones may take a while). It retries a 429 up to twice, waiting as
// Discord asks.
func SyncCommands(ctx context.Context, cfg Config, logger *slog.Logger) error {
	if err := cfg.validate(true); err != nil {
		return err
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	s, _, err := newSession(cfg)
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
		cmds, err := bulkOverwriteCommands(s, cfg.ApplicationID, cfg.CommandGuild, CommandsFor(cfg.Commands, cfg.MaxInputChars), discordgo.WithContext(ctx))
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
	s, _, err := newSession(cfg)
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
