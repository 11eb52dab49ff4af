package platformtest

import "github.com/secondme-bridge/secondme-bridge/platforms"

// CommandSpecs returns the bridge's command set as the adapters receive it
// (bridge/commands.Specs, which cmd/secondme-bridge passes to the
// adapters), for adapter tests, which may not import the bridge. A test
// in bridge/commands keeps the two equal.
func CommandSpecs() []platforms.CommandSpec {
	return []platforms.CommandSpec{
		{Name: "link", Slash: true},
		{Name: "unlink", Slash: true},
		{Name: "new", Slash: true},
		{Name: "ask", Slash: true, Option: "message", OptionRequired: true, Usage: "<text>", Public: true},
		{Name: "whoami", Slash: true},
		{Name: "memory", Slash: true, Option: "keyword", Usage: "<keyword>"},
		{Name: "note", Slash: true, Option: "text", OptionRequired: true, Usage: "<text>"},
		{Name: "sessions", Slash: true},
		{Name: "help", Slash: true},
		{Name: "save", Action: "Save to SecondMe", ActionID: "save_to_secondme", ActionHelp: "Save this message as a SecondMe note"},
		{Name: "askabout", Public: true, Action: "Ask my avatar", ActionID: "ask_my_avatar", ActionHelp: "Ask your SecondMe avatar about this message"},
	}
}
