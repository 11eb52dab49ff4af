package render

import (
	"context"

	"github.com/secondme-bridge/secondme-bridge/bridge/budget"
	"github.com/secondme-bridge/secondme-bridge/bridge/internal/typist"
	"github.com/secondme-bridge/secondme-bridge/platforms"
)

// startTyping keeps the platform's typing indicator in `to` alive until
// the reply's first text is shown (Handle.Stop): at once, then every
// interval (once when it is 0), also while the first text waits for its
// budget. The process's typist (Env.Typist) runs it: every call takes its
// tokens first (the platform's typing budgets, at budget.ClassTyping,
// below final parts and first texts), waiting for them as long as it
// takes. It returns nil (a no-op handle) when the platform has no
// indicator.
func startTyping(env *Env, p platforms.Platform, caps platforms.Caps, to platforms.Target) *typist.Handle {
	tp := caps.Typer
	if tp == nil {
		return nil
	}
	budgets := budget.TypingBudgets(caps.Budgeter, to)
	return env.Typist.Start(env.Work, typist.Renewal{
		Lane:     p.Name(),
		Take:     func(ctx context.Context) error { return env.Pacer.Take(ctx, budget.ClassTyping, budgets) },
		Type:     func(ctx context.Context) error { return tp.Typing(ctx, to) },
		Interval: p.Limits().TypingInterval,
	})
}
