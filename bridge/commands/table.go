package commands

import (
	"context"
	"strings"

	"github.com/secondme-bridge/secondme-bridge/bridge/text"
	"github.com/secondme-bridge/secondme-bridge/platforms"
)

// Kind is how the engine runs a command.
type Kind int

const (
	// Task commands run at once in the background (Run).
	Task Kind = iota
	// Question commands ask the avatar (Question) through the
	// conversation's queue, like a message.
	Question
	// NewSession forgets the conversation's session, in order with the
	// conversation's messages.
	NewSession
)

// Words is a text in every catalog language.
type Words struct{ En, Zh string }

// In returns w in l's language (English when there is none).
func (w Words) In(l text.Lang) string {
	if l.Language() == "zh" && w.Zh != "" {
		return w.Zh
	}
	return w.En
}

// Command is one bridge command, declared once: the help text, the Discord
// application commands and the Slack manifest's command list and
// subcommand parser are generated from Table (through Specs).
type Command struct {
	Name string
	Kind Kind
	// Args is the argument as the help writes it ("<text>"); Option is its
	// name as a Discord option ("text"), OptionRequired whether it may be
	// left out. Empty for a command without an argument.
	Args           Words
	Option         string
	OptionRequired bool
	// Help is the command's line in /help ("" for a message action only).
	Help Words
	// NeedsLink: the command calls SecondMe with the user's token, so it
	// takes a rate token with its claim (the user's rate limit).
	NeedsLink bool
	// Private: the answer is shown to the user only (Discord defers the
	// interaction ephemerally).
	Private bool
	// Action, ActionID, ActionHelp: the message action invoking the
	// command with a message's text (see platforms.CommandSpec).
	Action, ActionID, ActionHelp string
	// Run runs a Task command (a method expression: (*Deps).cmdLink).
	Run func(d *Deps, ctx context.Context, c *Call)
	// Question returns what a Question command asks the avatar, given its
	// non-empty argument; Empty is the catalog text telling the user the
	// argument is missing.
	Question func(l text.Lang, args string) string
	Empty    text.Key
}

// Table returns the bridge's command set, in the order /help lists it
// (fresh values each call).
func Table() []Command {
	return []Command{
		{Name: "link", Private: true, Help: Words{"connect your SecondMe account", "绑定你的 SecondMe 账号"}, Run: (*Deps).cmdLink},
		{Name: "unlink", Private: true, Help: Words{"disconnect it and forget your conversations here", "解除绑定并清除这里的对话"}, Run: (*Deps).cmdUnlink},
		{Name: "new", Kind: NewSession, Private: true, Help: Words{"start a new conversation", "开始新的对话"}},
		{
			Name: "ask", Kind: Question, Args: Words{"<text>", "<内容>"}, Option: "message", OptionRequired: true,
			Help: Words{"ask your avatar", "向你的分身提问"}, NeedsLink: true,
			Question: func(_ text.Lang, args string) string { return args }, Empty: text.MsgAskUsage,
		},
		{Name: "whoami", Private: true, NeedsLink: true, Help: Words{"your SecondMe profile", "你的 SecondMe 资料"}, Run: (*Deps).cmdWhoami},
		{
			Name: "memory", Args: Words{"<keyword>", "<关键词>"}, Option: "keyword", Private: true, NeedsLink: true,
			Help: Words{"search your key memories", "搜索你的关键记忆"}, Run: (*Deps).cmdMemory,
		},
		{
			Name: "note", Args: Words{"<text>", "<内容>"}, Option: "text", OptionRequired: true, Private: true, NeedsLink: true,
			Help: Words{"save a note", "保存一条笔记"}, Run: (*Deps).cmdNote,
		},
		{Name: "sessions", Private: true, NeedsLink: true, Help: Words{"your recent conversations", "你最近的对话"}, Run: (*Deps).cmdSessions},
		{Name: "help", Private: true, Help: Words{"this list", "显示此列表"}, Run: (*Deps).cmdHelp},
		{
			Name: "save", Private: true, NeedsLink: true, Run: (*Deps).cmdNote,
			Action: "Save to SecondMe", ActionID: "save_to_secondme", ActionHelp: "Save this message as a SecondMe note",
		},
		{
			Name: "askabout", Kind: Question, NeedsLink: true,
			Action: "Ask my avatar", ActionID: "ask_my_avatar", ActionHelp: "Ask your SecondMe avatar about this message",
			Question: func(l text.Lang, args string) string { return text.T(l, text.MsgAskAboutPrompt, quote(args)) },
			Empty:    text.MsgAskAboutEmpty,
		},
	}
}

// Lookup returns the command called name (any case, a leading "/"
// ignored), or nil.
func Lookup(name string) *Command {
	name = strings.ToLower(strings.TrimPrefix(strings.TrimSpace(name), "/"))
	cmds := Table()
	for i := range cmds {
		if cmds[i].Name == name {
			return &cmds[i]
		}
	}
	return nil
}

// Specs returns the command set as neutral data for the adapters.
func Specs() []platforms.CommandSpec {
	cmds := Table()
	specs := make([]platforms.CommandSpec, 0, len(cmds))
	for _, c := range cmds {
		specs = append(specs, platforms.CommandSpec{
			Name: c.Name, Slash: c.Help != (Words{}),
			Option: c.Option, OptionRequired: c.OptionRequired, Usage: c.Args.En,
			Public: !c.Private, Action: c.Action, ActionID: c.ActionID, ActionHelp: c.ActionHelp,
		})
	}
	return specs
}

// Help returns the /help text in l: the introduction, a line per command
// and the message menu, with the commands spelled as l's platform does.
func Help(l text.Lang) string {
	var sb strings.Builder
	sb.WriteString(text.T(l, text.MsgHelp))
	for _, c := range Table() {
		if c.Help == (Words{}) {
			continue
		}
		usage := c.Name
		if a := c.Args.In(l); a != "" {
			usage += " " + a
		}
		sb.WriteString("\n" + l.Commands(text.T(l, text.MsgHelpLine, usage, c.Help.In(l))))
	}
	sb.WriteString("\n" + text.T(l, text.MsgHelpMenu))
	return sb.String()
}
