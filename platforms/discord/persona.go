package discord

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"unicode/utf8"

	"github.com/bwmarrin/discordgo"

	"github.com/secondme-bridge/secondme-bridge/platforms"
)

// personaSuffix marks a webhook message as an avatar's, not a person's.
const personaSuffix = " · SecondMe"

// maxWebhookUsername is Discord's limit on a webhook message's username.
const maxWebhookUsername = 80

// forbiddenInUsername are substrings Discord refuses in a username
// ("discord", "clyde" in any case; "@", "#", ":" and "```").
var forbiddenInUsername = regexp.MustCompile("(?i)discord|clyde|```|[@#:]")

// personaUsername builds the webhook username for a persona name: the name
// without what Discord refuses, cut so that name and suffix fit in 80
// characters.
func personaUsername(name string) string {
	for prev := ""; prev != name; {
		// Removing a substring can join two halves into a new one
		// ("discdiscordord"): repeat until nothing changes.
		prev, name = name, forbiddenInUsername.ReplaceAllString(name, "")
	}
	name = strings.Join(strings.Fields(name), " ")
	room := maxWebhookUsername - utf8.RuneCountInString(personaSuffix)
	if utf8.RuneCountInString(name) > room {
		name = strings.TrimSpace(string([]rune(name)[:room-1])) + "…"
	}
	if name == "" {
		return strings.TrimSpace(strings.TrimPrefix(personaSuffix, " ·"))
	}
	return name + personaSuffix
}

// avatarURL keeps an absolute http(s) URL, else "" (Discord's default
// picture): a bad URL must not make the message fail.
func avatarURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || len(raw) > 2048 {
		return ""
	}
	return raw
}

// sendAs posts m under persona p through the channel's webhook, or as the
// bot where a webhook cannot be used (a DM, no channel, no Manage Webhooks,
// a webhook deleted twice in a row), logging the fallback once per channel.
// A webhook deleted under us is forgotten and recreated once.
func (a *Adapter) sendAs(ctx context.Context, to platforms.Target, m platforms.Message, p *platforms.Persona) (platforms.MessageRef, error) {
	parent := to.Channel
	if to.DM || parent == "" {
		return a.postAsBot(ctx, to, m, string(parent), "direct message")
	}
	for range 2 {
		h, err := a.hookFor(ctx, string(to.Workspace), string(parent), true)
		if err != nil {
			if botFallbackError(ctx, err) {
				return a.postAsBot(ctx, to, m, string(parent), err.Error())
			}
			return platforms.MessageRef{}, err
		}
		ref, err := a.execute(ctx, h, hookRef{hookID: h.id, parent: string(parent), thread: string(to.Thread)}, m, p)
		switch {
		case err == nil:
			return ref, nil
		case hookGone(err):
			a.log.InfoContext(ctx, "discord webhook gone; creating it again", "channel", parent, "webhook", h.id)
			a.hooks.forget(string(parent), h.id)
			continue
		case forbidden(err):
			return a.postAsBot(ctx, to, m, string(parent), err.Error())
		default:
			return platforms.MessageRef{}, err
		}
	}
	return a.postAsBot(ctx, to, m, string(parent), "webhook deleted twice")
}

// botFallbackError reports whether a webhook error should make the message
// go out as the bot: anything but a rate limit or the caller giving up,
// which the bridge handles.
func botFallbackError(ctx context.Context, err error) bool {
	var rl *platforms.RateLimitError
	return ctx.Err() == nil && !errors.As(err, &rl)
}

// postAsBot is the fallback of sendAs: the message goes out as the bot.
func (a *Adapter) postAsBot(ctx context.Context, to platforms.Target, m platforms.Message, channel, reason string) (platforms.MessageRef, error) {
	key := channel
	if key == "" {
		key = string("dm:" + to.User)
	}
	if a.hooks.firstFallback(key) {
		a.log.InfoContext(ctx, "discord avatar reply posted as the bot: no webhook here", "channel", channel, "reason", redact(reason))
	}
	m.As = nil
	ch, err := a.targetChannel(ctx, to)
	if err != nil {
		return platforms.MessageRef{}, err
	}
	return a.post(ctx, ch, replyReference(to, ch), m)
}

// execute posts m through h (in r.thread when set) and waits for the
// message. Webhook messages cannot reply to a message: the reply reference
// is dropped.
func (a *Adapter) execute(ctx context.Context, h hook, r hookRef, m platforms.Message, p *platforms.Persona) (platforms.MessageRef, error) {
	params := &discordgo.WebhookParams{
		Content: m.Text, Username: personaUsername(p.Name), AvatarURL: avatarURL(p.AvatarURL),
		Components: messageComponents(m), AllowedMentions: noMentions(),
	}
	// What WebhookThreadExecute(wait) does without files, reading only the
	// new message's id from the answer (createdID).
	uri := discordgo.EndpointWebhookToken(h.id, h.token) + "?wait=true"
	if r.thread != "" {
		uri += "&thread_id=" + url.QueryEscape(r.thread)
	}
	answer, err := a.s.RequestWithBucketID(http.MethodPost, uri, params, uri, restOpts(ctx)...)
	if err != nil {
		return platforms.MessageRef{}, apiError("execute discord webhook", err)
	}
	id, err := createdID("execute discord webhook", answer)
	if err != nil {
		return platforms.MessageRef{}, err
	}
	ch := r.parent
	if r.thread != "" {
		ch = r.thread
	}
	return platforms.MessageRef{Channel: platforms.ChannelID(ch), ID: platforms.MessageID(id), Extra: r.encode()}, nil
}

// editAs edits a webhook message. When the webhook is gone (deleted, or
// replaced by a new one that cannot edit the old one's messages), the
// message is moved: posted anew (under m.As where possible), the old one
// deleted (best effort: the bot needs Manage Messages for that) and the new
// reference returned. Any other failure (a 429, a 5xx while looking the
// webhook up) is returned as it is: the bridge retries or skips the edit.
func (a *Adapter) editAs(ctx context.Context, ref platforms.MessageRef, r hookRef, m platforms.Message) (platforms.MessageRef, error) {
	h, err := a.hookFor(ctx, a.stateGuild(r.parent), r.parent, false)
	switch {
	case err == nil && h.id == r.hookID:
		err = a.hookMessage(ctx, http.MethodPatch, h, r, string(ref.ID), m)
		if err == nil || !hookGone(err) {
			return ref, err
		}
		a.hooks.forget(r.parent, h.id)
	case err != nil && !errors.Is(err, errNoHook):
		return ref, err
	}
	a.log.InfoContext(ctx, "discord webhook message can no longer be edited; posting it again", "channel", ref.Channel)
	to := platforms.Target{Channel: platforms.ChannelID(r.parent), Thread: platforms.ThreadID(r.thread)}
	var moved platforms.MessageRef
	if p := platforms.PersonaOf(m); p != nil {
		moved, err = a.sendAs(ctx, to, m, p)
	} else {
		moved, err = a.Send(ctx, to, m)
	}
	if err != nil {
		return ref, err
	}
	if err := a.s.ChannelMessageDelete(string(ref.Channel), string(ref.ID), restOpts(ctx)...); err != nil {
		a.log.DebugContext(ctx, "delete orphaned discord webhook message failed", "error", apiError("delete", err))
	}
	return moved, nil
}

// deleteAs deletes a webhook message (through the bot when the webhook is
// gone: that needs Manage Messages).
func (a *Adapter) deleteAs(ctx context.Context, ref platforms.MessageRef, r hookRef) error {
	h, err := a.hookFor(ctx, a.stateGuild(r.parent), r.parent, false)
	if err == nil && h.id == r.hookID {
		return a.hookMessage(ctx, http.MethodDelete, h, r, string(ref.ID), platforms.Message{})
	}
	return apiError("delete discord message", a.s.ChannelMessageDelete(string(ref.Channel), string(ref.ID), restOpts(ctx)...))
}

// hookMessage PATCHes (with m) or DELETEs a webhook message, with thread_id
// inside a thread (discordgo v0.28.1's WebhookMessageEdit has no thread_id).
// Each webhook has its own rate-limit bucket, named without the token.
func (a *Adapter) hookMessage(ctx context.Context, method string, h hook, r hookRef, id string, m platforms.Message) error {
	uri := discordgo.EndpointWebhookMessage(h.id, h.token, id)
	if r.thread != "" {
		uri += "?thread_id=" + url.QueryEscape(r.thread)
	}
	var body any
	if method == http.MethodPatch {
		text, comps := m.Text, messageComponents(m)
		body = &discordgo.WebhookEdit{Content: &text, Components: &comps, AllowedMentions: noMentions()}
	}
	raw, err := a.s.RequestWithBucketID(method, uri, body, "webhook-msg:"+h.id, restOpts(ctx)...)
	if err != nil {
		return apiError(strings.ToLower(method)+" discord webhook message", err)
	}
	if method == http.MethodPatch {
		return checkAnswer("edit discord webhook message", raw)
	}
	return nil
}

// hookBudgets are the budgets an update of a webhook message draws from:
// the webhook's and the channel's.
func hookBudgets(ref platforms.MessageRef, r hookRef) []platforms.Budget {
	return []platforms.Budget{
		{Key: "discord:hook:" + r.hookID, Rate: webhookRate, Burst: webhookBurst},
		{Key: string("discord:chan:" + ref.Channel), Rate: channelRate, Burst: channelBurst},
	}
}

// repliesToAvatar reports whether m replies to a message the bridge posted
// through one of its webhooks (an avatar's reply), which counts as talking
// to the bridge like a reply to the bot. A webhook id this process has not
// seen is checked against the channel's webhooks (remembered afterwards).
func (a *Adapter) repliesToAvatar(ctx context.Context, m *discordgo.Message) bool {
	rm := m.ReferencedMessage
	if rm == nil || rm.WebhookID == "" || m.GuildID == "" {
		return false
	}
	if a.hooks.isOurs(rm.WebhookID) {
		return true
	}
	p, _ := a.placeOf(ctx, m.ChannelID)
	ctx, cancel := context.WithTimeout(ctx, channelLookupTimeout)
	defer cancel()
	h, err := a.hookFor(ctx, m.GuildID, p.channel, false)
	return err == nil && h.id == rm.WebhookID
}
