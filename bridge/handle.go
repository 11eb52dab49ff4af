package bridge

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/secondme-bridge/secondme-bridge/bridge/format"
	"github.com/secondme-bridge/secondme-bridge/bridge/inputs"
	"github.com/secondme-bridge/secondme-bridge/bridge/internal/keys"
	"github.com/secondme-bridge/secondme-bridge/bridge/text"
	"github.com/secondme-bridge/secondme-bridge/platforms"
	"github.com/secondme-bridge/secondme-bridge/store"
)

// dedupeTTL is how long an event id stays claimed: longer than Slack's
// last retry (about 5 minutes after the first delivery).
const dedupeTTL = 15 * time.Minute

var _ platforms.Handler = (*Bridge)(nil)

// HandleEvent implements platforms.Handler. It returns after one store
// round trip (Turns.Admit) for a message: the reply is produced by the
// conversation's worker.
//
// Order: a message that is not addressed to the bot is dropped unless it is
// in a thread where the user already has a conversation (checked before the
// dedupe claim, so that the unaddressed copy of a doubly delivered message
// cannot claim the ids of the addressed one); then the input checks; then
// every dedupe id is claimed (a duplicate is dropped) and, for a message to
// the avatar or a command that calls SecondMe, one token of the per-user
// rate limit is taken in the same round trip; then the message is queued
// behind the conversation's earlier ones. Other commands and rejected input
// are only claimed, so they cost no rate token. Waiting for the
// conversation's lease happens in the worker, so work is never dropped
// because a lock is held. A stop (EventStop) is claimed and acted on at
// once (handleStop), never queued behind the reply it stops.
func (b *Bridge) HandleEvent(ctx context.Context, ev platforms.Event) {
	p := b.platform(ev.Platform)
	if p == nil {
		b.log.Warn("event from an unknown platform", "platform", ev.Platform)
		return
	}
	if ev.User.ID == "" || (ev.Channel == "" && ev.Interaction == "") {
		b.log.Warn("event without user or channel", "platform", ev.Platform)
		return
	}
	switch ev.Kind {
	case platforms.EventStop:
		// Before anything that could queue it: the reply it stops is what
		// the conversation's queue waits for.
		b.handleStop(ctx, p, ev)
		return
	case platforms.EventMessage, platforms.EventCommand:
	default:
		b.log.Warn("event of an unknown kind", "platform", ev.Platform, "kind", int(ev.Kind))
		return
	}
	if ev.Kind == platforms.EventCommand && ev.Command == nil {
		b.log.Warn("command event without a command", "platform", ev.Platform)
		return
	}
	if ev.Kind == platforms.EventMessage && !ev.Addressed &&
		(ev.Thread == "" || !b.conversationExists(ctx, conversationKey(ev))) {
		return
	}
	if ev.Kind == platforms.EventCommand {
		b.handleCommand(ctx, p, ev)
		return
	}
	b.handleMessage(ctx, p, ev, targetOf(ev), ev.Text)
}

// conversationExists reports whether the user has a conversation at the
// event's place: one running here, or one in the store.
func (b *Bridge) conversationExists(ctx context.Context, k store.ConversationKey) bool {
	if b.hasQueue(k) {
		return true
	}
	_, err := b.st.Conversations().GetConversation(ctx, k)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		b.log.Warn("look up conversation", "platform", k.Platform, "error", err)
	}
	return err == nil
}

// dedupeIDs are the store keys of ev's dedupe ids.
func dedupeIDs(ev platforms.Event) []string {
	ids := make([]string, len(ev.DedupeIDs))
	for i, id := range ev.DedupeIDs {
		ids[i] = "evt:" + ev.Platform + ":" + id
	}
	return ids
}

// claim claims every dedupe id of ev and reports whether all were new. A
// store failure lets the event through: a duplicate reply is better than a
// lost message.
func (b *Bridge) claim(ctx context.Context, ev platforms.Event) bool {
	fresh := true
	for _, id := range dedupeIDs(ev) {
		ok, err := b.st.Dedupe().Claim(ctx, id, dedupeTTL)
		if err != nil {
			b.log.Warn("claim event", "platform", ev.Platform, "error", err)
			continue
		}
		if !ok {
			fresh = false
		}
	}
	return fresh
}

// admit claims every dedupe id of ev and, if all were new, takes a token
// of the user's rate limit (shared by replicas through the store), in one
// round trip. It reports whether to go on: false for a duplicate (dropped
// silently) and over the limit, where the user is told to slow down once
// per window and later messages in the window are dropped silently. A
// store failure lets the event through.
func (b *Bridge) admit(ctx context.Context, p platforms.Platform, ev platforms.Event, to platforms.Target) bool {
	n := b.tunables().UserRateLimit
	us := keys.User(userKey(ev))
	limit := store.Limit{Rate: float64(n) / 60, Burst: n}
	var allowed bool
	var wait time.Duration
	if ids := dedupeIDs(ev); len(ids) > 0 {
		adm, err := b.st.Turns().Admit(ctx, ids, dedupeTTL, "user:"+us, limit)
		if err != nil {
			b.log.Warn("admit event", "platform", ev.Platform, "error", err)
			return true
		}
		if !adm.Claimed {
			return false
		}
		allowed, wait = adm.Allowed, adm.Wait
	} else {
		ok, w, err := b.st.Budgets().Take(ctx, "user:"+us, limit, 1)
		if err != nil {
			b.log.Warn("take user rate budget", "platform", ev.Platform, "error", err)
			return true
		}
		allowed, wait = ok, w
	}
	if allowed {
		return true
	}
	b.rateLimited(p, ev, to, us, wait)
	return false
}

// rateLimited counts a message over the user's rate limit and tells the
// user to slow down, once per window.
func (b *Bridge) rateLimited(p platforms.Platform, ev platforms.Event, to platforms.Target, us string, wait time.Duration) {
	b.met.Errors.WithLabelValues("user_rate_limited").Inc()
	now := b.now()
	if until, warned := b.warned.Load(us); warned && now.Before(until.(time.Time)) {
		return
	}
	b.warned.Store(us, now.Add(max(wait, time.Minute)))
	b.notice(p, to, text.T(text.Of(ev.User.Locale, p), text.MsgSlowDown))
}

// handleMessage checks a message for the avatar, admits it and queues it.
// question is the event's text, or a command's argument.
func (b *Bridge) handleMessage(ctx context.Context, p platforms.Platform, ev platforms.Event, to platforms.Target, question string) {
	l := text.Of(ev.User.Locale, p)
	question = strings.TrimSpace(question)
	prompt := inputs.Compose(question, ev.Inputs, b.tunables().MaxInputChars)
	notRead := inputs.NotReadNotice(l, ev.Inputs)
	switch {
	case prompt == "":
		if b.claim(ctx, ev) {
			inputs.Count(b.met, ev.Inputs)
			if notRead != "" {
				// Only files the avatar cannot read: say which and why.
				b.privateNotice(p, to, notRead)
				return
			}
			b.notice(p, to, text.T(l, text.MsgEmptyMessage))
		}
		return
	case format.RuneLen(question) > b.tunables().MaxInputChars:
		if b.claim(ctx, ev) {
			b.met.Errors.WithLabelValues("input_too_long").Inc()
			b.notice(p, to, text.T(l, text.MsgTooLong, format.RuneLen(question), b.tunables().MaxInputChars))
		}
		return
	}
	it := &workItem{
		kind:     itemChat,
		p:        p,
		ev:       ev,
		key:      conversationKey(ev),
		target:   to,
		text:     prompt,
		lang:     l,
		received: b.now(),
	}
	if !b.enter(ctx, p, ev, it) {
		return
	}
	inputs.Count(b.met, ev.Inputs)
	if notRead != "" {
		b.privateNotice(p, to, notRead) // the text and the files read are still answered
	}
	b.submit(it)
}

// submit queues it, answering an overflow. A message in the inbox that
// arrives once shutdown has begun stays there for the next process; one
// that is not gets the restart notice.
func (b *Bridge) submit(it *workItem) {
	switch err := b.enqueue(it); {
	case errors.Is(err, errQueueFull):
		b.removeEntry(it)
		b.met.Errors.WithLabelValues("queue_full").Inc()
		b.notice(it.p, it.target, text.T(it.lang, text.MsgQueueFull))
	case errors.Is(err, errShuttingDown):
		if !it.durable {
			b.tellRestart(it) // bounded; not on a goroutine the exit would cut off
		}
		b.log.Info("message not queued", "platform", it.key.Platform, "error", err, "kept_for_next_process", it.durable)
	case err != nil:
		b.log.Info("message not queued", "platform", it.key.Platform, "error", err)
	}
}

// privateNotice shows text to the user only where the platform can (an
// ephemeral message, a DM), publicly otherwise, in the background.
func (b *Bridge) privateNotice(p platforms.Platform, to platforms.Target, text string) {
	b.goTask(func(ctx context.Context) {
		ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		defer cancel()
		b.out.TellPrivate(ctx, p, to, text)
	})
}

// notice posts text to the target in the background.
func (b *Bridge) notice(p platforms.Platform, to platforms.Target, text string) {
	b.goTask(func(ctx context.Context) {
		ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		defer cancel()
		b.out.Reply(ctx, p, to, text)
	})
}
