package platforms

import "context"

// Caps is what a platform can do beyond Platform, resolved once, when the
// bridge adds the platform (ResolveCaps): a nil field means the platform
// lacks that ability, and the bridge never asks it again by type
// assertion.
type Caps struct {
	Editor   Editor
	Streamer Streamer
	// PersonaStreamer opens a native stream under a persona (Slack); nil
	// when the platform cannot, and then a persona's reply streams as the
	// bot's or, where Streamer is nil too, by edits.
	PersonaStreamer PersonaStreamer
	Typer           Typer
	Ephemeraler     Ephemeraler
	Deleter         Deleter
	Budgeter        Budgeter
	// BudgetUser, when set, is given the bridge's way to wait for
	// budgets, for the calls the adapter makes on its own.
	BudgetUser BudgetUser
	// ThreadOpener opens the thread an Event asks for (WantsThread).
	ThreadOpener ThreadOpener
	// AgentSessions is the agent session surface (Slack's agent view).
	AgentSessions AgentSessions
}

// CapsReporter is implemented by a platform whose abilities depend on its
// configuration (a test fake, an adapter with an ability switched off). Its
// Caps are taken as they are; every other platform's are found by type
// assertion.
type CapsReporter interface {
	Caps() Caps
}

// ResolveCaps returns p's abilities: p.Caps() when p is a CapsReporter,
// otherwise the optional interfaces p implements.
func ResolveCaps(p Platform) Caps {
	if r, ok := p.(CapsReporter); ok {
		return r.Caps()
	}
	var c Caps
	c.Editor, _ = p.(Editor)
	c.Streamer, _ = p.(Streamer)
	c.PersonaStreamer, _ = p.(PersonaStreamer)
	c.Typer, _ = p.(Typer)
	c.Ephemeraler, _ = p.(Ephemeraler)
	c.Deleter, _ = p.(Deleter)
	c.Budgeter, _ = p.(Budgeter)
	c.BudgetUser, _ = p.(BudgetUser)
	c.ThreadOpener, _ = p.(ThreadOpener)
	c.AgentSessions, _ = p.(AgentSessions)
	return c
}

// BudgetUser is an adapter that makes platform calls of its own, besides
// the sends and edits the bridge paces (Discord: listing and creating the
// channel webhooks the avatar's replies go through), that count against
// its shared budgets. The bridge calls UseBudgets once, when it adds the
// platform, with take: take waits until one token of every budget is
// taken for one call (at the priority of a reply's first text) or ctx is
// done. Before UseBudgets, or without a bridge, the adapter calls
// without waiting.
type BudgetUser interface {
	UseBudgets(take func(ctx context.Context, budgets []Budget) error)
}
