package platforms

// CommandSpec describes one of the bridge's commands to an adapter, as
// neutral data: the bridge declares its commands once (bridge/commands)
// and cmd/secondme-bridge hands their specs to the adapters, which derive
// their registrations from them (Discord's application commands, the Slack
// manifest's usage hint and shortcuts, the Slack subcommand parser).
type CommandSpec struct {
	// Name is the bridge's command name (Command.Name of its events).
	Name string
	// Slash reports that users invoke it by name (Discord's /name, Slack's
	// /secondme name); otherwise only through its message action.
	Slash bool
	// Option names its free-text argument ("" for none); OptionRequired
	// says that it cannot be left out. Usage is the argument as a usage
	// hint writes it ("<text>").
	Option         string
	OptionRequired bool
	Usage          string
	// Public reports that its answer may be public (Discord defers it
	// publicly); every other command is answered privately.
	Public bool
	// Action is the English name of the message action that invokes it
	// with the message's text ("" for none), ActionID the action's id in
	// platform payloads (Slack's callback_id) and ActionHelp its
	// description.
	Action, ActionID, ActionHelp string
}
