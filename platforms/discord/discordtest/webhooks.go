package discordtest

import (
	"crypto/rand"
	"encoding/hex"
	"net/http"
	"regexp"
	"strings"
	"unicode/utf8"

	"github.com/bwmarrin/discordgo"
)

// Discord JSON error codes of webhook routes.
const (
	codeMissingPermissions = 50013
	codeMaxWebhooks        = 30007
	codeWebhooksInDM       = 50003 // "Cannot execute action on a DM channel"
	codeUnknownGuild       = 10004
)

// maxChannelWebhooks is Discord's limit of webhooks per channel.
const maxChannelWebhooks = 15

// Webhook is a channel webhook created through the fake.
type Webhook struct {
	ID, Token, ChannelID, GuildID, Name string
	// ApplicationID is the creating application (the bot's app id).
	ApplicationID string
	Deleted       bool
}

func (h *Webhook) wire() map[string]any {
	return map[string]any{
		"id": h.ID, "type": discordgo.WebhookTypeIncoming, "token": h.Token, "channel_id": h.ChannelID,
		"guild_id": h.GuildID, "name": h.Name, "application_id": h.ApplicationID,
	}
}

// DenyWebhooks makes webhook creation and listing in channel answer 403
// Missing Permissions (the bot lacks Manage Webhooks there), or lifts it.
func (s *Server) DenyWebhooks(channelID string, deny bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.noHooks == nil {
		s.noHooks = map[string]bool{}
	}
	s.noHooks[channelID] = deny
}

// DenyGuildWebhooks makes the listing of guildID's webhooks answer 403
// Missing Permissions (the bot lacks Manage Webhooks guild-wide: it may
// still hold it in channels, see DenyWebhooks), or lifts it.
func (s *Server) DenyGuildWebhooks(guildID string, deny bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.noGuildHooks == nil {
		s.noGuildHooks = map[string]bool{}
	}
	s.noGuildHooks[guildID] = deny
}

// Webhooks returns the live webhooks of a channel.
func (s *Server) Webhooks(channelID string) []Webhook {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Webhook
	for _, id := range s.hookOrder {
		if h := s.hooks[id]; !h.Deleted && h.ChannelID == channelID {
			out = append(out, *h)
		}
	}
	return out
}

// DeleteWebhook deletes a webhook, as a moderator would: later executions
// and edits through it answer 404 Unknown Webhook.
func (s *Server) DeleteWebhook(id string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	h, ok := s.hooks[id]
	if !ok || h.Deleted {
		return false
	}
	h.Deleted = true
	s.notifyLocked()
	return true
}

// AddWebhook registers a webhook that exists before the adapter starts (one
// another application or a person made, or the bridge's own from a previous
// run) and returns it.
func (s *Server) AddWebhook(channelID, name, applicationID string) Webhook {
	s.mu.Lock()
	defer s.mu.Unlock()
	h := s.newHookLocked(channelID, name, applicationID)
	return *h
}

func (s *Server) newHookLocked(channelID, name, app string) *Webhook {
	tok := make([]byte, 24)
	_, _ = rand.Read(tok)
	h := &Webhook{
		ID: s.newIDLocked(), Token: "whtok-" + hex.EncodeToString(tok), ChannelID: channelID,
		GuildID: s.guildOfLocked(channelID), Name: name, ApplicationID: app,
	}
	if s.hooks == nil {
		s.hooks = map[string]*Webhook{}
	}
	s.hooks[h.ID] = h
	s.hookOrder = append(s.hookOrder, h.ID)
	s.notifyLocked()
	return h
}

// webhookChannelLocked checks that channelID may hold webhooks: a known
// guild channel that is not a thread, where the bot is allowed.
func (s *Server) webhookChannelLocked(w http.ResponseWriter, channelID string) bool {
	c, ok := s.channels[channelID]
	switch {
	case !ok:
		writeError(w, http.StatusNotFound, codeUnknownChannel, "Unknown Channel")
	case c.Type == discordgo.ChannelTypeDM || c.Type == discordgo.ChannelTypeGroupDM:
		writeError(w, http.StatusBadRequest, codeWebhooksInDM, "Cannot execute action on a DM channel")
	case isThread(c.Type):
		writeError(w, http.StatusBadRequest, codeInvalidFormBody, "Invalid Form Body: webhooks belong to the parent channel")
	case s.noHooks[channelID]:
		writeError(w, http.StatusForbidden, codeMissingPermissions, "Missing Permissions")
	default:
		return true
	}
	return false
}

func isThread(t discordgo.ChannelType) bool {
	return t == discordgo.ChannelTypeGuildPublicThread || t == discordgo.ChannelTypeGuildPrivateThread ||
		t == discordgo.ChannelTypeGuildNewsThread
}

// forbiddenName matches what Discord refuses in a webhook or webhook
// message username.
var forbiddenName = regexp.MustCompile("(?i)discord|clyde|```|[@#:]")

// badUsername returns why a webhook (message) name is refused, or "".
func badUsername(name string) string {
	n := utf8.RuneCountInString(name)
	switch {
	case n < 1 || n > 80:
		return "username: Must be between 1 and 80 in length."
	case forbiddenName.MatchString(name), strings.EqualFold(name, "everyone"), strings.EqualFold(name, "here"):
		return "username: Username cannot contain \"" + name + "\""
	}
	return ""
}

func (s *Server) createWebhook(w http.ResponseWriter, r *http.Request, channelID string) {
	var req struct {
		Name string `json:"name"`
	}
	if err := decodeBody(r, &req); err != nil {
		writeError(w, http.StatusBadRequest, codeInvalidFormBody, "Invalid Form Body")
		return
	}
	if p := badUsername(req.Name); p != "" {
		writeError(w, http.StatusBadRequest, codeInvalidFormBody, p)
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.webhookChannelLocked(w, channelID) {
		return
	}
	n := 0
	for _, h := range s.hooks {
		if !h.Deleted && h.ChannelID == channelID {
			n++
		}
	}
	if n >= maxChannelWebhooks {
		writeError(w, http.StatusBadRequest, codeMaxWebhooks, "Maximum number of webhooks reached (15)")
		return
	}
	writeJSON(w, http.StatusOK, s.newHookLocked(channelID, req.Name, s.appID).wire())
}

func (s *Server) listWebhooks(w http.ResponseWriter, channelID string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.webhookChannelLocked(w, channelID) {
		return
	}
	out := []any{}
	for _, id := range s.hookOrder {
		if h := s.hooks[id]; !h.Deleted && h.ChannelID == channelID {
			out = append(out, h.wire())
		}
	}
	writeJSON(w, http.StatusOK, out)
}

// listGuildWebhooks answers GET /guilds/{id}/webhooks: the live webhooks of
// every channel of the guild.
func (s *Server) listGuildWebhooks(w http.ResponseWriter, guildID string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	known := false
	for _, c := range s.channels {
		known = known || c.GuildID == guildID
	}
	switch {
	case !known:
		writeError(w, http.StatusNotFound, codeUnknownGuild, "Unknown Guild")
		return
	case s.noGuildHooks[guildID]:
		writeError(w, http.StatusForbidden, codeMissingPermissions, "Missing Permissions")
		return
	}
	out := []any{}
	for _, id := range s.hookOrder {
		if h := s.hooks[id]; !h.Deleted && h.GuildID == guildID {
			out = append(out, h.wire())
		}
	}
	writeJSON(w, http.StatusOK, out)
}

// hookLocked finds a live webhook by id and token, and the channel the
// request's thread_id names: "" is the webhook's channel; a thread must be
// a child of it.
func (s *Server) hookLocked(w http.ResponseWriter, r *http.Request, id, token string) (h *Webhook, channel string, ok bool) {
	h, found := s.hooks[id]
	switch {
	case !found || h.Deleted:
		writeError(w, http.StatusNotFound, codeUnknownWebhook, "Unknown Webhook")
		return nil, "", false
	case h.Token != token:
		writeError(w, http.StatusUnauthorized, codeInvalidWebhookToken, "Invalid Webhook Token")
		return nil, "", false
	}
	thread := r.URL.Query().Get("thread_id")
	if thread == "" {
		return h, h.ChannelID, true
	}
	c, found := s.channels[thread]
	if !found || !isThread(c.Type) || c.ParentID != h.ChannelID {
		writeError(w, http.StatusBadRequest, codeInvalidFormBody, "Invalid Form Body: thread_id is not a thread of the webhook's channel")
		return nil, "", false
	}
	return h, thread, true
}

// webhookBody is a webhook execution body: a message body plus the
// identity.
type webhookBody struct {
	messageBody
	Username  string `json:"username"`
	AvatarURL string `json:"avatar_url"`
}

func (s *Server) executeWebhook(w http.ResponseWriter, r *http.Request, id, token string) {
	var b webhookBody
	if err := decodeBody(r, &b); err != nil {
		writeError(w, http.StatusBadRequest, codeInvalidFormBody, "Invalid Form Body")
		return
	}
	btns, ok := checkBody(w, &b.messageBody, true)
	if !ok {
		return
	}
	if b.Username != "" {
		if p := badUsername(b.Username); p != "" {
			writeError(w, http.StatusBadRequest, codeInvalidFormBody, p)
			return
		}
	}
	s.mu.Lock()
	h, ch, ok := s.hookLocked(w, r, id, token)
	if !ok {
		s.mu.Unlock()
		return
	}
	name := b.Username
	if name == "" {
		name = h.Name
	}
	m := &Message{
		ID: s.newIDLocked(), ChannelID: ch, GuildID: h.GuildID, Author: User{ID: h.ID, Username: name, Bot: true},
		WebhookID: h.ID, ApplicationID: h.ApplicationID, Username: name, AvatarURL: b.AvatarURL,
	}
	s.applyLocked(m, &b.messageBody, btns, "POST /webhooks/{id}/{token}", true)
	s.storeLocked(m)
	wire := m.wire()
	s.mu.Unlock()
	s.echo("MESSAGE_CREATE", wire)
	writePostedWire(w, r, wire)
}

// hookMessage serves GET, PATCH and DELETE /webhooks/{id}/{token}/messages/{mid}:
// like Discord, a message in a thread is found only with its thread_id.
func (s *Server) hookMessage(w http.ResponseWriter, r *http.Request, id, token, mid string) {
	b, btns, ok := readPatchBody(w, r)
	if !ok {
		return
	}
	s.mu.Lock()
	h, ch, ok := s.hookLocked(w, r, id, token)
	if !ok {
		s.mu.Unlock()
		return
	}
	m, ok := s.messages[mid]
	if !ok || m.Deleted || m.WebhookID != h.ID || m.ChannelID != ch {
		s.mu.Unlock()
		writeError(w, http.StatusNotFound, codeUnknownMessage, "Unknown Message")
		return
	}
	if r.Method != http.MethodPatch {
		s.serveMessageLocked(w, r, m, &b, btns, "PATCH /webhooks/{id}/{token}/messages/{mid}")
		s.mu.Unlock()
		return
	}
	s.answerEditLocked(w, m, &b, btns, "PATCH /webhooks/{id}/{token}/messages/{mid}")
}

func (s *Server) deleteWebhookRoute(w http.ResponseWriter, id string) {
	if !s.DeleteWebhook(id) {
		writeError(w, http.StatusNotFound, codeUnknownWebhook, "Unknown Webhook")
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
