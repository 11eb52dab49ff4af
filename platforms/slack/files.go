package slack

import (
	"context"
	"net/http"

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

// eventFiles are the files attached to a message or app_mention event.
func eventFiles(ev slackevents.EventsAPIEvent) []attach.File {
	var fs []slackapi.File
	switch inner := ev.InnerEvent.Data.(type) {
	case *slackevents.AppMentionEvent:
		fs = inner.Files
	case *slackevents.MessageEvent:
		if inner.Message != nil {
			fs = inner.Message.Files
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
