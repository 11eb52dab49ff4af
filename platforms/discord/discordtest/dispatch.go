package discordtest

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/bwmarrin/discordgo"
)

// SendMessageCreate dispatches MESSAGE_CREATE for m and remembers it (so
// replies and threads can refer to it). Empty ID, Timestamp and Author are
// filled in (ID with a new snowflake, Author with DefaultUser). A
// message_reference is sent with its type, ReferenceDefault (a reply), as
// Discord does. Sessions identified without the Message Content intent get
// guild messages without content unless they mention the bot, like
// Discord. It returns the message as dispatched.
func (s *Server) SendMessageCreate(m *discordgo.Message) (*discordgo.Message, error) {
	return s.SendMessageCreateWith(m, Extras{})
}

// SendMessageCreateWith is SendMessageCreate with the parts discordgo
// v0.28.1's Message cannot carry: the message_reference's type and the
// message_snapshots of a forward (which also gets the HAS_SNAPSHOT flag).
// x is sent as given: a reference type without a message_reference in m
// is not sent.
func (s *Server) SendMessageCreateWith(m *discordgo.Message, x Extras) (*discordgo.Message, error) {
	if m == nil {
		return nil, fmt.Errorf("send message create: nil message")
	}
	msg := *m
	s.mu.Lock()
	if msg.ID == "" {
		msg.ID = s.newIDLocked()
	}
	if msg.Timestamp.IsZero() {
		msg.Timestamp = time.Now()
	}
	if msg.Author == nil {
		msg.Author = DefaultUser.DiscordUser()
	}
	if x.ReferenceType == ReferenceForward && len(x.Snapshots) > 0 {
		msg.Flags |= flagHasSnapshot
	}
	stored := msg
	s.userMsgs[msg.ID] = &stored
	s.notifyLocked()
	s.mu.Unlock()
	full := rawJSON(newMessageCreateWire(&msg, x))
	blank := rawJSON(newMessageCreateWire(withoutContent(msg), x))
	_, err := s.dispatch("MESSAGE_CREATE", func(c *gwConn) any {
		if c.intents&discordgo.IntentMessageContent == 0 && msg.GuildID != "" && !msg.Author.Bot && !s.mentionsBot(&msg) {
			return blank
		}
		return full
	})
	if err != nil {
		return nil, err
	}
	return &msg, nil
}

// echo dispatches event (MESSAGE_CREATE or MESSAGE_UPDATE) for a message
// the bot or one of its webhooks posted or edited in a channel, as Discord
// does to every session that sees the channel, unless the server was made
// WithoutEcho. It runs before the call that caused it is answered.
func (s *Server) echo(event string, wire map[string]any) {
	if !s.noEcho {
		_, _ = s.Dispatch(event, wire)
	}
}

func (s *Server) mentionsBot(m *discordgo.Message) bool {
	for _, u := range m.Mentions {
		if u != nil && u.ID == s.botID {
			return true
		}
	}
	return false
}

func withoutContent(m discordgo.Message) *discordgo.Message {
	m.Content, m.Embeds, m.Attachments, m.Components = "", nil, nil, nil
	return &m
}

// Mention dispatches a guild message from u that mentions the bot:
// "<@BOT> text".
func (s *Server) Mention(guildID, channelID string, u User, text string) (*discordgo.Message, error) {
	return s.SendMessageCreate(&discordgo.Message{
		GuildID: guildID, ChannelID: channelID, Author: u.DiscordUser(), Type: discordgo.MessageTypeDefault,
		Content: "<@" + s.botID + "> " + text, Mentions: []*discordgo.User{s.botUser().DiscordUser()},
		Member: &discordgo.Member{},
	})
}

// Say dispatches a guild message from u without a mention.
func (s *Server) Say(guildID, channelID string, u User, text string) (*discordgo.Message, error) {
	return s.SendMessageCreate(&discordgo.Message{
		GuildID: guildID, ChannelID: channelID, Author: u.DiscordUser(), Type: discordgo.MessageTypeDefault,
		Content: text, Member: &discordgo.Member{},
	})
}

// DM dispatches a direct message from u to the bot, in their DM channel.
func (s *Server) DM(u User, text string) (*discordgo.Message, error) {
	return s.SendMessageCreate(&discordgo.Message{
		ChannelID: s.DMChannel(u.ID), Author: u.DiscordUser(), Type: discordgo.MessageTypeDefault, Content: text,
	})
}

// Reply dispatches a reply from u to message toID (a bot message or a
// message dispatched earlier), with referenced_message filled like
// Discord. It does not mention the replied author (the client's "ping"
// toggle off).
func (s *Server) Reply(guildID, channelID string, u User, toID, text string) (*discordgo.Message, error) {
	s.mu.Lock()
	var ref *discordgo.Message
	if m, ok := s.messages[toID]; ok {
		var dm discordgo.Message
		_ = json.Unmarshal(rawJSON(m.wire()), &dm)
		ref = &dm
	} else if m, ok := s.userMsgs[toID]; ok {
		cp := *m
		ref = &cp
	}
	s.mu.Unlock()
	if ref == nil {
		return nil, fmt.Errorf("reply: unknown message %s", toID)
	}
	msg := &discordgo.Message{
		GuildID: guildID, ChannelID: channelID, Author: u.DiscordUser(), Type: discordgo.MessageTypeReply, Content: text,
		MessageReference:  &discordgo.MessageReference{MessageID: toID, ChannelID: channelID, GuildID: guildID},
		ReferencedMessage: ref,
	}
	if guildID != "" {
		msg.Member = &discordgo.Member{}
	}
	return s.SendMessageCreate(msg)
}

// Interaction is an INTERACTION_CREATE to dispatch.
type Interaction struct {
	// ID and Token are generated when empty.
	ID, Token string
	// Type defaults to 2 (application command).
	Type      discordgo.InteractionType
	GuildID   string
	ChannelID string
	// User invokes it (sent as member.user in a guild, user in a DM).
	User User
	// Locale is the user's client locale; GuildLocale the guild's.
	Locale, GuildLocale string
	// Data is marshaled as "data"; nil leaves it out.
	Data any
}

// SendInteraction dispatches INTERACTION_CREATE with id, application_id
// and token, and registers the interaction so that its callback and
// webhook routes work. It returns in with ID and Token filled in.
func (s *Server) SendInteraction(in Interaction) (Interaction, error) {
	return s.sendInteraction(in, "", nil)
}

// sendInteraction dispatches in; a component interaction carries the
// clicked message (messageID, its wire form).
func (s *Server) sendInteraction(in Interaction, messageID string, message map[string]any) (Interaction, error) {
	s.mu.Lock()
	if in.ID == "" {
		in.ID = s.newIDLocked()
	}
	if in.Token == "" {
		in.Token = "fake-interaction-token-" + s.newIDLocked()
	}
	if in.Type == 0 {
		in.Type = discordgo.InteractionApplicationCommand
	}
	rec := &interaction{id: in.ID, token: in.Token, channelID: in.ChannelID, guildID: in.GuildID, dispatched: time.Now(),
		component: in.Type == discordgo.InteractionMessageComponent, messageID: messageID}
	s.interactions[in.ID] = rec
	s.byToken[in.Token] = rec
	s.mu.Unlock()
	payload := map[string]any{
		"id": in.ID, "application_id": s.appID, "type": in.Type, "token": in.Token, "version": 1,
		"channel_id": in.ChannelID, "locale": in.Locale,
		"app_permissions": "0", "entitlements": []any{},
	}
	user := map[string]any{"id": in.User.ID, "username": in.User.Username, "global_name": in.User.GlobalName, "bot": in.User.Bot}
	if in.GuildID != "" {
		payload["guild_id"] = in.GuildID
		payload["member"] = map[string]any{"user": user, "roles": []any{}}
		payload["context"] = 0
		if in.GuildLocale != "" {
			payload["guild_locale"] = in.GuildLocale
		}
	} else {
		payload["user"] = user
		payload["context"] = 1
	}
	if in.Data != nil {
		payload["data"] = in.Data
	}
	if message != nil {
		payload["message"] = message
	}
	if _, err := s.Dispatch("INTERACTION_CREATE", payload); err != nil {
		return in, err
	}
	return in, nil
}

// SlashCommand dispatches a slash command with string options.
func (s *Server) SlashCommand(guildID, channelID string, u User, name string, options map[string]string) (Interaction, error) {
	names := make([]string, 0, len(options))
	for k := range options {
		names = append(names, k)
	}
	sort.Strings(names)
	opts := make([]any, 0, len(names))
	for _, k := range names {
		opts = append(opts, map[string]any{"name": k, "type": 3, "value": options[k]})
	}
	return s.SendInteraction(Interaction{
		GuildID: guildID, ChannelID: channelID, User: u, Locale: "en-US",
		Data: map[string]any{"id": s.commandID(name), "name": name, "type": 1, "options": opts},
	})
}

// MessageCommand dispatches a message context-menu command on target.
func (s *Server) MessageCommand(guildID, channelID string, u User, name string, target *discordgo.Message) (Interaction, error) {
	if target == nil {
		return Interaction{}, fmt.Errorf("message command: nil target")
	}
	return s.SendInteraction(Interaction{
		GuildID: guildID, ChannelID: channelID, User: u, Locale: "en-US",
		Data: map[string]any{
			"id": s.commandID(name), "name": name, "type": 3, "target_id": target.ID,
			"resolved": map[string]any{"messages": map[string]any{target.ID: target}},
		},
	})
}

// commandID returns the id of a registered command, or a made-up one.
func (s *Server) commandID(name string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, cmds := range s.commands {
		for _, c := range cmds {
			if strings.EqualFold(c.Name, name) {
				return c.ID
			}
		}
	}
	return s.newIDLocked()
}
