package bridge

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"strings"
	"sync"
	"time"

	"github.com/secondme-bridge/secondme-bridge/bridge/text"
	"github.com/secondme-bridge/secondme-bridge/platforms"
	"github.com/secondme-bridge/secondme-bridge/store"
)

// Stopping a streaming reply. While a reply streams, its message carries
// a Stop button whose id (stopIDFor) names the reply and binds it to the
// person it answers, so that any replica can tell the owner's click from
// anyone else's without a store read. A click by the owner cancels the
// reply's upstream stream: directly when the reply streams in this
// process (stopRegistry), otherwise through the store (Cancels.Request),
// which announces it to every replica; each process watches the
// announcements (watchStops) with one subscription, so that stopping costs
// no store round trip while nobody stops anything. A native stop (Slack's
// agent view) names a conversation, not a reply: it is matched by the
// conversation's stop id (convStopID).

// errStopped is the cause of a reply's stream context when its owner
// stopped it.
var errStopped = errors.New("stopped by the person who asked")

// stopTagLen is the length of the owner tag of a stop id, in hex digits.
const stopTagLen = 16

// convStopTTL is how long a native stop's request is kept: it is matched
// when announced (a watch that restarts does not look for it).
const convStopTTL = time.Minute

// stopIDFor returns the Stop button id of the reply replyID answering
// user: replyID, '.', then a tag hashing the reply id with the user. The
// id carries no secret (the reply id is random, the tag is a public
// hash): an id forged for another user never names a running reply, and
// a click passes ownsStop only for the user the tag names. "" when the
// result would not be a valid StopControl.ReplyID.
func stopIDFor(replyID string, user store.UserKey) string {
	if strings.Contains(replyID, ".") {
		return "" // the tag could not be told from the id
	}
	id := replyID + "." + stopTag(replyID, user)
	if !platforms.ValidStopReplyID(id) {
		return ""
	}
	return id
}

func stopTag(replyID string, user store.UserKey) string {
	sum := sha256.Sum256([]byte("stop\x00" + replyID + "\x00" + userString(user)))
	return hex.EncodeToString(sum[:])[:stopTagLen]
}

// ownsStop reports whether the stop id was made for user (stopIDFor).
func ownsStop(id string, user store.UserKey) bool {
	replyID, tag, ok := strings.Cut(id, ".")
	return ok && platforms.ValidStopReplyID(id) && tag == stopTag(replyID, user)
}

// convStopID is the stop id of the reply running in conversation k (a
// native stop): "c." and a hash of the key.
func convStopID(k store.ConversationKey) string {
	sum := sha256.Sum256([]byte("conv\x00" + keyString(k)))
	return "c." + hex.EncodeToString(sum[:16])
}

// runningReply is a reply streaming in this process, as stops find it.
type runningReply struct {
	stopID string // its Stop button's id
	convID string // its conversation's stop id
	cancel context.CancelCauseFunc
}

// stopRegistry is the replies streaming in this process, by stop id and
// by conversation stop id.
type stopRegistry struct {
	mu     sync.Mutex
	byStop map[string]*runningReply
	byConv map[string]*runningReply
}

// add registers r until the returned function is called.
func (s *stopRegistry) add(r *runningReply) (remove func()) {
	s.mu.Lock()
	if s.byStop == nil {
		s.byStop, s.byConv = map[string]*runningReply{}, map[string]*runningReply{}
	}
	if r.stopID != "" {
		s.byStop[r.stopID] = r
	}
	s.byConv[r.convID] = r
	s.mu.Unlock()
	return func() {
		s.mu.Lock()
		if s.byStop[r.stopID] == r {
			delete(s.byStop, r.stopID)
		}
		if s.byConv[r.convID] == r {
			delete(s.byConv, r.convID)
		}
		s.mu.Unlock()
	}
}

// stop cancels the running reply named by id (a stop id, or a
// conversation stop id with or without its unique suffix) and reports
// whether one runs here.
func (s *stopRegistry) stop(id string) bool {
	s.mu.Lock()
	r := s.byStop[id]
	if r == nil && strings.HasPrefix(id, "c.") {
		r = s.byConv[id[:min(len(id), len("c.")+32)]]
	}
	s.mu.Unlock()
	if r == nil {
		return false
	}
	r.cancel(errStopped)
	return true
}

// ids returns the stop ids of the replies running now.
func (s *stopRegistry) ids() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]string, 0, len(s.byStop))
	for id := range s.byStop {
		out = append(out, id)
	}
	return out
}

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
	if b.stops.stop(id) {
		b.log.Info("reply stopped by its owner", "platform", ev.Platform)
		return
	}
	b.requestStop(ctx, ev.Platform, id, b.cfg.StreamTimeout)
}

// stopConversation answers a native stop: the reply streaming in the
// event's conversation for its user stops, here or on another replica,
// and the agent session is marked active at once (the streaming replica
// marks it again when the reply ends).
func (b *Bridge) stopConversation(ctx context.Context, p platforms.Platform, ev platforms.Event) {
	conv := convStopID(conversationKey(ev))
	if !b.stops.stop(conv) {
		suffix, err := randomHex(6)
		if err != nil {
			b.log.Warn("native stop", "platform", ev.Platform, "error", err)
			return
		}
		b.requestStop(ctx, ev.Platform, conv+"."+suffix, convStopTTL)
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

// requestStop asks every replica, through the store, to stop the reply
// named by id.
func (b *Bridge) requestStop(ctx context.Context, platform, id string, ttl time.Duration) {
	first, err := b.st.Cancels().Request(ctx, id, ttl)
	switch {
	case err != nil:
		b.log.Warn("request a stop through the store", "platform", platform, "error", err)
	case first:
		b.log.Info("stop requested for a reply on another replica (or one that ended)", "platform", platform)
	}
}

// watchStops stops the replies of this process that other replicas were
// asked to stop, until ctx is done: one watch of the store (restarted
// when it ends), and, whenever it (re)starts, one check of each reply
// running here (Requested), for the requests it may have missed.
func (b *Bridge) watchStops(ctx context.Context) {
	backoff := b.tim.retryDelay
	for ctx.Err() == nil {
		ch, err := b.st.Cancels().Watch(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			b.log.Warn("watch stop requests; retrying", "error", err, "in", backoff)
			select {
			case <-time.After(backoff):
			case <-ctx.Done():
				return
			}
			backoff = min(2*backoff, 30*time.Second)
			continue
		}
		backoff = b.tim.retryDelay
		for id := range ch {
			if id == "" {
				b.catchUpStops(ctx)
				continue
			}
			if b.stops.stop(id) {
				b.log.Info("reply stopped from another replica")
			}
		}
	}
}

// catchUpStops stops the running replies whose stop was requested while
// the watch was down.
func (b *Bridge) catchUpStops(ctx context.Context) {
	for _, id := range b.stops.ids() {
		on, err := b.st.Cancels().Requested(ctx, id)
		if err != nil {
			b.log.Warn("check a stop request", "error", err)
			continue
		}
		if on {
			b.stops.stop(id)
		}
	}
}
