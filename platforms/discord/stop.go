package discord

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/bwmarrin/discordgo"

	"github.com/secondme-bridge/secondme-bridge/platforms"
)

// stopPrefix starts the custom_id of a Stop button; the reply id follows.
// The custom_id carries nothing but the reply id (no token, no user): who
// may stop a reply is the bridge's decision, on the clicker's identity.
const stopPrefix = "secondme:stop:"

// messageComponents renders every control of m: its link buttons, five per
// row, then the Stop button on a row of its own. An empty (non-nil) list
// on an edit removes the components a message had: the final edit, which
// has no Stop, takes the button away. Channel messages, interaction
// responses and webhook messages all use it.
func messageComponents(m platforms.Message) []discordgo.MessageComponent {
	rows := components(m.Buttons)
	if m.Stop != nil {
		rows = append(rows, stopRow{stopButton(*m.Stop)})
	}
	return rows
}

// stopRow is the action row holding a reply's Stop button: its JSON is
// that of discordgo.ActionsRow{Components: {b}}, made in one pass.
// discordgo marshals each level of a component through its own
// MarshalJSON, and the encoder validates and compacts every level's output
// again: for the Stop row on every streaming send and edit that was about
// a twentieth of the bridge's CPU under load (TLS, N=1,000).
type stopRow struct{ b discordgo.Button }

// Type implements discordgo.MessageComponent.
func (stopRow) Type() discordgo.ComponentType { return discordgo.ActionsRowComponent }

// MarshalJSON implements json.Marshaler, with the fields (and their
// order) of discordgo's ActionsRow and Button.
func (r stopRow) MarshalJSON() ([]byte, error) {
	type button struct {
		Label    string                    `json:"label"`
		Style    discordgo.ButtonStyle     `json:"style"`
		Disabled bool                      `json:"disabled"`
		Emoji    *discordgo.ComponentEmoji `json:"emoji,omitempty"`
		URL      string                    `json:"url,omitempty"`
		CustomID string                    `json:"custom_id,omitempty"`
		Type     discordgo.ComponentType   `json:"type"`
	}
	b := r.b
	return json.Marshal(struct {
		Components [1]button               `json:"components"`
		Type       discordgo.ComponentType `json:"type"`
	}{
		Components: [1]button{{Label: b.Label, Style: b.Style, Disabled: b.Disabled, Emoji: b.Emoji, URL: b.URL, CustomID: b.CustomID, Type: discordgo.ButtonComponent}},
		Type:       discordgo.ActionsRowComponent,
	})
}

// stopButton is the Stop button of a streaming reply.
func stopButton(s platforms.StopControl) discordgo.Button {
	return discordgo.Button{
		Label:    clipLabel(s.Label),
		Style:    discordgo.SecondaryButton,
		CustomID: stopPrefix + s.ReplyID,
		Emoji:    &discordgo.ComponentEmoji{Name: "⏹"},
	}
}

// clipLabel shortens a label to Discord's 80 characters.
func clipLabel(label string) string {
	if utf8.RuneCountInString(label) > maxButtonLabel {
		return string([]rune(label)[:maxButtonLabel-1]) + "…"
	}
	return label
}

// checkStop validates a Stop control before any request.
func checkStop(op string, s *platforms.StopControl) error {
	if s == nil {
		return nil
	}
	if !platforms.ValidStopReplyID(s.ReplyID) {
		return fmt.Errorf("%s: stop control: reply id must be 1..%d characters of [A-Za-z0-9._-]", op, platforms.StopReplyIDMaxLen)
	}
	if strings.TrimSpace(s.Label) == "" {
		return fmt.Errorf("%s: stop control needs a label", op)
	}
	return nil
}

// stopReplyID returns the reply id of a Stop button's custom_id, or false
// when the custom_id is not one of ours or was forged.
func stopReplyID(customID string) (string, bool) {
	id, ok := strings.CutPrefix(customID, stopPrefix)
	if !ok || !platforms.ValidStopReplyID(id) {
		return "", false
	}
	return id, true
}

// handleComponent acknowledges a click on a Stop button at once (a
// deferred update: the message stays as it is until the bridge edits it)
// and hands an EventStop to the bridge, with an interaction handle whose
// answers are private follow-ups (the "only the person who asked" notice).
// Other components, and clicks where the bridge may not act, are
// acknowledged and dropped. It reports whether the bridge got the event.
func (a *Adapter) handleComponent(ctx context.Context, i *discordgo.Interaction) bool {
	received := a.now()
	data, ok := i.Data.(discordgo.MessageComponentInteractionData)
	if !ok || i.ID == "" || i.Token == "" {
		return false
	}
	replyID, ok := stopReplyID(data.CustomID)
	allowed := i.GuildID == "" || a.guildAllowed(i.GuildID)
	if err := a.ackComponent(ctx, i); err != nil {
		a.log.WarnContext(ctx, "acknowledge discord button failed", "error", err)
		return false
	}
	ev, person := interactionEvent(i, platforms.EventStop)
	if !ok || !allowed || !person {
		a.log.DebugContext(ctx, "ignoring discord component", "custom_id_prefix_ok", ok, "allowed", allowed)
		return false
	}
	ev.Stop = &platforms.Stop{ReplyID: replyID}
	if i.Message != nil {
		ev.MessageID = platforms.MessageID(i.Message.ID)
	}
	if !ev.DM {
		p, _ := a.placeOf(ctx, i.ChannelID)
		ev.Channel, ev.Thread = platforms.ChannelID(p.channel), platforms.ThreadID(p.thread)
	}
	appID := i.AppID
	if appID == "" {
		appID = a.cfg.ApplicationID
	}
	h := handle{appID: appID, channelID: i.ChannelID, token: i.Token, received: received, ephemeral: true}
	// The deferred update's @original is the clicked message itself: it
	// counts as answered, so every answer is a private follow-up and
	// never overwrites the reply.
	a.ints.learn(i.Token, true, received)
	ev.Interaction = h.encode()
	a.handler.HandleEvent(ctx, ev)
	return true
}

// ackComponent answers a component interaction with a deferred update
// (type 6), within Discord's 3 s.
func (a *Adapter) ackComponent(ctx context.Context, i *discordgo.Interaction) error {
	ctx, cancel := context.WithTimeout(ctx, ackTimeout)
	defer cancel()
	resp := &discordgo.InteractionResponse{Type: discordgo.InteractionResponseDeferredMessageUpdate}
	return apiError("acknowledge discord button", a.respondInteraction(ctx, i, resp))
}
