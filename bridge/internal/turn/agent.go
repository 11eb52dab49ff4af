package turn

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

// Agent is a turn's agent session.
type Agent struct {
	a    platforms.AgentSessions
	to   platforms.Target
	log  *slog.Logger
	done chan struct{} // closed when Begin's calls are over
}

// BeginAgent marks the session at `to` processing and, when title is not
// "" (the turn's message started the session), titles it, in the
// background under work so that the reply does not wait for them. It
// returns nil when a is nil (the turn is not in an agent session); End
// is safe on nil.
func BeginAgent(work context.Context, a platforms.AgentSessions, to platforms.Target, title string, log *slog.Logger) *Agent {
	if a == nil {
		return nil
	}
	s := &Agent{a: a, to: to, log: log, done: make(chan struct{})}
	go func() {
		defer close(s.done)
		ctx, cancel := context.WithTimeout(work, agentCallTimeout)
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
	return s
}

// End marks the session active once the reply has ended (stopped or
// not), after BeginAgent's calls.
func (s *Agent) End(ctx context.Context) {
	if s == nil {
		return
	}
	<-s.done
	ctx, cancel := render.CtxOr(ctx, agentCallTimeout)
	defer cancel()
	if err := s.a.SetSessionStatus(ctx, s.to, platforms.SessionActive); err != nil {
		s.log.Info("set agent session active", "error", err)
	}
}
