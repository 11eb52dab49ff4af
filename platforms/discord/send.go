package discord

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net/http"
	"unicode/utf8"

	"github.com/bwmarrin/discordgo"

	"github.com/secondme-bridge/secondme-bridge/platforms"
)

// Discord's message limits.
const (
	maxMessageChars  = 2000
	maxButtons       = 25
	buttonsPerRow    = 5
	maxButtonLabel   = 80
	maxButtonURLSize = 512
)

// Shared budgets (see platforms.Budgeter).
const (
	channelRate, channelBurst         = 1.0, 5 // about 5 messages or edits per 5 s per channel
	interactionRate, interactionBurst = 1.0, 5 // an interaction webhook, outside the global limit
)

// noMentions allows no mention at all: nobody is ever pinged, not even the
// author of the message replied to.
func noMentions() *discordgo.MessageAllowedMentions {
	return &discordgo.MessageAllowedMentions{Parse: []discordgo.AllowedMentionType{}}
}

// checkMessage validates m before any request.
func checkMessage(op string, m platforms.Message) error {
	if n := utf8.RuneCountInString(m.Text); n > maxMessageChars {
		return fmt.Errorf("%s: %d characters: %w", op, n, platforms.ErrTooLong)
	}
	if m.Text == "" && len(m.Buttons) == 0 {
		return fmt.Errorf("%s: empty message", op)
	}
	limit := maxButtons
	if m.Stop != nil {
		limit -= buttonsPerRow // the Stop button takes a row of its own
	}
	if len(m.Buttons) > limit {
		return fmt.Errorf("%s: %d buttons, at most %d", op, len(m.Buttons), limit)
	}
	for i, b := range m.Buttons {
		if b.Label == "" || b.URL == "" || len(b.URL) > maxButtonURLSize {
			return fmt.Errorf("%s: button %d needs a label and a URL of at most %d bytes", op, i, maxButtonURLSize)
		}
	}
	return checkStop(op, m.Stop)
}

// components renders link buttons, five per row (messageComponents adds
// the Stop button).
func components(buttons []platforms.LinkButton) []discordgo.MessageComponent {
	rows := []discordgo.MessageComponent{}
	for start := 0; start < len(buttons); start += buttonsPerRow {
		row := discordgo.ActionsRow{}
		for _, b := range buttons[start:min(start+buttonsPerRow, len(buttons))] {
			row.Components = append(row.Components, discordgo.Button{Label: clipLabel(b.Label), Style: discordgo.LinkButton, URL: b.URL})
		}
		rows = append(rows, row)
	}
	return rows
}

// restOpts are the options of every message request: the caller's context
// and, explicitly, no retry on 429.
func restOpts(ctx context.Context) []discordgo.RequestOption {
	return []discordgo.RequestOption{discordgo.WithContext(ctx), discordgo.WithRetryOnRatelimit(false)}
}

// Send posts m. With to.Interaction it answers the interaction: the first
// answer edits the deferred response, later ones are follow-ups (ephemeral
// when to.Ephemeral); after about 14 minutes it posts a channel message (or a
// DM, when ephemeral) instead. Otherwise it posts into to.Thread, else
// to.Channel (a DM target without a channel opens one with to.User), as a
// soft reply to to.ReplyTo. With m.As (and no interaction) it posts under
// that persona through the channel's webhook where it can (see sendAs).
func (a *Adapter) Send(ctx context.Context, to platforms.Target, m platforms.Message) (platforms.MessageRef, error) {
	if err := checkMessage("send discord message", m); err != nil {
		return platforms.MessageRef{}, err
	}
	if to.Interaction != "" {
		h, err := decodeHandle(to.Interaction)
		if err != nil {
			return platforms.MessageRef{}, fmt.Errorf("send discord message: %w", err)
		}
		return a.sendInteraction(ctx, h, to, m, to.Ephemeral)
	}
	if p := platforms.PersonaOf(m); p != nil {
		return a.sendAs(ctx, to, m, p)
	}
	ch, err := a.targetChannel(ctx, to)
	if err != nil {
		return platforms.MessageRef{}, err
	}
	return a.post(ctx, ch, replyReference(to, ch), m)
}

// targetChannel is the channel a target's messages go to.
func (a *Adapter) targetChannel(ctx context.Context, to platforms.Target) (string, error) {
	switch {
	case to.Thread != "":
		return string(to.Thread), nil
	case to.Channel != "":
		return string(to.Channel), nil
	case to.DM && to.User != "":
		return a.dmChannel(ctx, string(to.User))
	}
	return "", errors.New("send discord message: target has no channel")
}

func (a *Adapter) dmChannel(ctx context.Context, user string) (string, error) {
	ch, err := a.s.UserChannelCreate(user, restOpts(ctx)...)
	if err != nil {
		return "", apiError("open discord dm", err)
	}
	if ch == nil || ch.ID == "" {
		return "", errors.New("open discord dm: no channel returned")
	}
	return ch.ID, nil
}

// replyReference is a soft reference (fail_if_not_exists false) to
// to.ReplyTo, or nil. The starter message of a thread (ReplyTo == Thread)
// lives in the parent channel and cannot be replied to from the thread.
func replyReference(to platforms.Target, channel string) *discordgo.MessageReference {
	if to.ReplyTo == "" || (to.Thread != "" && string(to.ReplyTo) == string(to.Thread)) {
		return nil
	}
	f := false
	return &discordgo.MessageReference{MessageID: string(to.ReplyTo), ChannelID: channel, FailIfNotExists: &f}
}

// post creates a channel message.
func (a *Adapter) post(ctx context.Context, channel string, ref *discordgo.MessageReference, m platforms.Message) (platforms.MessageRef, error) {
	// What ChannelMessageSendComplex does without files, reading only
	// the new message's id from the answer (createdID).
	endpoint := discordgo.EndpointChannelMessages(channel)
	answer, err := a.s.RequestWithBucketID(http.MethodPost, endpoint, &discordgo.MessageSend{
		Content:         m.Text,
		Components:      messageComponents(m),
		AllowedMentions: noMentions(),
		Reference:       ref,
	}, endpoint, restOpts(ctx)...)
	if err != nil {
		return platforms.MessageRef{}, apiError("send discord message", err)
	}
	id, err := createdID("send discord message", answer)
	if err != nil {
		return platforms.MessageRef{}, err
	}
	return platforms.MessageRef{Channel: platforms.ChannelID(channel), ID: platforms.MessageID(id)}, nil
}

// Edit replaces the text and buttons of ref. A message posted through an
// interaction is edited through the interaction webhook until about 14
// minutes after the interaction, then moved: a normal channel message is
// posted with m, the old one deleted (best effort), and the new reference
// returned. Ephemeral interaction messages are never moved (they would
// become public).
func (a *Adapter) Edit(ctx context.Context, ref platforms.MessageRef, m platforms.Message) (platforms.MessageRef, error) {
	if err := checkMessage("edit discord message", m); err != nil {
		return ref, err
	}
	if r, ok := parseHookRef(ref.Extra); ok {
		return a.editAs(ctx, ref, r, m)
	}
	if ref.Extra != "" {
		return a.editInteraction(ctx, ref, m)
	}
	if ref.Channel == "" || ref.ID == "" {
		return ref, errors.New("edit discord message: empty message reference")
	}
	// What ChannelMessageEditComplex does without files, without decoding
	// the whole message in the answer (checkAnswer).
	text, comps := m.Text, messageComponents(m)
	answer, err := a.s.RequestWithBucketID(http.MethodPatch,
		discordgo.EndpointChannelMessage(string(ref.Channel), string(ref.ID)),
		&discordgo.MessageEdit{Content: &text, Components: &comps, AllowedMentions: noMentions()},
		discordgo.EndpointChannelMessage(string(ref.Channel), ""), restOpts(ctx)...)
	if err != nil {
		return ref, apiError("edit discord message", err)
	}
	return ref, checkAnswer("edit discord message", answer)
}

// Delete deletes a channel message or an interaction response.
func (a *Adapter) Delete(ctx context.Context, ref platforms.MessageRef) error {
	if r, ok := parseHookRef(ref.Extra); ok {
		return a.deleteAs(ctx, ref, r)
	}
	if ref.Extra == "" {
		if ref.Channel == "" || ref.ID == "" {
			return errors.New("delete discord message: empty message reference")
		}
		return apiError("delete discord message", a.s.ChannelMessageDelete(string(ref.Channel), string(ref.ID), restOpts(ctx)...))
	}
	kind, h, err := parseExtra(ref.Extra)
	if err != nil {
		return fmt.Errorf("delete discord message: %w", err)
	}
	return a.deleteWebhookMessage(ctx, kind, h, string(ref.ID))
}

// Typing shows "typing…" in the target channel for about 10 s. An
// interaction already shows "thinking…", so it does nothing there.
func (a *Adapter) Typing(ctx context.Context, to platforms.Target) error {
	if to.Interaction != "" {
		return nil
	}
	ch, err := a.targetChannel(ctx, to)
	if err != nil {
		return err
	}
	ctx, done := untilWritten(ctx)
	defer done()
	return apiError("discord typing", a.s.ChannelTyping(ch, restOpts(ctx)...))
}

// SendEphemeral sends m privately to to.User: as an ephemeral interaction
// answer when to.Interaction is set and still valid; otherwise in the DM
// channel (to.Channel when the target is a DM, else a DM opened with
// to.User), since Discord has no ephemeral channel messages.
func (a *Adapter) SendEphemeral(ctx context.Context, to platforms.Target, m platforms.Message) error {
	if err := checkMessage("send discord ephemeral message", m); err != nil {
		return err
	}
	if to.Interaction != "" {
		h, err := decodeHandle(to.Interaction)
		if err != nil {
			return fmt.Errorf("send discord ephemeral message: %w", err)
		}
		if !a.stale(h) {
			_, err := a.sendInteraction(ctx, h, to, m, true)
			return err
		}
	}
	_, err := a.sendDM(ctx, to, m)
	return err
}

// sendDM posts m in the user's DM channel.
func (a *Adapter) sendDM(ctx context.Context, to platforms.Target, m platforms.Message) (platforms.MessageRef, error) {
	ch := ""
	if to.DM && to.Interaction == "" {
		ch = string(to.Channel)
	}
	if ch == "" {
		if to.User == "" {
			return platforms.MessageRef{}, errors.New("send discord direct message: target has no user")
		}
		var err error
		if ch, err = a.dmChannel(ctx, string(to.User)); err != nil {
			return platforms.MessageRef{}, err
		}
	}
	return a.post(ctx, ch, nil, m)
}

// SendBudgets returns the budgets a new message to `to` draws from. An
// interaction answer uses that interaction's own webhook budget
// (interactions are outside the global and channel limits); any other
// message uses the budget of the channel it is posted in (the thread, which
// is a channel on Discord) and the bot's global budget.
func (a *Adapter) SendBudgets(to platforms.Target) []platforms.Budget {
	if to.Interaction != "" {
		if h, err := decodeHandle(to.Interaction); err == nil {
			return interactionBudgets(h)
		}
	}
	ch := to.Channel
	if to.Thread != "" {
		ch = platforms.ChannelID(to.Thread)
	}
	return a.channelBudgets(string(ch))
}

// UpdateBudgets returns the shared budgets one update of ref draws from: the
// channel (about 5 per 5 s) and the bot token (50/s) for a channel message,
// the interaction webhook for a message posted through an interaction, the
// channel webhook and the channel for an avatar's message.
func (a *Adapter) UpdateBudgets(ref platforms.MessageRef) []platforms.Budget {
	if r, ok := parseHookRef(ref.Extra); ok {
		return hookBudgets(ref, r)
	}
	if ref.Extra != "" {
		if _, h, err := parseExtra(ref.Extra); err == nil {
			return interactionBudgets(h)
		}
	}
	return a.channelBudgets(string(ref.Channel))
}

// TypingBudgets returns the budget a typing call in `to` draws from: the
// bot's global budget (an interaction shows "thinking…" instead, no call).
func (a *Adapter) TypingBudgets(to platforms.Target) []platforms.Budget {
	if to.Interaction != "" {
		return nil
	}
	return []platforms.Budget{a.botBudget()}
}

// DefaultGlobalRate is Discord's global limit, 50 requests per second per
// bot: the default of Config.GlobalRate.
const DefaultGlobalRate = 50

// globalRate is the bot budget's rate (per second) and burst.
func (a *Adapter) globalRate() int { return a.cfg.globalRate() }

// globalRate is GlobalRate or its default.
func (c Config) globalRate() int { return cmp.Or(c.GlobalRate, DefaultGlobalRate) }

// interactionBudgets is the webhook budget of the interaction behind h.
func interactionBudgets(h handle) []platforms.Budget {
	return []platforms.Budget{{Key: "discord:int:" + tokenHash(h.token), Rate: interactionRate, Burst: interactionBurst}}
}

// channelBudgets is the budget of a channel (a thread is a channel) and
// the bot's global budget.
func (a *Adapter) channelBudgets(channelID string) []platforms.Budget {
	return []platforms.Budget{
		{Key: "discord:chan:" + channelID, Rate: channelRate, Burst: channelBurst},
		a.botBudget(),
	}
}

// botBudget is the bot's global budget: at most globalRate calls in any
// second, as Discord counts them (fixed 1 s windows). A token bucket
// allows Burst + Rate×1 s calls in a second, and one more when a window
// holds both ends of the spacing, so the global rate is split: a tenth of
// it (at least 1) as the burst, the rest less a fiftieth (at least 1) as
// the rate (50/s: a burst of 5, then 44/s).
func (a *Adapter) botBudget() platforms.Budget {
	g := a.globalRate()
	burst := max(g/10, 1)
	return platforms.Budget{Key: "discord:bot:" + a.cfg.ApplicationID, Rate: float64(max(g-burst-max(g/50, 1), 1)), Burst: burst}
}
