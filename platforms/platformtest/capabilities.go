package platformtest

import (
	"context"

	"github.com/secondme-bridge/secondme-bridge/platforms"
)

//go:generate go run gen_caps.go

// Capability bits; caps_gen.go has one type per combination.
const (
	capEdit = 1 << iota
	capStream
	capTyping
	capEphemeral
	capDelete
	capBudget
)

// As returns the platform the bridge should be given: a
// platforms.Platform that implements exactly the capabilities enabled in
// Options. Every call returns an equivalent value backed by p.
func (p *Platform) As() platforms.Platform {
	mask := 0
	for _, c := range []struct {
		bit int
		on  bool
	}{
		{capEdit, !p.opts.NoEdit},
		{capStream, !p.opts.NoStream},
		{capTyping, !p.opts.NoTyping},
		{capEphemeral, !p.opts.NoEphemeral},
		{capDelete, !p.opts.NoDelete},
		{capBudget, p.opts.Budgets != nil},
	} {
		if c.on {
			mask |= c.bit
		}
	}
	return withCaps(p, mask)
}

// core implements platforms.Platform.
type core struct{ p *Platform }

func (c core) Name() string                                       { return c.p.opts.Name }
func (c core) Limits() platforms.Limits                           { return c.p.opts.Limits }
func (c core) Ready() bool                                        { return c.p.ready() }
func (c core) String() string                                     { return "platformtest:" + c.p.opts.Name }
func (c core) Run(ctx context.Context, h platforms.Handler) error { return c.p.run(ctx, h) }
func (c core) Send(ctx context.Context, to platforms.Target, m platforms.Message) (platforms.MessageRef, error) {
	return c.p.send(ctx, to, m)
}

// editCap implements platforms.Editor.
type editCap struct{ p *Platform }

func (c editCap) Edit(ctx context.Context, ref platforms.MessageRef, m platforms.Message) (platforms.MessageRef, error) {
	return c.p.edit(ctx, ref, m)
}

// streamCap implements platforms.Streamer.
type streamCap struct{ p *Platform }

func (c streamCap) CanStream(to platforms.Target) bool { return c.p.canStream(to) }
func (c streamCap) StartStream(ctx context.Context, to platforms.Target, text string) (platforms.MessageRef, error) {
	return c.p.startStream(ctx, to, text)
}

func (c streamCap) AppendStream(ctx context.Context, ref platforms.MessageRef, delta string) error {
	return c.p.appendStream(ctx, ref, delta)
}

func (c streamCap) StopStream(ctx context.Context, ref platforms.MessageRef) error {
	return c.p.stopStream(ctx, ref)
}

// typingCap implements platforms.Typer.
type typingCap struct{ p *Platform }

func (c typingCap) Typing(ctx context.Context, to platforms.Target) error { return c.p.typing(ctx, to) }

// ephemeralCap implements platforms.Ephemeraler.
type ephemeralCap struct{ p *Platform }

func (c ephemeralCap) SendEphemeral(ctx context.Context, to platforms.Target, m platforms.Message) error {
	return c.p.sendEphemeral(ctx, to, m)
}

// deleteCap implements platforms.Deleter.
type deleteCap struct{ p *Platform }

func (c deleteCap) Delete(ctx context.Context, ref platforms.MessageRef) error {
	return c.p.delete(ctx, ref)
}

// budgetCap implements platforms.Budgeter.
type budgetCap struct{ p *Platform }

func (c budgetCap) UpdateBudgets(ref platforms.MessageRef) []platforms.Budget {
	return c.p.opts.Budgets(ref)
}

// SendBudgets are the budgets of a message in to's channel (thread when
// set): Options.Budgets of a ref with no ID.
func (c budgetCap) SendBudgets(to platforms.Target) []platforms.Budget {
	ch := to.Channel
	if to.Thread != "" {
		ch = to.Thread
	}
	return c.p.opts.Budgets(platforms.MessageRef{Channel: ch})
}

var (
	_ platforms.Platform    = core{}
	_ platforms.Editor      = editCap{}
	_ platforms.Streamer    = streamCap{}
	_ platforms.Typer       = typingCap{}
	_ platforms.Ephemeraler = ephemeralCap{}
	_ platforms.Deleter     = deleteCap{}
	_ platforms.Budgeter    = budgetCap{}
)
