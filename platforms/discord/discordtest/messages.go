package discordtest

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"time"
	"unicode/utf8"
)

// Message is a message the bot posted (through a channel or an interaction
// webhook), with its current state and history.
type Message struct {
	ID, ChannelID, GuildID string
	Author                 User
	// Content is the current text; History holds the text after the create
	// and after each edit.
	Content string
	History []string
	Buttons []Button
	Flags   int
	// ReplyTo is message_reference.message_id of the create ("" if none).
	ReplyTo string
	// Edits counts the PATCHes.
	Edits int
	// AllowedMentions holds the allowed_mentions of the create and of every
	// edit, in order (nil entries when a body had none).
	AllowedMentions []json.RawMessage
	Deleted         bool
	// InteractionID is set for interaction responses and follow-ups.
	InteractionID string
	// Original marks an interaction's @original response.
	Original bool
	// Ephemeral marks a message only the invoking user sees.
	Ephemeral bool
	// WebhookID, ApplicationID, Username and AvatarURL are set for a
	// message posted through a channel webhook (Username is the name it
	// shows, AvatarURL its picture).
	WebhookID, ApplicationID, Username, AvatarURL string
	Created, Updated                              time.Time
}

// Button is a message button.
type Button struct {
	Label, URL, CustomID string
	Style                int
}

// Message flags the fake uses.
const (
	flagEphemeral = 1 << 6
	flagLoading   = 1 << 7
)

func (m *Message) clone() Message {
	c := *m
	c.History = slices.Clone(m.History)
	c.Buttons = slices.Clone(m.Buttons)
	c.AllowedMentions = slices.Clone(m.AllowedMentions)
	return c
}

// wire is the JSON form of m, as Discord returns it.
func (m *Message) wire() map[string]any {
	rows := []any{}
	for i := 0; i < len(m.Buttons); i += 5 {
		var btns []any
		for _, b := range m.Buttons[i:min(i+5, len(m.Buttons))] {
			btn := map[string]any{"type": 2, "style": b.Style, "label": b.Label}
			if b.URL != "" {
				btn["url"] = b.URL
			}
			if b.CustomID != "" {
				btn["custom_id"] = b.CustomID
			}
			btns = append(btns, btn)
		}
		rows = append(rows, map[string]any{"type": 1, "components": btns})
	}
	out := map[string]any{
		"id": m.ID, "channel_id": m.ChannelID, "content": m.Content, "type": 0, "flags": m.Flags,
		"author":     map[string]any{"id": m.Author.ID, "username": m.Author.Username, "bot": m.Author.Bot},
		"timestamp":  m.Created.UTC().Format(time.RFC3339Nano),
		"components": rows, "mentions": []any{}, "embeds": []any{}, "attachments": []any{},
	}
	if m.GuildID != "" {
		out["guild_id"] = m.GuildID
	}
	if m.WebhookID != "" {
		out["webhook_id"], out["application_id"] = m.WebhookID, m.ApplicationID
		out["author"] = map[string]any{"id": m.WebhookID, "username": m.Username, "bot": true, "avatar": nil}
	}
	if m.ReplyTo != "" {
		out["type"] = 19
		out["message_reference"] = map[string]any{"type": ReferenceDefault, "message_id": m.ReplyTo, "channel_id": m.ChannelID}
	}
	if !m.Edited().IsZero() {
		out["edited_timestamp"] = m.Updated.UTC().Format(time.RFC3339Nano)
	}
	return out
}

// Edited is the time of the last edit, or the zero time.
func (m Message) Edited() time.Time {
	if m.Edits == 0 {
		return time.Time{}
	}
	return m.Updated
}

// messageBody is the part of a create/edit body the fake understands.
type messageBody struct {
	Content         *string         `json:"content"`
	Components      *[]component    `json:"components"`
	AllowedMentions json.RawMessage `json:"allowed_mentions"`
	Flags           int             `json:"flags"`
	Embeds          []any           `json:"embeds"`
	Reference       *struct {
		MessageID       string `json:"message_id"`
		ChannelID       string `json:"channel_id"`
		FailIfNotExists *bool  `json:"fail_if_not_exists"`
	} `json:"message_reference"`
}

type component struct {
	Type       int         `json:"type"`
	Style      int         `json:"style"`
	Label      string      `json:"label"`
	URL        string      `json:"url"`
	CustomID   string      `json:"custom_id"`
	Components []component `json:"components"`
}

// validate checks a body like Discord does: at most 2000 characters,
// well-formed link buttons, and (for creates) not empty. It returns the
// body's buttons, for applyLocked.
func (b *messageBody) validate(create bool) ([]Button, error) {
	if b.Content != nil && utf8.RuneCountInString(*b.Content) > 2000 {
		return nil, fmt.Errorf("content: must be 2000 or fewer in length")
	}
	btns, err := b.buttons()
	if err != nil {
		return nil, err
	}
	if create && (b.Content == nil || *b.Content == "") && (b.Components == nil || len(*b.Components) == 0) && len(b.Embeds) == 0 {
		return nil, errEmptyMessage
	}
	return btns, nil
}

// checkBody validates b; on failure it answers 400 (code 50006 for an empty
// message, 50035 otherwise) and returns false.
func checkBody(w http.ResponseWriter, b *messageBody, create bool) ([]Button, bool) {
	btns, err := b.validate(create)
	if err != nil {
		code := codeInvalidFormBody
		if errors.Is(err, errEmptyMessage) {
			code = codeEmptyMessage
		}
		writeError(w, http.StatusBadRequest, code, err.Error())
		return nil, false
	}
	return btns, true
}

// readMessageBody decodes and validates a create (create = true) or edit
// body; on failure it answers 400 and returns false.
func readMessageBody(w http.ResponseWriter, r *http.Request, create bool) (messageBody, []Button, bool) {
	var b messageBody
	if err := decodeBody(r, &b); err != nil {
		writeError(w, http.StatusBadRequest, codeInvalidFormBody, "Invalid Form Body")
		return messageBody{}, nil, false
	}
	btns, ok := checkBody(w, &b, create)
	return b, btns, ok
}

var errEmptyMessage = fmt.Errorf("cannot send an empty message")

// buttons flattens the action rows.
func (b *messageBody) buttons() ([]Button, error) {
	if b.Components == nil {
		return nil, nil
	}
	rows := *b.Components
	if len(rows) > 5 {
		return nil, fmt.Errorf("components: at most 5 action rows")
	}
	var out []Button
	for _, row := range rows {
		if row.Type != 1 || len(row.Components) == 0 || len(row.Components) > 5 {
			return nil, fmt.Errorf("components: an action row holds 1 to 5 components")
		}
		for _, c := range row.Components {
			if c.Type != 2 {
				return nil, fmt.Errorf("components: only buttons are supported by the fake")
			}
			if c.Style == 5 && (c.URL == "" || c.CustomID != "") {
				return nil, fmt.Errorf("components: a link button needs a url and no custom_id")
			}
			if c.Style != 5 && (c.CustomID == "" || len(c.CustomID) > maxCustomID) {
				return nil, fmt.Errorf("components: a non-link button needs a custom_id of 1 to %d characters", maxCustomID)
			}
			if c.Label == "" || utf8.RuneCountInString(c.Label) > 80 {
				return nil, fmt.Errorf("components: a button label has 1 to 80 characters")
			}
			out = append(out, Button{Label: c.Label, URL: c.URL, CustomID: c.CustomID, Style: c.Style})
		}
	}
	return out, nil
}

// pingProblem returns why allowed_mentions could ping someone, or "".
func pingProblem(raw json.RawMessage) string {
	if len(raw) == 0 || string(raw) == "null" {
		return "allowed_mentions missing"
	}
	var am struct {
		Parse       *[]string `json:"parse"`
		Users       []string  `json:"users"`
		Roles       []string  `json:"roles"`
		RepliedUser bool      `json:"replied_user"`
	}
	if err := json.Unmarshal(raw, &am); err != nil {
		return "allowed_mentions malformed"
	}
	switch {
	case am.Parse == nil:
		return "allowed_mentions.parse missing"
	case len(*am.Parse) > 0:
		return fmt.Sprintf("allowed_mentions.parse = %v", *am.Parse)
	case len(am.Users) > 0 || len(am.Roles) > 0:
		return "allowed_mentions lists users or roles"
	case am.RepliedUser:
		return "allowed_mentions.replied_user = true"
	}
	return ""
}

// applyLocked creates or updates a message from a validated body and its
// buttons (from validate) and records the allowed_mentions check for route.
func (s *Server) applyLocked(m *Message, b *messageBody, btns []Button, route string, create bool) {
	now := time.Now()
	if p := pingProblem(b.AllowedMentions); p != "" {
		s.violations = append(s.violations, fmt.Sprintf("%s (message %s): %s", route, m.ID, p))
	}
	m.AllowedMentions = append(m.AllowedMentions, b.AllowedMentions)
	if b.Content != nil {
		m.Content = *b.Content
	}
	if b.Components != nil {
		m.Buttons = btns
	}
	if create {
		m.Created = now
	} else {
		m.Edits++
		m.Flags &^= flagLoading
	}
	m.Updated = now
	m.History = append(m.History, m.Content)
	s.notifyLocked()
}

// storeLocked adds a new bot message.
func (s *Server) storeLocked(m *Message) {
	s.messages[m.ID] = m
	s.order = append(s.order, m.ID)
}
