package discordtest

import (
	"cmp"
	"context"
	"fmt"
	"net/http"
	"slices"

	"github.com/bwmarrin/discordgo"
)

// maxCustomID is Discord's limit on a component's custom_id.
const maxCustomID = 100

// Click clicks the button customID on the message messageID as user, as
// Discord does: an INTERACTION_CREATE of type 3 (message component) over
// the gateway, carrying the message and the custom_id, whose token then
// accepts a deferred update (callback type 6) and follow-ups. It refuses a
// click on a deleted message or on a button the message does not carry
// (now), since Discord can only deliver clicks on buttons users see.
func (s *Server) Click(messageID, customID string, user User) (Interaction, error) {
	s.mu.Lock()
	m, ok := s.messages[messageID]
	if !ok || m.Deleted {
		s.mu.Unlock()
		return Interaction{}, fmt.Errorf("discordtest: click: no message %s", messageID)
	}
	if !slices.ContainsFunc(m.Buttons, func(b Button) bool { return b.CustomID == customID && b.Style != 5 }) {
		s.mu.Unlock()
		return Interaction{}, fmt.Errorf("discordtest: click: message %s has no button %q", messageID, customID)
	}
	wire, channel, guild := m.wire(), m.ChannelID, m.GuildID
	s.mu.Unlock()
	return s.sendInteraction(Interaction{
		Type:      discordgo.InteractionMessageComponent,
		GuildID:   guild,
		ChannelID: channel,
		User:      user,
		Data:      map[string]any{"custom_id": customID, "component_type": 2},
	}, messageID, wire)
}

// deferUpdateLocked answers a component interaction with a deferred
// update: nothing changes on screen, and @original is the clicked message.
func (s *Server) deferUpdateLocked(w http.ResponseWriter, in *interaction, cb Callback) {
	in.acked, in.originalID = true, in.messageID
	s.callbacks = append(s.callbacks, cb)
	s.notifyLocked()
	w.WriteHeader(http.StatusNoContent)
}

// WaitButtons waits until the message messageID carries exactly the
// buttons whose custom_ids (or, for link buttons, URLs) are want, in
// order; no want means no button at all.
func (s *Server) WaitButtons(ctx context.Context, messageID string, want ...string) (Message, error) {
	var out Message
	err := s.wait(ctx, func() bool {
		m, ok := s.messages[messageID]
		if !ok {
			return false
		}
		var got []string
		for _, b := range m.Buttons {
			got = append(got, cmp.Or(b.CustomID, b.URL))
		}
		out = m.clone()
		return slices.Equal(got, want)
	})
	return out, err
}
