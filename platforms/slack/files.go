package slack

import (
	"cmp"
	"context"
	"net/http"
	"strings"

	slackapi "github.com/slack-go/slack"
	"github.com/slack-go/slack/slackevents"

	"github.com/secondme-bridge/secondme-bridge/platforms"
	"github.com/secondme-bridge/secondme-bridge/platforms/attach"
)

// fileHosts are Slack's private file hosts (url_private): files are read
// only from them, with the bot token (scope files:read).
var fileHosts = []string{"files.slack.com"}

// fileAccess is where the adapter may download files from. Tests point it
// at their fake (127.0.0.1, plain http); no configuration can.
type fileAccess struct {
	hosts     []string
	allowHTTP bool
}

// subtypeFileShare is the subtype of a message with files.
const subtypeFileShare = "file_share"

// eventParts are the files and message attachments of a message or
// app_mention event.
func eventParts(ev slackevents.EventsAPIEvent) ([]slackapi.File, []slackapi.Attachment) {
	switch inner := ev.InnerEvent.Data.(type) {
	case *slackevents.AppMentionEvent:
		return inner.Files, inner.Attachments
	case *slackevents.MessageEvent:
		if inner.Message != nil {
			return inner.Message.Files, inner.Message.Attachments
		}
	}
	return nil, nil
}

// shared reports whether a message attachment is a forwarded (shared) or
// unfurled message.
func shared(a slackapi.Attachment) bool { return a.IsShare || a.IsMsgUnfurl }

// eventQuotes are the messages an event forwards (Slack "share message":
// an attachment with is_share), with their author, as context.
func eventQuotes(ev slackevents.EventsAPIEvent) []platforms.Quote {
	_, atts := eventParts(ev)
	var out []platforms.Quote
	for _, a := range atts {
		if !shared(a) {
			continue
		}
		text := strings.TrimSpace(plainText(cmp.Or(a.Text, a.Fallback), ""))
		if text == "" {
			continue
		}
		out = append(out, platforms.Quote{Kind: platforms.QuoteForward, Author: cmp.Or(a.AuthorName, a.AuthorSubname), Text: text})
	}
	return out
}

// eventFiles are the files attached to a message or app_mention event and
// to the messages it forwards.
func eventFiles(ev slackevents.EventsAPIEvent) []attach.File {
	fs, atts := eventParts(ev)
	for _, a := range atts {
		if shared(a) {
			fs = append(fs, a.Files...)
		}
	}
	out := make([]attach.File, 0, len(fs))
	for _, f := range fs {
		name := f.Name
		if name == "" {
			name = f.Title
		}
		out = append(out, attach.File{Name: name, ContentType: f.Mimetype, Size: int64(f.Size), URL: f.URLPrivate})
	}
	return out
}

// readFiles downloads the text files of an event from Slack with the bot
// token of team. Without a token every file is reported not read.
func (a *Adapter) readFiles(ctx context.Context, team string, files []attach.File) []platforms.Attachment {
	if len(files) == 0 {
		return nil
	}
	token, err := a.botTokenFor(ctx, team)
	if err != nil || token == "" {
		a.log.WarnContext(ctx, "slack files not read: no bot token for the workspace", "team", team, "error", err)
		out := make([]platforms.Attachment, len(files))
		for i, f := range files {
			out[i] = platforms.Attachment{Name: f.Name, ContentType: f.ContentType, Size: f.Size, NotRead: platforms.NotReadFailed}
		}
		return out
	}
	r := &attach.Reader{
		Client: a.cfg.httpClient(), MaxBytes: a.cfg.MaxAttachmentBytes,
		Hosts: a.files.hosts, AllowHTTP: a.files.allowHTTP,
		Header: http.Header{"Authorization": {"Bearer " + token}},
	}
	return r.Read(ctx, files)
}

// botTokenFor is the bot token that acts in team: the configured one for
// its own workspace, the installed one for another.
func (a *Adapter) botTokenFor(ctx context.Context, team string) (string, error) {
	if a.cfg.Install == nil || a.ownTeam(team) {
		return a.cfg.BotToken, nil
	}
	e, err := a.workspace(ctx, team)
	if err != nil {
		return "", err
	}
	return e.token, nil
}
