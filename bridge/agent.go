package bridge

import (
	"cmp"
	"log/slog"
	"strings"

	"github.com/secondme-bridge/secondme-bridge/bridge/internal/turn"
)

// beginAgent starts the item's agent session (turn.BeginAgent) when its
// answer is in one (a DM thread on a platform with agent sessions),
// titled with the user's own text when the item's message started the
// session (it is the thread's first message).
func (b *Bridge) beginAgent(it *workItem, log *slog.Logger) *turn.Agent {
	a := b.capsOf(it.p).AgentSessions
	if a == nil || !it.target.DM || it.target.Thread == "" {
		return nil
	}
	title := ""
	if it.ev.MessageID != "" && string(it.ev.MessageID) == string(it.target.Thread) {
		// The user's own words, not the labelled prompt of their files.
		title = cmp.Or(strings.TrimSpace(it.ev.Text), it.text)
	}
	return turn.BeginAgent(b.work, a, it.target, title, log)
}
