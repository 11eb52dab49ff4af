package discordtest

import (
	"encoding/json"
	"net/http"
	"time"
	"unicode/utf8"

	"github.com/bwmarrin/discordgo"
)

// Discord JSON error codes the fake returns.
const (
	codeUnknownChannel       = 10003
	codeUnknownMessage       = 10008
	codeUnknownWebhook       = 10015
	codeUnknownInteraction   = 10062
	codeAlreadyAcknowledged  = 40060
	codeEmptyMessage         = 50006
	codeInvalidWebhookToken  = 50027
	codeInvalidFormBody      = 50035
	codeThreadAlreadyCreated = 160004
)

func decodeBody(r *http.Request, v any) error {
	return json.NewDecoder(r.Body).Decode(v)
}

func (s *Server) channelWire(c *Channel) map[string]any {
	out := map[string]any{"id": c.ID, "type": c.Type, "name": c.Name}
	if c.GuildID != "" {
		out["guild_id"] = c.GuildID
	}
	if c.ParentID != "" {
		out["parent_id"] = c.ParentID
	}
	return out
}

func (s *Server) getChannel(w http.ResponseWriter, id string) {
	s.mu.Lock()
	c, ok := s.channels[id]
	var out map[string]any
	if ok {
		out = s.channelWire(c)
	}
	s.mu.Unlock()
	if !ok {
		writeError(w, http.StatusNotFound, codeUnknownChannel, "Unknown Channel")
		return
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) createDM(w http.ResponseWriter, r *http.Request) {
	var req struct {
		RecipientID string `json:"recipient_id"`
	}
	if err := decodeBody(r, &req); err != nil || req.RecipientID == "" {
		writeError(w, http.StatusBadRequest, codeInvalidFormBody, "Invalid Form Body")
		return
	}
	s.mu.Lock()
	id := s.dmChannelLocked(req.RecipientID)
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{
		"id": id, "type": discordgo.ChannelTypeDM,
		"recipients": []any{map[string]any{"id": req.RecipientID}},
	})
}

// dmChannelLocked returns (creating it) the DM channel with a user.
func (s *Server) dmChannelLocked(userID string) string {
	if id, ok := s.dms[userID]; ok {
		return id
	}
	id := s.newIDLocked()
	s.dms[userID] = id
	s.channels[id] = &Channel{ID: id, Type: discordgo.ChannelTypeDM}
	return id
}

// DMChannel returns the id of the DM channel between the bot and a user,
// creating it if needed.
func (s *Server) DMChannel(userID string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.dmChannelLocked(userID)
}

func (s *Server) guildOfLocked(channelID string) string {
	if c, ok := s.channels[channelID]; ok {
		return c.GuildID
	}
	return ""
}

// knownMessageLocked returns the channel of a bot or user message.
func (s *Server) knownMessageLocked(id string) (channel string, ok bool) {
	if m, found := s.messages[id]; found && !m.Deleted {
		return m.ChannelID, true
	}
	if m, found := s.userMsgs[id]; found {
		return m.ChannelID, true
	}
	return "", false
}

func (s *Server) createMessage(w http.ResponseWriter, r *http.Request, channelID string) {
	b, btns, ok := readMessageBody(w, r, true)
	if !ok {
		return
	}
	s.mu.Lock()
	m := &Message{ID: s.newIDLocked(), ChannelID: channelID, GuildID: s.guildOfLocked(channelID), Author: s.botUser(), Flags: b.Flags}
	if ref := b.Reference; ref != nil {
		refChannel, known := s.knownMessageLocked(ref.MessageID)
		strict := ref.FailIfNotExists == nil || *ref.FailIfNotExists
		switch {
		case known && refChannel != channelID:
			s.mu.Unlock()
			writeError(w, http.StatusBadRequest, codeInvalidFormBody, "message_reference: cannot reply to a message in another channel")
			return
		case !known && strict:
			s.mu.Unlock()
			writeError(w, http.StatusBadRequest, codeInvalidFormBody, "message_reference: Unknown message")
			return
		case known:
			m.ReplyTo = ref.MessageID
		}
	}
	s.applyLocked(m, &b, btns, "POST /channels/{id}/messages", true)
	s.storeLocked(m)
	wire := m.wire()
	s.mu.Unlock()
	s.echo("MESSAGE_CREATE", wire)
	writeJSON(w, http.StatusOK, wire)
}

// channelMessageLocked finds a live bot message in a channel.
func (s *Server) channelMessageLocked(channelID, id string) (*Message, bool) {
	m, ok := s.messages[id]
	if !ok || m.Deleted || m.ChannelID != channelID || m.InteractionID != "" {
		return nil, false
	}
	return m, true
}

func (s *Server) getMessage(w http.ResponseWriter, channelID, id string) {
	s.mu.Lock()
	m, ok := s.channelMessageLocked(channelID, id)
	var wire map[string]any
	if ok {
		wire = m.wire()
	}
	s.mu.Unlock()
	if !ok {
		writeError(w, http.StatusNotFound, codeUnknownMessage, "Unknown Message")
		return
	}
	writeJSON(w, http.StatusOK, wire)
}

func (s *Server) editMessage(w http.ResponseWriter, r *http.Request, channelID, id string) {
	b, btns, ok := readMessageBody(w, r, false)
	if !ok {
		return
	}
	s.mu.Lock()
	m, ok := s.channelMessageLocked(channelID, id)
	if !ok {
		s.mu.Unlock()
		writeError(w, http.StatusNotFound, codeUnknownMessage, "Unknown Message")
		return
	}
	s.answerEditLocked(w, m, &b, btns, "PATCH /channels/{id}/messages/{mid}")
}

// answerEditLocked applies an edit of m (logged as route), releases s.mu,
// echoes MESSAGE_UPDATE and answers with the edited message.
func (s *Server) answerEditLocked(w http.ResponseWriter, m *Message, b *messageBody, btns []Button, route string) {
	s.applyLocked(m, b, btns, route, false)
	wire := m.wire()
	s.mu.Unlock()
	s.echo("MESSAGE_UPDATE", wire)
	writeJSON(w, http.StatusOK, wire)
}

func (s *Server) deleteMessage(w http.ResponseWriter, channelID, id string) {
	s.mu.Lock()
	m, ok := s.channelMessageLocked(channelID, id)
	if ok {
		m.Deleted, m.Updated = true, time.Now()
		s.notifyLocked()
	}
	s.mu.Unlock()
	if !ok {
		writeError(w, http.StatusNotFound, codeUnknownMessage, "Unknown Message")
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// startThread opens a public thread on a message; like Discord, the thread
// has the message's id. THREAD_CREATE is dispatched.
func (s *Server) startThread(w http.ResponseWriter, r *http.Request, channelID, messageID string) {
	var req struct {
		Name string `json:"name"`
	}
	if err := decodeBody(r, &req); err != nil || req.Name == "" || utf8.RuneCountInString(req.Name) > 100 {
		writeError(w, http.StatusBadRequest, codeInvalidFormBody, "name: must be between 1 and 100 in length")
		return
	}
	s.mu.Lock()
	if _, exists := s.channels[messageID]; exists {
		s.mu.Unlock()
		writeError(w, http.StatusBadRequest, codeThreadAlreadyCreated, "A thread has already been created for this message")
		return
	}
	if ch, known := s.knownMessageLocked(messageID); !known || ch != channelID {
		s.mu.Unlock()
		writeError(w, http.StatusNotFound, codeUnknownMessage, "Unknown Message")
		return
	}
	c := &Channel{ID: messageID, GuildID: s.guildOfLocked(channelID), ParentID: channelID, Name: req.Name, Type: discordgo.ChannelTypeGuildPublicThread}
	s.channels[c.ID] = c
	wire := s.channelWire(c)
	s.notifyLocked()
	s.mu.Unlock()
	created := map[string]any{"newly_created": true}
	for k, v := range wire {
		created[k] = v
	}
	_, _ = s.Dispatch("THREAD_CREATE", created)
	writeJSON(w, http.StatusCreated, wire)
}

// LookupChannel returns a channel the fake knows (threads opened through
// the API and DM channels included).
func (s *Server) LookupChannel(id string) (Channel, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.channels[id]
	if !ok {
		return Channel{}, false
	}
	return *c, true
}
