package slack

import (
	"context"
	"net/url"
	"strings"
	"unicode/utf8"

	slackapi "github.com/slack-go/slack"

	"github.com/secondme-bridge/secondme-bridge/platforms"
)

// Compile-time check: the adapter streams under a persona.
var _ platforms.PersonaStreamer = (*Adapter)(nil)

// maxUsername is the longest username Slack shows for a message.
const maxUsername = 80

// personaOptions are the options posting under persona p (username and icon_url,
// which need the chat:write.customize scope), or none for the bot. Slack
// has no forbidden names, but a name is one line of at most 80 characters.
func personaOptions(p *platforms.Persona) []slackapi.MsgOption {
	if p == nil {
		return nil
	}
	name := strings.Join(strings.Fields(p.Name), " ")
	if utf8.RuneCountInString(name) > maxUsername {
		name = string([]rune(name)[:maxUsername-1]) + "…"
	}
	if name == "" {
		return nil
	}
	opts := []slackapi.MsgOption{slackapi.MsgOptionUsername(name)}
	if u, err := url.Parse(p.AvatarURL); err == nil && (u.Scheme == "https" || u.Scheme == "http") && u.Host != "" {
		opts = append(opts, slackapi.MsgOptionIconURL(p.AvatarURL))
	}
	return opts
}

// StartStreamAs is StartStream under persona as (nil: the bot):
// chat.startStream carries username and icon_url; the appends and the stop
// keep them.
func (a *Adapter) StartStreamAs(ctx context.Context, to platforms.Target, text string, as *platforms.Persona) (platforms.MessageRef, error) {
	return a.startStream(ctx, to, text, as)
}
