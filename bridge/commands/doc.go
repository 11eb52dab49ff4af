// Package commands declares the bridge's commands once (Table: name,
// argument, help in English and Chinese, whether it needs the user's link,
// whether its answer is private, and what it runs) and runs the ones that
// answer at once: link, unlink, help, whoami, memory, note/save, sessions.
// The /help text (Help) and the adapters' registrations (Specs, as
// platforms.CommandSpec: Discord's application commands, the Slack
// manifest's command and shortcuts, Slack's subcommand parser) are
// generated from the table.
//
// A command reaches the engine only through Deps (the Linker, the SecondMe
// client, an Outbox for its answers). The engine (package bridge) routes
// events to it: admission, the conversation queue (ask, askabout, new) and
// the task tracking stay there; this package never touches conversations,
// leases or queues.
package commands
