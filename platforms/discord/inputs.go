package discord

import (
	"context"
	"net/http"
	"strings"

	"github.com/bwmarrin/discordgo"

	"github.com/secondme-bridge/secondme-bridge/platforms"
	"github.com/secondme-bridge/secondme-bridge/platforms/attach"
)

// cdnHosts are Discord's file hosts: attachments are read only from them.
var cdnHosts = []string{"cdn.discordapp.com", "media.discordapp.net"}

// newAttachmentReader reads attachments from Discord's CDN with the
// configured bound. Tests point it at their fake by changing Hosts and
// AllowHTTP on the adapter; no configuration can.
func newAttachmentReader(cfg Config) *attach.Reader {
	var client *http.Client
	if cfg.HTTPClient != nil {
		cp := *cfg.HTTPClient
		client = &cp
	}
	return &attach.Reader{Client: client, MaxBytes: cfg.MaxAttachmentBytes, Hosts: cdnHosts}
}

// forwarded reports whether m, with its extras x, forwards another
// message.
func forwarded(m *discordgo.Message, x extras) bool {
	return m.MessageReference != nil && x.refType == referenceForward
}

// carriesInputs reports whether m brings anything besides its text.
func carriesInputs(m *discordgo.Message, x extras) bool {
	return len(m.Attachments) > 0 || len(x.snapshots) > 0
}

// quotes are the messages m brings along as context: the forwarded
// messages, and the message it replies to when that is someone else's (a
// reply to the bot or to an avatar is the conversation itself).
func quotes(m *discordgo.Message, x extras, toBridge bool) []platforms.Quote {
	var out []platforms.Quote
	for _, s := range x.snapshots {
		if strings.TrimSpace(s.Content) != "" {
			out = append(out, platforms.Quote{Kind: platforms.QuoteForward, Text: s.Content})
		}
	}
	rm := m.ReferencedMessage
	if !toBridge && !forwarded(m, x) && rm != nil && strings.TrimSpace(rm.Content) != "" {
		q := platforms.Quote{Kind: platforms.QuoteReply, Text: rm.Content}
		if rm.Author != nil {
			q.Author = displayName(rm.Author, rm.Member)
		}
		out = append(out, q)
	}
	return out
}

// files are m's attachments and those of the messages it forwards.
func files(m *discordgo.Message, x extras) []attach.File {
	var out []attach.File
	add := func(as []*discordgo.MessageAttachment) {
		for _, a := range as {
			if a != nil {
				out = append(out, attach.File{Name: a.Filename, ContentType: a.ContentType, Size: int64(a.Size), URL: a.URL})
			}
		}
	}
	add(m.Attachments)
	for _, s := range x.snapshots {
		add(s.Attachments)
	}
	return out
}

// inputs builds Event.Inputs of m: quotes, and the attachments read from
// Discord's CDN.
func (a *Adapter) inputs(ctx context.Context, m *discordgo.Message, x extras, toBridge bool) platforms.Inputs {
	return platforms.Inputs{Attachments: a.files.Read(ctx, files(m, x)), Quotes: quotes(m, x, toBridge)}
}
