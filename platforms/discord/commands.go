package discord

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/bwmarrin/discordgo"

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
// commands and two message context-menu commands, in English with
// Simplified Chinese (zh-CN) localizations, installable in guilds and usable
// in guild channels and in DMs with the bot. Each call returns fresh values.
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
	zh := func(s string) *map[discordgo.Locale]string {
		return &map[discordgo.Locale]string{discordgo.ChineseCN: s}
	}
	slash := func(name, zhName, desc, zhDesc string, opts ...*discordgo.ApplicationCommandOption) *discordgo.ApplicationCommand {
		return &discordgo.ApplicationCommand{
			Type: discordgo.ChatApplicationCommand, Name: name, NameLocalizations: zh(zhName),
			Description: desc, DescriptionLocalizations: zh(zhDesc), Options: opts,
			Contexts: &contexts, IntegrationTypes: &installs,
		}
	}
	option := func(name, zhName, desc, zhDesc string, required bool) *discordgo.ApplicationCommandOption {
		return &discordgo.ApplicationCommandOption{
			Type: discordgo.ApplicationCommandOptionString, Name: name,
			NameLocalizations: map[discordgo.Locale]string{discordgo.ChineseCN: zhName},
			Description:       desc, DescriptionLocalizations: map[discordgo.Locale]string{discordgo.ChineseCN: zhDesc},
			Required: required, MaxLength: maxInput,
		}
	}
	message := func(name, zhName string) *discordgo.ApplicationCommand {
		return &discordgo.ApplicationCommand{
			Type: discordgo.MessageApplicationCommand, Name: name, NameLocalizations: zh(zhName),
			Contexts: &contexts, IntegrationTypes: &installs,
		}
	}
	return []*discordgo.ApplicationCommand{
		slash("link", "绑定", "Link your SecondMe account", "绑定你的 SecondMe 账号"),
		slash("unlink", "解绑", "Unlink your SecondMe account", "解除 SecondMe 账号绑定"),
		slash("ask", "提问", "Ask your SecondMe avatar", "向你的 SecondMe 分身提问",
			option("message", "消息", "What to ask", "要问的内容", true)),
		slash("new", "新对话", "Start a new conversation", "开始一段新的对话"),
		slash("whoami", "我是谁", "Show the linked SecondMe account", "查看已绑定的 SecondMe 账号"),
		slash("memory", "记忆", "Search your key memories", "搜索你的关键记忆",
			option("keyword", "关键词", "Keyword to search for", "要搜索的关键词", false)),
		slash("note", "笔记", "Save a note to SecondMe", "保存一条笔记到 SecondMe",
			option("text", "内容", "The note", "笔记内容", true)),
		slash("sessions", "会话", "List your recent SecondMe sessions", "列出最近的 SecondMe 会话"),
		slash("help", "帮助", "How to talk to your avatar", "如何与你的分身对话"),
		message(saveCommandName, "保存到 SecondMe"),
		message(askAboutCommandName, "问我的分身"),
	}
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
