package discord

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"

	"github.com/bwmarrin/discordgo"

	"github.com/secondme-bridge/secondme-bridge/platforms"
)

const originalID = "@original"

// stale reports whether the interaction's token is too old to rely on.
func (a *Adapter) stale(h handle) bool {
	return a.now().Sub(h.received) >= interactionMoveAfter
}

// sendInteraction answers an interaction: the first answer edits the
// deferred @original, later ones are follow-ups (ephemeral when asked). A
// private answer to a public deferral becomes an ephemeral follow-up and the
// public "thinking…" placeholder is deleted; a public answer to a private
// deferral stays private (discordgo v0.28.1 fixes visibility at deferral).
// Once the token is stale, a public answer is posted in the interaction's
// channel and a private one in the user's DMs.
func (a *Adapter) sendInteraction(ctx context.Context, h handle, to platforms.Target, m platforms.Message, ephemeral bool) (platforms.MessageRef, error) {
	if a.stale(h) {
		if ephemeral {
			return a.sendDM(ctx, to, m)
		}
		if h.channelID == "" {
			return platforms.MessageRef{}, errors.New("send discord message: interaction has no channel")
		}
		return a.post(ctx, h.channelID, nil, m)
	}
	claimed, known := a.ints.claimOriginal(h.token)
	if !known {
		pending, err := a.originalPending(ctx, h)
		if err != nil {
			return platforms.MessageRef{}, err
		}
		a.ints.learn(h.token, !pending, h.received)
		claimed, _ = a.ints.claimOriginal(h.token)
	}
	if !claimed {
		return a.followup(ctx, h, m, ephemeral)
	}
	if ephemeral && !h.ephemeral {
		ref, err := a.followup(ctx, h, m, true)
		if err != nil {
			a.ints.unclaim(h.token)
			return ref, err
		}
		if err := a.deleteWebhookMessage(ctx, refOriginal, h, originalID); err != nil {
			a.log.DebugContext(ctx, "delete discord interaction placeholder failed", "error", err)
		}
		return ref, nil
	}
	msg, err := a.webhookEdit(ctx, h, originalID, m)
	if err != nil {
		a.ints.unclaim(h.token)
		return platforms.MessageRef{}, apiError("answer discord interaction", err)
	}
	id := originalID
	if msg != nil && msg.ID != "" {
		id = msg.ID
	}
	return platforms.MessageRef{Channel: platforms.ChannelID(h.channelID), ID: platforms.MessageID(id), Extra: refExtra(refOriginal, h)}, nil
}

// followup posts a follow-up message to the interaction.
func (a *Adapter) followup(ctx context.Context, h handle, m platforms.Message, ephemeral bool) (platforms.MessageRef, error) {
	params := &discordgo.WebhookParams{Content: m.Text, Components: messageComponents(m), AllowedMentions: noMentions()}
	kind := refFollowup
	if ephemeral {
		params.Flags = discordgo.MessageFlagsEphemeral
		kind = refEphemeralFollowup
	}
	// What FollowupMessageCreate does without files, in the interaction's
	// shard bucket (interactionBucket), reading only the new message's id.
	uri := discordgo.EndpointWebhookToken(h.appID, h.token) + "?wait=true"
	answer, err := a.s.RequestWithBucketID(http.MethodPost, uri, params, interactionBucket(h.token), restOpts(ctx)...)
	if err != nil {
		return platforms.MessageRef{}, apiError("send discord follow-up", err)
	}
	id, err := createdID("send discord follow-up", answer)
	if err != nil {
		return platforms.MessageRef{}, err
	}
	return platforms.MessageRef{Channel: platforms.ChannelID(h.channelID), ID: platforms.MessageID(id), Extra: refExtra(kind, h)}, nil
}

// editInteraction edits a message posted through an interaction, or moves
// it to a channel message once the token is stale (public messages only).
func (a *Adapter) editInteraction(ctx context.Context, ref platforms.MessageRef, m platforms.Message) (platforms.MessageRef, error) {
	kind, h, err := parseExtra(ref.Extra)
	if err != nil {
		return ref, fmt.Errorf("edit discord message: %w", err)
	}
	private := kind == refEphemeralFollowup || (kind == refOriginal && h.ephemeral)
	if a.stale(h) && !private && h.channelID != "" {
		moved, err := a.post(ctx, h.channelID, nil, m)
		if err != nil {
			return ref, err
		}
		if err := a.deleteWebhookMessage(ctx, kind, h, string(ref.ID)); err != nil {
			a.log.DebugContext(ctx, "delete moved discord interaction message failed", "error", err)
		}
		return moved, nil
	}
	id := ref.ID
	if kind == refOriginal {
		id = originalID
	}
	if _, err := a.webhookEdit(ctx, h, string(id), m); err != nil {
		return ref, apiError("edit discord interaction message", err)
	}
	return ref, nil
}

// webhookEdit PATCHes an interaction webhook message. It calls the REST
// layer directly so that interactions do not all share one rate-limit
// bucket (discordgo's WebhookMessageEdit does, which would serialize every
// interaction edit in the process); it uses the interaction's shard
// (interactionBucket).
func (a *Adapter) webhookEdit(ctx context.Context, h handle, id string, m platforms.Message) (*discordgo.Message, error) {
	text, comps := m.Text, messageComponents(m)
	data := &discordgo.WebhookEdit{Content: &text, Components: &comps, AllowedMentions: noMentions()}
	uri := discordgo.EndpointWebhookMessage(h.appID, h.token, id)
	body, err := a.s.RequestWithBucketID(http.MethodPatch, uri, data, interactionBucket(h.token), restOpts(ctx)...)
	if err != nil {
		return nil, err
	}
	var msg discordgo.Message
	if len(body) > 0 {
		if err := json.Unmarshal(body, &msg); err != nil {
			return nil, fmt.Errorf("decode webhook message: %w", err)
		}
	}
	return &msg, nil
}

// originalPending asks Discord whether @original is still the deferred
// "thinking…" placeholder (used when this process has no memory of the
// interaction).
func (a *Adapter) originalPending(ctx context.Context, h handle) (bool, error) {
	msg, err := a.s.InteractionResponse(h.interaction(), restOpts(ctx)...)
	if err != nil {
		return false, apiError("get discord interaction response", err)
	}
	return msg != nil && msg.Flags&discordgo.MessageFlagsLoading != 0, nil
}

// deleteWebhookMessage deletes @original or a follow-up.
func (a *Adapter) deleteWebhookMessage(ctx context.Context, kind string, h handle, id string) error {
	i := h.interaction()
	if kind == refOriginal {
		// What InteractionResponseDelete does, in the interaction's
		// shard bucket (interactionBucket).
		_, err := a.s.RequestWithBucketID(http.MethodDelete, discordgo.EndpointInteractionResponseActions(i.AppID, i.Token), nil,
			interactionBucket(i.Token), restOpts(ctx)...)
		return apiError("delete discord interaction response", err)
	}
	return apiError("delete discord follow-up", a.s.FollowupMessageDelete(i, id, restOpts(ctx)...))
}
