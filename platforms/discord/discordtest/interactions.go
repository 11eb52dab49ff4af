package discordtest

import (
	"context"
	"encoding/json"
	"net/http"
	"time"
)

// interaction is the fake's record of a dispatched interaction.
type interaction struct {
	id, token, channelID, guildID string
	dispatched                    time.Time
	acked, expired                bool
	originalID                    string
	// component marks a message component interaction (type 3), and
	// messageID is its clicked message (Click): a deferred update (type
	// 6) makes that message @original.
	component bool
	messageID string
}

// Callback is an interaction callback (the acknowledgement) the fake got.
type Callback struct {
	InteractionID string
	// Type is the response type (4 message, 5 deferred, …) and Flags the
	// data flags (64 = ephemeral).
	Type, Flags int
	Content     string
	// Dispatched is when the interaction was sent on the gateway, At when
	// the callback arrived.
	Dispatched, At time.Time
}

// Callbacks returns every interaction callback, in order.
func (s *Server) Callbacks() []Callback {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Callback(nil), s.callbacks...)
}

// WaitCallback waits for the callback of an interaction.
func (s *Server) WaitCallback(ctx context.Context, interactionID string) (Callback, error) {
	var out Callback
	err := s.wait(ctx, func() bool {
		for _, c := range s.callbacks {
			if c.InteractionID == interactionID {
				out = c
				return true
			}
		}
		return false
	})
	return out, err
}

// ExpireInteraction makes an interaction's token invalid, as Discord does
// 15 minutes after the interaction: webhook calls then get 401 (code 50027).
func (s *Server) ExpireInteraction(interactionID string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if in, ok := s.interactions[interactionID]; ok {
		in.expired = true
	}
}

// OriginalResponse returns an interaction's @original response.
func (s *Server) OriginalResponse(interactionID string) (Message, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	in, ok := s.interactions[interactionID]
	if !ok || in.originalID == "" {
		return Message{}, false
	}
	return s.messages[in.originalID].clone(), true
}

// Followups returns an interaction's follow-up messages, in order.
func (s *Server) Followups(interactionID string) []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Message
	for _, id := range s.order {
		m := s.messages[id]
		if m.InteractionID == interactionID && !m.Original {
			out = append(out, m.clone())
		}
	}
	return out
}

func (s *Server) callback(w http.ResponseWriter, r *http.Request, id, token string) {
	var req struct {
		Type int          `json:"type"`
		Data *messageBody `json:"data"`
	}
	if err := decodeBody(r, &req); err != nil {
		writeError(w, http.StatusBadRequest, codeInvalidFormBody, "Invalid Form Body")
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	in, ok := s.interactions[id]
	switch {
	case !ok || in.token != token || in.expired:
		writeError(w, http.StatusNotFound, codeUnknownInteraction, "Unknown interaction")
		return
	case in.acked:
		writeError(w, http.StatusBadRequest, codeAlreadyAcknowledged, "Interaction has already been acknowledged.")
		return
	case req.Type == 6 && in.component:
		s.deferUpdateLocked(w, in, Callback{InteractionID: id, Type: 6, Dispatched: in.dispatched, At: time.Now()})
		return
	case req.Type != 4 && req.Type != 5:
		writeError(w, http.StatusBadRequest, codeInvalidFormBody, "the fake supports callback types 4 and 5, and 6 for a component")
		return
	case req.Type == 4 && req.Data == nil:
		writeError(w, http.StatusBadRequest, codeInvalidFormBody, "Invalid Form Body: data is required for callback type 4")
		return
	}
	cb := Callback{InteractionID: id, Type: req.Type, Dispatched: in.dispatched, At: time.Now()}
	m := &Message{
		ID: s.newIDLocked(), ChannelID: in.channelID, GuildID: in.guildID, Author: s.botUser(),
		InteractionID: id, Original: true, Created: cb.At, Updated: cb.At,
	}
	var btns []Button
	if req.Data != nil {
		var valid bool
		if btns, valid = checkBody(w, req.Data, req.Type == 4); !valid {
			return
		}
		cb.Flags = req.Data.Flags
		m.Flags = req.Data.Flags & flagEphemeral
		m.Ephemeral = m.Flags&flagEphemeral != 0
	}
	if req.Type == 5 {
		m.Flags |= flagLoading
	} else {
		s.applyLocked(m, req.Data, btns, "POST /interactions/{id}/{token}/callback", true)
		cb.Content = m.Content
	}
	in.acked, in.originalID = true, m.ID
	s.storeLocked(m)
	s.callbacks = append(s.callbacks, cb)
	s.notifyLocked()
	w.WriteHeader(http.StatusNoContent)
}

// webhookInteractionLocked finds the interaction behind a webhook route.
func (s *Server) webhookInteractionLocked(w http.ResponseWriter, app, token string) (*interaction, bool) {
	in, ok := s.byToken[token]
	if app != s.appID || !ok || in.expired {
		writeError(w, http.StatusUnauthorized, codeInvalidWebhookToken, "Invalid Webhook Token")
		return nil, false
	}
	if !in.acked {
		writeError(w, http.StatusNotFound, codeUnknownWebhook, "Unknown Webhook")
		return nil, false
	}
	return in, true
}

func (s *Server) followup(w http.ResponseWriter, r *http.Request, app, token string) {
	b, btns, ok := readMessageBody(w, r, true)
	if !ok {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	in, ok := s.webhookInteractionLocked(w, app, token)
	if !ok {
		return
	}
	m := &Message{
		ID: s.newIDLocked(), ChannelID: in.channelID, GuildID: in.guildID, Author: s.botUser(),
		InteractionID: in.id, Flags: b.Flags & flagEphemeral,
	}
	m.Ephemeral = m.Flags != 0
	s.applyLocked(m, &b, btns, "POST /webhooks/{app}/{token}", true)
	s.storeLocked(m)
	writePosted(w, r, m)
}

func (s *Server) webhookMessage(w http.ResponseWriter, r *http.Request, app, token, mid string) {
	b, btns, ok := readPatchBody(w, r)
	if !ok {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	in, ok := s.webhookInteractionLocked(w, app, token)
	if !ok {
		return
	}
	id := mid
	if mid == "@original" {
		id = in.originalID
	}
	m, ok := s.messages[id]
	if !ok || (m.InteractionID != in.id && (id == "" || id != in.messageID)) || m.Deleted {
		writeError(w, http.StatusNotFound, codeUnknownMessage, "Unknown Message")
		return
	}
	s.serveMessageLocked(w, r, m, &b, btns, "PATCH /webhooks/{app}/{token}/messages/{mid}")
}

// rawJSON marshals v, for payload builders.
func rawJSON(v any) json.RawMessage {
	b, err := json.Marshal(v)
	if err != nil {
		return json.RawMessage("null")
	}
	return b
}

// readPatchBody reads the body of a PATCH of a message route (other
// methods carry none); false when it was refused (answered).
func readPatchBody(w http.ResponseWriter, r *http.Request) (messageBody, []Button, bool) {
	if r.Method != http.MethodPatch {
		return messageBody{}, nil, true
	}
	return readMessageBody(w, r, false)
}

// serveMessageLocked answers GET, DELETE or PATCH (with b and btns, logged
// as route) of the found message m.
func (s *Server) serveMessageLocked(w http.ResponseWriter, r *http.Request, m *Message, b *messageBody, btns []Button, route string) {
	switch r.Method {
	case http.MethodGet:
		writeJSON(w, http.StatusOK, m.wire())
	case http.MethodDelete:
		m.Deleted, m.Updated = true, time.Now()
		s.notifyLocked()
		w.WriteHeader(http.StatusNoContent)
	default:
		s.applyLocked(m, b, btns, route, false)
		writeJSON(w, http.StatusOK, m.wire())
	}
}

// writePosted answers a webhook execution that posted m: the message with
// ?wait=true, nothing otherwise.
func writePosted(w http.ResponseWriter, r *http.Request, m *Message) {
	writePostedWire(w, r, m.wire())
}

// writePostedWire is writePosted of a message already on the wire.
func writePostedWire(w http.ResponseWriter, r *http.Request, wire map[string]any) {
	if r.URL.Query().Get("wait") != "true" {
		w.WriteHeader(http.StatusNoContent)
		return
	}
	writeJSON(w, http.StatusOK, wire)
}
