package discord

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"unicode/utf8"

	"github.com/bwmarrin/discordgo"

	"github.com/secondme-bridge/secondme-bridge/platforms"
)

// eventMessageCreate is the gateway event of a new message.
const eventMessageCreate = "MESSAGE_CREATE"

// onEvent receives every gateway dispatch, after discordgo decoded it
// (e.Struct) and ran its typed handlers, on the session's reader. The
// adapter takes MESSAGE_CREATE here rather than through a typed handler
// for the raw data (e.RawData), from which it reads what discordgo does
// not decode (forwards.go). Every other event is left to the typed
// handlers.
func (a *Adapter) onEvent(_ *discordgo.Session, e *discordgo.Event) {
	if e == nil || e.Type != eventMessageCreate {
		return
	}
	m, _ := e.Struct.(*discordgo.MessageCreate)
	a.onMessageCreate(m, e.RawData)
}

// onMessageCreate queues the message (with raw, its gateway data) on its
// channel's serial queue, so that messages in one channel reach the
// bridge in order.
func (a *Adapter) onMessageCreate(m *discordgo.MessageCreate, raw json.RawMessage) {
	if m == nil || m.Message == nil || m.ChannelID == "" {
		return
	}
	msg := m.Message
	if !a.mayConcern(msg) {
		// Dropped before the bounded queue: chatter the bridge never
		// answers (bots, webhooks, system messages, other guilds) must
		// not take its room or pause the gateway reader.
		a.skip(msg.ID)
		return
	}
	if msg.MessageReference == nil {
		raw = nil // nothing to read in it (forwards.go): not kept while queued
	}
	a.inChannel(msg.ChannelID, func() {
		ctx := a.runCtx
		ev, ok := a.messageEvent(ctx, msg, raw)
		if !ok {
			a.skip(msg.ID)
			return
		}
		a.handler.HandleEvent(ctx, ev)
	})
}

// skip reports an ignored event to the test hook.
func (a *Adapter) skip(id string) {
	if a.ignored != nil {
		a.ignored(id)
	}
}

// mayConcern is the cheap part of messageEvent's filter, with no I/O: a
// message from a person, of an ordinary kind, in a DM or an allowed guild.
func (a *Adapter) mayConcern(m *discordgo.Message) bool {
	switch {
	case m.ID == "" || m.Author == nil || m.Author.ID == "":
		return false
	case m.Author.Bot || m.Author.System || m.WebhookID != "" || m.Author.ID == a.selfID():
		return false
	case m.Type != discordgo.MessageTypeDefault && m.Type != discordgo.MessageTypeReply:
		return false
	}
	return m.GuildID == "" || a.guildAllowed(m.GuildID)
}

// messageEvent turns a gateway message (raw: its gateway data) into an
// event, or reports that the bridge should not see it. The message's
// extras are read from raw only once a message with a message_reference
// gets that far.
func (a *Adapter) messageEvent(ctx context.Context, m *discordgo.Message, raw json.RawMessage) (platforms.Event, bool) {
	self := a.selfID()
	if !a.mayConcern(m) {
		return platforms.Event{}, false
	}
	mentioned := mentionsUser(m, self)
	replyToBot := self != "" && m.ReferencedMessage != nil && m.ReferencedMessage.Author != nil &&
		m.ReferencedMessage.Author.ID == self || a.repliesToAvatar(ctx, m)
	ev := platforms.Event{
		Kind:         platforms.EventMessage,
		Platform:     platformName,
		DedupeIDs:    []string{"msg:" + m.ID},
		User:         platforms.User{ID: platforms.UserID(m.Author.ID), DisplayName: displayName(m.Author, m.Member)},
		Workspace:    platforms.WorkspaceID(m.GuildID),
		Channel:      platforms.ChannelID(m.ChannelID),
		Text:         cleanText(m, self),
		MessageID:    platforms.MessageID(m.ID),
		Addressed:    mentioned || replyToBot,
		HumanTrigger: true,
	}
	x := lazyExtras{m: m, raw: raw, log: a.log}
	if m.GuildID == "" {
		ev.DM, ev.Addressed = true, true
		return a.complete(ctx, ev, m, x.get(ctx), replyToBot), true
	}
	if !a.guildAllowed(m.GuildID) {
		return platforms.Event{}, false
	}
	ev.User.Locale = a.guildLocale(m.GuildID)
	p, ok := a.placeOf(ctx, m.ChannelID)
	switch {
	case !ok:
		return platforms.Event{}, false
	case p.inThread:
		// A follow-up in a thread: the bridge answers it only when the user
		// already has a conversation there, unless it is addressed.
		if !ev.Addressed && strings.TrimSpace(ev.Text) == "" && !carriesInputs(m, x.get(ctx)) {
			return platforms.Event{}, false
		}
		ev.Channel, ev.Thread = platforms.ChannelID(p.channel), platforms.ThreadID(p.thread)
	case !ev.Addressed:
		return platforms.Event{}, false
	case a.cfg.AutoThread && mentioned:
		// The bridge opens the thread (OpenThread) once the message is
		// admitted and the user linked; a message thread has the id of
		// its starter message.
		ev.Thread, ev.WantsThread = platforms.ThreadID(m.ID), true
	}
	return a.complete(ctx, ev, m, x.get(ctx), replyToBot), true
}

// complete fills in ev, the event of m with extras x: the message it
// replies to (a forward's reference is no reply) and its inputs.
func (a *Adapter) complete(ctx context.Context, ev platforms.Event, m *discordgo.Message, x extras, toBridge bool) platforms.Event {
	if m.MessageReference != nil && !forwarded(m, x) {
		ev.ReplyToID = platforms.MessageID(m.MessageReference.MessageID)
	}
	ev.Inputs = a.inputs(ctx, m, x, toBridge)
	return ev
}

// mentionsUser reports whether m mentions the user id.
func mentionsUser(m *discordgo.Message, id string) bool {
	if id == "" {
		return false
	}
	for _, u := range m.Mentions {
		if u != nil && u.ID == id {
			return true
		}
	}
	return strings.Contains(m.Content, "<@"+id+">") || strings.Contains(m.Content, "<@!"+id+">")
}

// displayName is the member nickname, else the global name, else the
// username.
func displayName(u *discordgo.User, member *discordgo.Member) string {
	switch {
	case member != nil && member.Nick != "":
		return member.Nick
	case u.GlobalName != "":
		return u.GlobalName
	}
	return u.Username
}

// cleanText removes the bot's mention from the content and replaces other
// user mentions by "@name" (the avatar reads names, not ids). A mention
// token is "<@id>" or "<@!id>" with the blanks (spaces, tabs) around it
// (mentionTokens).
func cleanText(m *discordgo.Message, self string) string {
	names := make(map[string]string, len(m.Mentions))
	for _, u := range m.Mentions {
		if u != nil && u.ID != "" {
			names[u.ID] = displayName(u, nil)
		}
	}
	var out strings.Builder
	last := 0
	for tok := range mentionTokens(m.Content) {
		text, id := m.Content[tok.start:tok.end], m.Content[tok.idStart:tok.idEnd]
		out.WriteString(m.Content[last:tok.start])
		last = tok.end
		switch {
		case id == self:
			out.WriteString(" ")
		case names[id] != "":
			out.WriteString(leadingBlank(text) + "@" + names[id] + trailingBlank(text))
		default:
			out.WriteString(text)
		}
	}
	out.WriteString(m.Content[last:])
	return strings.TrimSpace(out.String())
}

// mentionToken is where a user mention token lies in a text: the whole
// token with its blanks [start, end) and the id [idStart, idEnd).
type mentionToken struct{ start, end, idStart, idEnd int }

// mentionTokens yields the user mention tokens of s from left to right,
// each with the blanks before it (back to the end of the previous token)
// and after it: the matches of the regular expression
// `[ \t]*<@!?([0-9]+)>[ \t]*`, found without one. The regexp package's
// backtracker kept a 32 KiB bitmap for each message being matched, and a
// burst of mentions kept megabytes of them.
func mentionTokens(s string) func(yield func(mentionToken) bool) {
	return func(yield func(mentionToken) bool) {
		pos := 0
		for pos < len(s) {
			i := strings.Index(s[pos:], "<@")
			if i < 0 {
				return
			}
			at := pos + i
			tok, ok := mentionAt(s, at)
			if !ok {
				pos = at + 1
				continue
			}
			for tok.start > pos && isBlank(s[tok.start-1]) {
				tok.start--
			}
			if !yield(tok) {
				return
			}
			pos = tok.end
		}
	}
}

// mentionAt reads a mention token starting with the "<@" at s[at:]: an
// optional '!', at least one digit, '>', then any blanks.
func mentionAt(s string, at int) (mentionToken, bool) {
	j := at + 2
	if j < len(s) && s[j] == '!' {
		j++
	}
	tok := mentionToken{start: at, idStart: j}
	for j < len(s) && s[j] >= '0' && s[j] <= '9' {
		j++
	}
	if j == tok.idStart || j >= len(s) || s[j] != '>' {
		return mentionToken{}, false
	}
	tok.idEnd = j
	j++
	for j < len(s) && isBlank(s[j]) {
		j++
	}
	tok.end = j
	return tok, true
}

func isBlank(c byte) bool { return c == ' ' || c == '\t' }

func leadingBlank(s string) string  { return s[:len(s)-len(strings.TrimLeft(s, " \t"))] }
func trailingBlank(s string) string { return s[len(strings.TrimRight(s, " \t")):] }

// maxThreadName is Discord's limit on thread names, and threadNameRunes how
// many characters of the text an auto thread name takes.
const (
	maxThreadName   = 100
	threadNameRunes = 60
)

// threadName builds a thread name from the first words of text, or "…"
// when text has none.
func threadName(text string) string {
	words := strings.Fields(text)
	var b strings.Builder
	for _, w := range words {
		if b.Len() > 0 && utf8.RuneCountInString(b.String())+1+utf8.RuneCountInString(w) > threadNameRunes {
			break
		}
		if b.Len() > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(w)
	}
	name := b.String()
	if name == "" {
		name = "…"
	}
	if utf8.RuneCountInString(name) > maxThreadName {
		name = string([]rune(name)[:maxThreadName-1]) + "…"
	}
	return name
}

// OpenThread implements platforms.ThreadOpener: it opens a public thread
// on the message to.ReplyTo in to.Channel, named after the first words of
// name, and returns its id (the starter message's id). A thread already
// opened on that message (by another replica or a redelivery) is returned
// as it is.
func (a *Adapter) OpenThread(ctx context.Context, to platforms.Target, name string) (platforms.ThreadID, error) {
	if to.Channel == "" || to.ReplyTo == "" {
		return "", errors.New("discord: open thread: no channel or starter message")
	}
	th, err := a.s.MessageThreadStartComplex(string(to.Channel), string(to.ReplyTo), &discordgo.ThreadStart{
		Name:                threadName(name),
		AutoArchiveDuration: 1440,
	}, discordgo.WithContext(ctx))
	switch {
	case err == nil && th != nil && th.ID != "":
		a.cache.put(th.ID, chanInfo{typ: discordgo.ChannelTypeGuildPublicThread, parent: string(to.Channel)})
		return platforms.ThreadID(th.ID), nil
	case restCode(err) == codeThreadAlreadyCreated:
		return platforms.ThreadID(to.ReplyTo), nil
	case err == nil:
		return "", errors.New("discord: open thread: no thread in the answer")
	}
	return "", apiError("start thread", err)
}
