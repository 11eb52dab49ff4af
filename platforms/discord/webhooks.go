package discord

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/secondme-bridge/secondme-bridge/platforms"
)

// webhookName is the name of the channel webhook the adapter creates to post
// as a persona. A webhook is found again after a restart by its application
// id (the bridge's), not by this name, so renaming it in Discord is fine.
const webhookName = "SecondMe Bridge"

// Webhook budgets: Discord allows about 5 requests per 2 s per webhook.
const webhookRate, webhookBurst = 2.0, 5

// hookRetryAfter is how long a channel where the webhook could not be used
// (no permission, none found on a lookup-only call) is not asked again.
const hookRetryAfter = 10 * time.Minute

// maxHookSlots bounds the channels remembered; when full the memory is
// emptied (a webhook is cheap to find again).
const maxHookSlots = 4096

// Discord JSON error codes about webhooks.
const (
	codeUnknownWebhook      = 10015
	codeMissingPermissions  = 50013
	codeMissingAccess       = 50001
	codeInvalidWebhookToken = 50027
)

// hook is a channel webhook of the bridge. token is a secret: it is never
// logged, never put in a MessageRef, and only kept in memory.
type hook struct{ id, token string }

// hookSlot is what the adapter knows about one channel's webhook. mu is held
// while the webhook is looked up or created, so that one channel gets one.
type hookSlot struct {
	mu      sync.Mutex
	hook    *hook
	refused time.Time // when Discord refused or a lookup found none
	denied  bool      // the refusal was a missing permission
}

// webhooks remembers the bridge's channel webhooks, by parent channel.
type webhooks struct {
	mu       sync.Mutex
	slots    map[string]*hookSlot
	ours     map[string]bool // webhook ids the bridge owns (seen or created)
	fellBack map[string]bool // channels where a fallback to the bot was logged
	guilds   map[string]*guildHooks
	deleted  map[string]bool // webhook ids found deleted under us
	// take waits for the bot budget before a webhook list or create call
	// (UseBudgets); nil: call at once.
	take atomic.Pointer[func(ctx context.Context, budgets []platforms.Budget) error]
}

// UseBudgets implements platforms.BudgetUser: listing and creating a
// channel's webhook are bot calls Discord counts against the global limit,
// so each waits for a token of the bot budget, as the bridge's own calls
// do.
func (a *Adapter) UseBudgets(take func(ctx context.Context, budgets []platforms.Budget) error) {
	a.hooks.take.Store(&take)
}

// botCall waits for a token of the bot budget for one call of the
// adapter's own.
func (a *Adapter) botCall(ctx context.Context) error {
	if take := a.hooks.take.Load(); take != nil {
		if err := (*take)(ctx, []platforms.Budget{a.botBudget()}); err != nil {
			return fmt.Errorf("wait for the discord bot budget: %w", err)
		}
	}
	return nil
}

func newWebhooks() *webhooks {
	return &webhooks{
		slots: map[string]*hookSlot{}, ours: map[string]bool{}, fellBack: map[string]bool{},
		guilds: map[string]*guildHooks{}, deleted: map[string]bool{},
	}
}

func (w *webhooks) slot(channel string) *hookSlot {
	w.mu.Lock()
	defer w.mu.Unlock()
	s, ok := w.slots[channel]
	if !ok {
		if len(w.slots) >= maxHookSlots {
			clear(w.slots)
		}
		s = &hookSlot{}
		w.slots[channel] = s
	}
	return s
}

// own records a webhook id as the bridge's.
func (w *webhooks) own(id string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.ours) >= maxHookSlots {
		clear(w.ours)
	}
	w.ours[id] = true
}

// isOurs reports whether id is a webhook the bridge owns, as far as this
// process knows.
func (w *webhooks) isOurs(id string) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.ours[id]
}

// firstFallback reports whether channel had no fallback logged yet, and
// records it.
func (w *webhooks) firstFallback(channel string) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.fellBack[channel] {
		return false
	}
	if len(w.fellBack) >= maxHookSlots {
		clear(w.fellBack)
	}
	w.fellBack[channel] = true
	return true
}

// forget drops channel's webhook if it is id (it was deleted under us).
func (w *webhooks) forget(channel, id string) {
	w.gone(id)
	s := w.slot(channel)
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.hook != nil && s.hook.id == id {
		s.hook = nil
	}
}

// errNoHook means the channel has no usable webhook of the bridge.
var errNoHook = errors.New("no usable discord webhook")

// hookFor returns the bridge's webhook in channel (a guild text channel, not
// a thread) of guild ("" when unknown): remembered, else found in the
// guild's listing (fromGuild) or with GET /channels/{id}/webhooks (always
// asked before concluding there is none, without create), else (when
// create) created. It returns an error wrapping errNoHook when Discord
// refuses (no Manage Webhooks permission) or, without create, there is none.
func (a *Adapter) hookFor(ctx context.Context, guild, channel string, create bool) (hook, error) {
	s := a.hooks.slot(channel)
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.hook != nil {
		return *s.hook, nil
	}
	if !s.refused.IsZero() && a.now().Sub(s.refused) < hookRetryAfter && (s.denied || !create) {
		return hook{}, errNoHook
	}
	found, listed, err := a.fromGuild(ctx, guild, channel)
	switch {
	case err != nil:
		return hook{}, err
	case found != nil:
		return s.remember(a.hooks, *found), nil
	case !listed || !create:
		// The guild's listing may predate a webhook another replica
		// made: its "none" is trusted only to create one (at worst a
		// second), never to decide that a message's webhook is gone.
		if err := a.botCall(ctx); err != nil {
			return hook{}, err
		}
		list, err := a.s.ChannelWebhooks(channel, restOpts(ctx)...)
		if err != nil {
			return hook{}, s.refusal(a.now(), apiError("list discord webhooks", err))
		}
		for _, w := range list {
			if a.ownHook(w) && !a.hooks.isGone(w.ID) {
				return s.remember(a.hooks, hook{id: w.ID, token: w.Token}), nil
			}
		}
	}
	if !create {
		s.refused, s.denied = a.now(), false
		return hook{}, errNoHook
	}
	if err := a.botCall(ctx); err != nil {
		return hook{}, err
	}
	w, err := a.s.WebhookCreate(channel, webhookName, "", restOpts(ctx)...)
	if err != nil {
		return hook{}, s.refusal(a.now(), apiError("create discord webhook", err))
	}
	if w == nil || w.ID == "" || w.Token == "" {
		return hook{}, errors.New("create discord webhook: no webhook returned")
	}
	a.log.InfoContext(ctx, "discord webhook created for avatar replies", "channel", channel, "webhook", w.ID)
	return s.remember(a.hooks, hook{id: w.ID, token: w.Token}), nil
}

func (s *hookSlot) remember(w *webhooks, h hook) hook {
	s.hook, s.refused, s.denied = &h, time.Time{}, false
	w.own(h.id)
	return h
}

// refusal records a missing permission (the channel is not asked again for
// hookRetryAfter) and returns err, wrapping errNoHook when it is one.
func (s *hookSlot) refusal(now time.Time, err error) error {
	if forbidden(err) {
		s.refused, s.denied = now, true
		return errors.Join(errNoHook, err)
	}
	return err
}

// forbidden reports a missing permission or access.
func forbidden(err error) bool {
	code := restCode(err)
	return restStatus(err) == http.StatusForbidden || code == codeMissingPermissions || code == codeMissingAccess
}

// hookGone reports a webhook deleted under us (or its token reset).
func hookGone(err error) bool {
	code := restCode(err)
	return code == codeUnknownWebhook || code == codeInvalidWebhookToken ||
		(code == 0 && restStatus(err) == http.StatusNotFound)
}

// Webhook message references. MessageRef.Extra of a message posted through
// a channel webhook is
//
//	w1:<webhook id>:<parent channel id>:<thread id or empty>
//
// It holds no secret: the token is found again from the webhook id.
const hookRefVersion = "w1"

type hookRef struct{ hookID, parent, thread string }

func (r hookRef) encode() string {
	return strings.Join([]string{hookRefVersion, r.hookID, r.parent, r.thread}, ":")
}

// parseHookRef parses a webhook message reference; ok is false for any other
// Extra (interaction references, "").
func parseHookRef(extra string) (hookRef, bool) {
	parts := strings.Split(extra, ":")
	if len(parts) != 4 || parts[0] != hookRefVersion || parts[1] == "" || parts[2] == "" {
		return hookRef{}, false
	}
	return hookRef{hookID: parts[1], parent: parts[2], thread: parts[3]}, true
}
