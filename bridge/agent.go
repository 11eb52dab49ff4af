package bridge

import (
	"context"
	"log/slog"
	"time"

	"github.com/secondme-bridge/secondme-bridge/bridge/render"
	"github.com/secondme-bridge/secondme-bridge/platforms"
)

// The agent session surface (Slack's agent view and Messages tab,
// platforms.AgentSessions): a DM thread is a session, shown as processing
// while the avatar answers (Slack then offers its native stop) and active
// otherwise, titled from the message that started it. All of it is a
// nicety: failures are logged and change nothing else, and a workspace
// without the surface is handled by the adapter (it does nothing).

// agentCallTimeout bounds one session call.
const agentCallTimeout = 10 * time.Second

// agentSessions returns the platform's agent sessions when the item's
// answer is in an agent session (a DM thread), else nil.
func (b *Bridge) agentSessions(it *workItem) platforms.AgentSessions {
	a := b.capsOf(it.p).AgentSessions
	if a == nil || !it.target.DM || it.target.Thread == "" {
		return nil
	}
	return a
}

// agentBegin marks the item's session processing and, when the item's
// message started the session (it is the thread's first message), titles
// it with that message, in the background so that the reply does not wait
// for them. agentEnd waits on the returned channel; nil when the item is
// not in an agent session.
func (b *Bridge) agentBegin(it *workItem, log *slog.Logger) chan struct{} {
	a := b.agentSessions(it)
	if a == nil {
		return nil
	}
	done := make(chan struct{})
	to, title := it.target, ""
	if it.ev.MessageID != "" && string(it.ev.MessageID) == string(it.target.Thread) {
		title = it.text
	}
	go func() {
		defer close(done)
		ctx, cancel := context.WithTimeout(b.work, agentCallTimeout)
		defer cancel()
		if err := a.SetSessionStatus(ctx, to, platforms.SessionProcessing); err != nil {
			log.Info("set agent session processing", "error", err)
		}
		if title == "" {
			return
		}
		if err := a.SetSessionTitle(ctx, to, title); err != nil {
			log.Info("title agent session", "error", err)
		}
	}()
	return done
}

// agentEnd marks the item's session active once its reply has ended
// (stopped or not), after agentBegin's calls.
func (b *Bridge) agentEnd(ctx context.Context, it *workItem, begun chan struct{}, log *slog.Logger) {
	if begun == nil {
		return
	}
	<-begun
	ctx, cancel := render.CtxOr(ctx, agentCallTimeout)
	defer cancel()
	if err := b.agentSessions(it).SetSessionStatus(ctx, it.target, platforms.SessionActive); err != nil {
		log.Info("set agent session active", "error", err)
	}
}
