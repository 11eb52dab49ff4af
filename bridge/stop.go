package bridge

import (
	"context"
	"time"

	"github.com/secondme-bridge/secondme-bridge/bridge/internal/keys"
	"github.com/secondme-bridge/secondme-bridge/bridge/internal/stops"
	"github.com/secondme-bridge/secondme-bridge/bridge/text"
	"github.com/secondme-bridge/secondme-bridge/platforms"
	"github.com/secondme-bridge/secondme-bridge/store"
)

// Stopping a streaming reply (bridge/internal/stops has the ids, the
// registry of the replies streaming here and the watch that reaches
// another replica's). A native stop (Slack's agent view) names a
// conversation, not a reply: it is matched by the conversation's stop id.

// convStopTTL is how long a native stop's request is kept: it is matched
// when announced (a watch that restarts does not look for it).
const convStopTTL = time.Minute

// stopIDFor is the Stop button id of the reply replyID answering user.
func stopIDFor(replyID string, user store.UserKey) string {
	return stops.ID(replyID, keys.User(user))
}

// ownsStop reports whether the stop id was made for user.
func ownsStop(id string, user store.UserKey) bool { return stops.Owns(id, keys.User(user)) }

// convStopID is the stop id of the reply running in conversation k.
func convStopID(k store.ConversationKey) string { return stops.ConvID(keys.Conv(k)) }

// handleStop answers an EventStop: claimed once (a double click, a
// retried delivery), then the reply is stopped if the clicker owns it,
// and the clicker is told privately otherwise. It is never queued behind
// the conversation: the reply it stops is what the queue waits for. A
// stop of a reply that has ended is harmless: nothing is running under
// its id, and nothing is said.
func (b *Bridge) handleStop(ctx context.Context, p platforms.Platform, ev platforms.Event) {
	if ev.Stop == nil {
		b.log.Warn("stop event without a stop", "platform", ev.Platform)
		return
	}
	if !b.claim(ctx, ev) {
		return
	}
	if ev.Stop.ReplyID == "" {
		b.stopConversation(ctx, p, ev)
		return
	}
	id := ev.Stop.ReplyID
	if !ownsStop(id, userKey(ev)) {
		b.log.Info("stop refused: not the person who asked", "platform", ev.Platform)
		to, l := targetOf(ev), text.Of(ev.User.Locale, p)
		b.goTask(func(ctx context.Context) {
			ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
			defer cancel()
			err := b.out.SendPrivate(ctx, p, to, platforms.Message{Text: text.T(l, text.MsgStopNotYours)})
			if err != nil {
				b.log.Info("tell a user the reply is not theirs to stop", "platform", ev.Platform, "error", err)
			}
		})
		return
	}
	if b.stops.Stop(id) {
		b.log.Info("reply stopped by its owner", "platform", ev.Platform)
		return
	}
	b.stopDeps().Request(ctx, ev.Platform, id, b.cfg.StreamTimeout)
}

// stopConversation answers a native stop: the reply streaming in the
// event's conversation for its user stops, here or on another replica,
// and the agent session is marked active at once (the streaming replica
// marks it again when the reply ends).
func (b *Bridge) stopConversation(ctx context.Context, p platforms.Platform, ev platforms.Event) {
	conv := convStopID(conversationKey(ev))
	if !b.stops.Stop(conv) {
		suffix, err := randomHex(6)
		if err != nil {
			b.log.Warn("native stop", "platform", ev.Platform, "error", err)
			return
		}
		b.stopDeps().Request(ctx, ev.Platform, conv+"."+suffix, convStopTTL)
	}
	if a := b.capsOf(p).AgentSessions; a != nil {
		to := targetOf(ev)
		b.goTask(func(ctx context.Context) {
			ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
			defer cancel()
			if err := a.SetSessionStatus(ctx, to, platforms.SessionActive); err != nil {
				b.log.Info("set agent session active after a stop", "platform", ev.Platform, "error", err)
			}
		})
	}
}

// stopDeps is what the watch of stop requests, and a request, need.
func (b *Bridge) stopDeps() stops.WatchDeps {
	return stops.WatchDeps{Cancels: b.st.Cancels(), Registry: &b.stops, Log: b.log, RetryDelay: b.tim.retryDelay}
}
