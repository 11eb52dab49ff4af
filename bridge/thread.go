package bridge

import (
	"context"
	"log/slog"
	"time"
)

// openThreadTimeout bounds opening the thread a message asks for.
const openThreadTimeout = 10 * time.Second

// openThread opens the thread its target asks for (Target.WantsThread)
// and moves the answer there. It is called once the message is admitted
// (not a duplicate, within the user's rate limit) and its user is linked,
// so that no other message leaves a thread behind. It reports whether the
// target moved; when the platform cannot open the thread, the answer stays
// in the channel.
func (b *Bridge) openThread(ctx context.Context, it *workItem, log *slog.Logger) bool {
	if !it.target.WantsThread {
		return false
	}
	it.target.WantsThread = false
	op := b.capsOf(it.p).ThreadOpener
	if op == nil {
		return false
	}
	ctx, cancel := context.WithTimeout(ctx, openThreadTimeout)
	defer cancel()
	th, err := op.OpenThread(ctx, it.target, it.text)
	if err != nil || th == "" {
		log.Warn("open thread failed; answering in the channel", "error", err)
		return false
	}
	it.target.Thread = th
	return true
}
