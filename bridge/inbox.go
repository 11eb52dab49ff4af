package bridge

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/secondme-bridge/secondme-bridge/bridge/internal/keys"
	"github.com/secondme-bridge/secondme-bridge/bridge/internal/lease"
	"github.com/secondme-bridge/secondme-bridge/bridge/text"
	"github.com/secondme-bridge/secondme-bridge/platforms"
	"github.com/secondme-bridge/secondme-bridge/store"
)

// The durable inbox: every admitted chat message is written to its
// conversation's inbox in the store (Turns.Enter) in the same atomic step
// as its dedupe claim and rate token, under an id that its turn then uses
// as its in-flight reply id, so that Turns.Finish removes both when the
// turn ends. The in-memory queue only orders the work of this process; if
// the process dies, a live one adopts the entries (sweepInbox) and answers
// them in order. An entry is bounded per conversation by QueueSize+1 (the
// message being answered and those waiting behind it).

// inboxItem is a workItem at rest (store.InboxEntry.Item, sealed by the
// store): what answering the message needs.
type inboxItem struct {
	Platform string                `json:"platform"`
	Target   platforms.Target      `json:"target"`
	Text     string                `json:"text"`
	Locale   string                `json:"locale,omitempty"`
	User     platforms.User        `json:"user"`
	Key      store.ConversationKey `json:"key"`
	Received time.Time             `json:"received"`
}

// entryOf returns the inbox entry of it, owned by this process.
func (b *Bridge) entryOf(it *workItem) (store.InboxEntry, error) {
	item, err := json.Marshal(inboxItem{
		Platform: it.p.Name(), Target: it.target, Text: it.text, Locale: it.ev.User.Locale,
		User: it.ev.User, Key: it.key, Received: it.received,
	})
	if err != nil {
		return store.InboxEntry{}, fmt.Errorf("encode inbox item: %w", err)
	}
	return store.InboxEntry{ID: it.entryID, Owner: b.owner, Conversation: it.key, Item: item, AdmittedAt: it.received}, nil
}

// itemOf rebuilds the work item of an adopted entry; nil when its platform
// is not registered here.
func (b *Bridge) itemOf(e store.InboxEntry) (*workItem, error) {
	if e.Unreadable {
		return nil, fmt.Errorf("inbox item %s cannot be opened (store.encryption_key changed?)", e.ID)
	}
	var in inboxItem
	if err := json.Unmarshal(e.Item, &in); err != nil {
		return nil, fmt.Errorf("decode inbox item %s: %w", e.ID, err)
	}
	p := b.platform(in.Platform)
	if p == nil {
		return nil, fmt.Errorf("inbox item %s: unknown platform %q", e.ID, in.Platform)
	}
	ev := platforms.Event{
		Kind: platforms.EventMessage, Platform: in.Platform, User: in.User,
		Workspace: in.Target.Workspace, Channel: in.Target.Channel, Thread: in.Target.Thread, DM: in.Target.DM,
		MessageID: in.Target.ReplyTo, Interaction: in.Target.Interaction, Text: in.Text,
	}
	return &workItem{
		kind: itemChat, p: p, ev: ev, key: e.Conversation, target: in.Target, text: in.Text,
		lang: text.Of(in.Locale, p), received: in.Received, entryID: e.ID, durable: true, adopted: true,
	}, nil
}

// enter admits it (as admit) and writes it to its conversation's inbox in
// the same round trip. It reports whether to go on: false for a
// duplicate, over the rate limit (as admit) and over the inbox's bound
// (the user is told the conversation is still answering). A store failure
// lets the message through without the inbox (it.durable stays false).
func (b *Bridge) enter(ctx context.Context, p platforms.Platform, ev platforms.Event, it *workItem) bool {
	id, err := randomHex(12)
	if err != nil {
		return b.admit(ctx, p, ev, it.target)
	}
	it.entryID = id
	e, err := b.entryOf(it)
	if err != nil {
		b.log.Warn("admit event", "platform", ev.Platform, "error", err)
		it.entryID = ""
		return b.admit(ctx, p, ev, it.target)
	}
	tun := b.tunables()
	n := tun.UserRateLimit
	us := keys.User(userKey(ev))
	limit := store.Limit{Rate: float64(n) / 60, Burst: n}
	adm, err := b.st.Turns().Enter(ctx, dedupeIDs(ev), dedupeTTL, "user:"+us, limit, e, tun.QueueSize+1)
	if err != nil {
		b.log.Warn("admit event", "platform", ev.Platform, "error", err)
		it.entryID = ""
		return true
	}
	switch {
	case !adm.Claimed:
		return false
	case !adm.Allowed:
		b.rateLimited(p, ev, it.target, us, adm.Wait)
		return false
	case adm.Full:
		b.met.Errors.WithLabelValues("queue_full").Inc()
		b.notice(p, it.target, text.T(it.lang, text.MsgQueueFull))
		return false
	}
	it.durable = true
	b.log.Debug("message admitted to the inbox", "platform", ev.Platform, "conversation", keys.Conv(it.key))
	return true
}

// removeEntry deletes the inbox entry of an item answered without a turn
// (Turns.Finish removes the others).
func (b *Bridge) removeEntry(it *workItem) {
	if !it.durable {
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(b.work), 5*time.Second)
	defer cancel()
	if err := b.st.Inbox().Remove(ctx, it.entryID); err != nil && !errors.Is(err, store.ErrNotFound) {
		b.log.Warn("remove inbox entry", "platform", it.key.Platform, "error", err)
	}
}

// adoptInbox takes over the inbox entries of the dead owners and queues
// them here, in order, before the newer work of their conversations.
// Entries of a reply in flight (a half-answered message) are left to
// finalizeOrphan, which removes them. It returns how many it queued.
func (b *Bridge) adoptInbox(ctx context.Context, dead map[string]bool, inflight map[string]bool) int {
	if len(dead) == 0 {
		return 0
	}
	var adopted []store.InboxEntry
	for owner := range dead {
		es, err := b.st.Inbox().Adopt(ctx, owner, b.owner)
		if err != nil {
			if ctx.Err() == nil {
				b.log.Warn("adopt inbox", "error", err)
			}
			continue
		}
		for _, e := range es {
			b.breakLease(ctx, e.Conversation, owner)
		}
		adopted = append(adopted, es...)
	}
	// In admission order across the dead owners too.
	slices.SortFunc(adopted, func(a, b store.InboxEntry) int { return cmp.Compare(a.Seq, b.Seq) })
	n := 0
	for _, e := range adopted {
		if inflight[e.ID] {
			continue
		}
		if b.platform(e.Conversation.Platform) == nil {
			// A platform this process does not run: the entry stays (owned
			// by this process now) for a replica that runs it, after this
			// one stops.
			b.log.Warn("adopted inbox entry of a platform not enabled here; kept for a replica that runs it", "platform", e.Conversation.Platform)
			continue
		}
		it, err := b.itemOf(e)
		if err != nil {
			b.log.Error("adopt inbox entry; dropping it, its message stays unanswered", "error", err)
			if err := b.st.Inbox().Remove(ctx, e.ID); err != nil && !errors.Is(err, store.ErrNotFound) {
				b.log.Warn("remove inbox entry", "error", err)
			}
			continue
		}
		if err := b.enqueue(it); err != nil {
			continue // shutting down: the entry stays for the next process
		}
		b.met.Recovered.WithLabelValues("message").Inc()
		n++
	}
	if n > 0 {
		b.log.Info("answering messages left behind by a stopped process", "count", n)
	}
	return n
}

// breakLease frees the conversation's lease if the dead owner holds it, so
// that the conversation answers at once instead of after the lease's TTL.
func (b *Bridge) breakLease(ctx context.Context, k store.ConversationKey, owner string) {
	lockKey := lease.LockKey(keys.Conv(k))
	if err := b.st.Locks().Break(ctx, lockKey, owner); err != nil && !errors.Is(err, store.ErrNotFound) {
		b.log.Warn("release a stopped process's conversation lease", "error", err)
	}
}
