package demo

import (
	"cmp"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/bwmarrin/discordgo"

	"github.com/secondme-bridge/secondme-bridge/platforms/discord/discordtest"
)

// typingLasts is how long Discord shows a typing indicator after a
// POST /channels/{id}/typing, unless the bot posts first.
const typingLasts = 10 * time.Second

// View is the channel as the demo user sees it, sent to the page as JSON.
type View struct {
	Channel  string            `json:"channel"`
	Messages []ViewMessage     `json:"messages"`
	Typing   bool              `json:"typing"`
	Names    map[string]string `json:"names"` // user id → display name, for <@id>
}

// ViewMessage is one message of the channel.
type ViewMessage struct {
	ID        string       `json:"id"`
	Author    string       `json:"author"`
	Bot       bool         `json:"bot"`
	Content   string       `json:"content"`
	Edits     int          `json:"edits"`
	Ephemeral bool         `json:"ephemeral"`
	Loading   bool         `json:"loading"` // an interaction's "is thinking…"
	ReplyTo   string       `json:"reply_to,omitempty"`
	Buttons   []ViewButton `json:"buttons,omitempty"`
}

// ViewButton is a link button.
type ViewButton struct {
	Label string `json:"label"`
	URL   string `json:"url"`
}

// timeline keeps the demo user's own messages (the fake Discord records
// only the bot's) and builds the View from both.
type timeline struct {
	env *Env
	mu  sync.Mutex
	own []*discordgo.Message
}

func (t *timeline) add(m *discordgo.Message) {
	t.mu.Lock()
	t.own = append(t.own, m)
	t.mu.Unlock()
}

// view builds the current View at now.
func (t *timeline) view(now time.Time) View {
	dc := t.env.DC
	v := View{Channel: "general", Names: map[string]string{dc.BotID(): discordtest.DefaultBotName, User.ID: User.GlobalName}}
	t.mu.Lock()
	for _, m := range t.own {
		v.Messages = append(v.Messages, ViewMessage{ID: m.ID, Author: User.GlobalName, Content: m.Content})
	}
	t.mu.Unlock()
	var lastBot time.Time
	for _, m := range dc.MessagesIn(ChannelID) {
		vm := ViewMessage{
			ID: m.ID, Author: discordtest.DefaultBotName, Bot: true, Content: m.Content, Edits: m.Edits,
			Ephemeral: m.Ephemeral, Loading: m.Flags&int(discordgo.MessageFlagsLoading) != 0, ReplyTo: m.ReplyTo,
		}
		for _, b := range m.Buttons {
			// Only web links become anchors on the page.
			if strings.HasPrefix(b.URL, "http://") || strings.HasPrefix(b.URL, "https://") {
				vm.Buttons = append(vm.Buttons, ViewButton{Label: b.Label, URL: b.URL})
			}
		}
		v.Messages = append(v.Messages, vm)
		if m.InteractionID == "" && m.Created.After(lastBot) {
			lastBot = m.Created
		}
	}
	// Snowflakes of one server sort by creation: longer is later, then
	// lexically.
	slices.SortStableFunc(v.Messages, func(a, b ViewMessage) int {
		return cmp.Or(cmp.Compare(len(a.ID), len(b.ID)), strings.Compare(a.ID, b.ID))
	})
	if calls := dc.CallsTo("POST", "/channels/"+ChannelID+"/typing"); len(calls) > 0 {
		at := calls[len(calls)-1].At
		v.Typing = at.After(lastBot) && now.Sub(at) < typingLasts
	}
	return v
}
