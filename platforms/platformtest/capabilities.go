package platformtest

import (
	"context"

	"github.com/secondme-bridge/secondme-bridge/platforms"
)

// As returns the platform the bridge should be given. It is a
// platforms.Platform and a platforms.CapsReporter whose Caps hold exactly
// the abilities enabled in Options (nil for the others). The value itself
// implements none of the optional interfaces, so they are found only through
// platforms.ResolveCaps, as the bridge finds them. Every call returns an
// equivalent value backed by p.
func (p *Platform) As() platforms.Platform {
	f := fake{p}
	var c platforms.Caps
	if !p.opts.NoEdit {
		c.Editor = f
	}
	if !p.opts.NoStream {
		c.Streamer = f
		c.PersonaStreamer = f
	}
	if !p.opts.NoTyping {
		c.Typer = f
	}
	if !p.opts.NoEphemeral {
		c.Ephemeraler = f
	}
	if !p.opts.NoDelete {
		c.Deleter = f
	}
	if p.opts.Budgets != nil {
		c.Budgeter = f
	}
	if !p.opts.NoThreads {
		c.ThreadOpener = f
	}
	if p.opts.AgentSessions {
		c.AgentSessions = f
	}
	return view{Platform: f, caps: c}
}

// view is what As returns: the fake seen only as a platforms.Platform, with
// its abilities as data.
type view struct {
	platforms.Platform
	caps platforms.Caps
}

// Caps implements platforms.CapsReporter.
func (v view) Caps() platforms.Caps { return v.caps }

func (v view) String() string { return "platformtest:" + v.Name() }

// fake is the one type implementing every method of the contract over the
// controller; As decides which of its abilities the bridge may see.
type fake struct{ p *Platform }

func (f fake) Name() string                                       { return f.p.opts.Name }
func (f fake) Limits() platforms.Limits                           { return f.p.opts.Limits }
func (f fake) Ready() bool                                        { return f.p.ready() }
func (f fake) Run(ctx context.Context, h platforms.Handler) error { return f.p.run(ctx, h) }
func (f fake) Send(ctx context.Context, to platforms.Target, m platforms.Message) (platforms.MessageRef, error) {
	return f.p.send(ctx, to, m)
}

func (f fake) Edit(ctx context.Context, ref platforms.MessageRef, m platforms.Message) (platforms.MessageRef, error) {
	return f.p.edit(ctx, ref, m)
}

func (f fake) CanStream(to platforms.Target) bool { return f.p.canStream(to) }
func (f fake) StartStream(ctx context.Context, to platforms.Target, text string) (platforms.MessageRef, error) {
	return f.p.startStream(ctx, to, text)
}

func (f fake) StartStreamAs(ctx context.Context, to platforms.Target, text string, as *platforms.Persona) (platforms.MessageRef, error) {
	return f.p.startStreamAs(ctx, to, text, as)
}

func (f fake) AppendStream(ctx context.Context, ref platforms.MessageRef, delta string) error {
	return f.p.appendStream(ctx, ref, delta)
}

func (f fake) StopStream(ctx context.Context, ref platforms.MessageRef) error {
	return f.p.stopStream(ctx, ref)
}

func (f fake) Typing(ctx context.Context, to platforms.Target) error { return f.p.typing(ctx, to) }

func (f fake) SendEphemeral(ctx context.Context, to platforms.Target, m platforms.Message) error {
	return f.p.sendEphemeral(ctx, to, m)
}

func (f fake) Delete(ctx context.Context, ref platforms.MessageRef) error {
	return f.p.delete(ctx, ref)
}

func (f fake) OpenThread(ctx context.Context, to platforms.Target, name string) (platforms.ThreadID, error) {
	return f.p.openThread(ctx, to, name)
}

func (f fake) SetSessionStatus(ctx context.Context, to platforms.Target, status platforms.SessionStatus) error {
	_, err := f.p.do(ctx, Call{Kind: CallSessionStatus, Target: to, Status: status}, func(*Call) error { return nil })
	return err
}

func (f fake) SetSessionTitle(ctx context.Context, to platforms.Target, title string) error {
	_, err := f.p.do(ctx, Call{Kind: CallSessionTitle, Target: to, Text: title}, func(*Call) error { return nil })
	return err
}

func (f fake) UpdateBudgets(ref platforms.MessageRef) []platforms.Budget {
	return f.p.opts.Budgets(ref)
}

// SendBudgets are the budgets of a message in to's channel (thread when
// set): Options.Budgets of a ref with no ID.
func (f fake) SendBudgets(to platforms.Target) []platforms.Budget {
	ch := to.Channel
	if to.Thread != "" {
		ch = platforms.ChannelID(to.Thread)
	}
	return f.p.opts.Budgets(platforms.MessageRef{Channel: ch})
}

// TypingBudgets are Options.TypingBudgets(to) (none when unset).
func (f fake) TypingBudgets(to platforms.Target) []platforms.Budget {
	if f.p.opts.TypingBudgets == nil {
		return nil
	}
	return f.p.opts.TypingBudgets(to)
}

var (
	_ platforms.TypingBudgeter = fake{}
	_ platforms.CapsReporter   = view{}
	_ platforms.Platform       = fake{}
	_ platforms.Editor         = fake{}
	_ platforms.Streamer       = fake{}
	_ platforms.Typer          = fake{}
	_ platforms.Ephemeraler    = fake{}
	_ platforms.Deleter        = fake{}
	_ platforms.Budgeter       = fake{}
	_ platforms.ThreadOpener   = fake{}
)
