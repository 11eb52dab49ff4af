package slack

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"time"

	slackapi "github.com/slack-go/slack"

	"github.com/secondme-bridge/secondme-bridge/platforms"
)

// Slack's limits on link buttons.
const (
	maxButtons     = 25
	maxButtonLabel = 75
	maxButtonURL   = 3000
)

// errNotEditable is returned for messages Slack offers no way to change.
var errNotEditable = errors.New("slack: ephemeral messages cannot be edited or deleted")

// content is a message rendered for Slack: a markdown block (Markdown
// rendered by Slack itself, no mrkdwn conversion), link buttons, and the
// plain fallback text for notifications.
type content struct {
	text   string
	blocks []slackapi.Block
	as     *platforms.Persona // post under this identity (see personaOptions)
}

func render(m platforms.Message) (content, error) {
	if runeCount(m.Text) > MaxMessageChars {
		return content{}, platforms.ErrTooLong
	}
	if m.Text == "" && len(m.Buttons) == 0 {
		return content{}, errors.New("slack: empty message")
	}
	text := neutralize(m.Text)
	var blocks []slackapi.Block
	if text != "" {
		blocks = append(blocks, slackapi.NewMarkdownBlock("", text))
	}
	if len(m.Buttons) > 0 {
		if len(m.Buttons) > maxButtons {
			return content{}, fmt.Errorf("slack: %d buttons, at most %d", len(m.Buttons), maxButtons)
		}
		var elems []slackapi.BlockElement
		for i, b := range m.Buttons {
			u, err := url.Parse(b.URL)
			if err != nil || (u.Scheme != "https" && u.Scheme != "http") || len(b.URL) > maxButtonURL {
				return content{}, fmt.Errorf("slack: button %d: URL must be http(s) and at most %d bytes", i+1, maxButtonURL)
			}
			label := neutralize(b.Label)
			if runeCount(label) > maxButtonLabel {
				label = string([]rune(label)[:maxButtonLabel-1]) + "…"
			}
			elems = append(elems, slackapi.NewButtonBlockElement(fmt.Sprintf("link_%d", i), "link",
				slackapi.NewTextBlockObject(slackapi.PlainTextType, label, false, false)).WithURL(b.URL))
		}
		blocks = append(blocks, slackapi.NewActionBlock("links", elems...))
		if text == "" {
			text = neutralize(m.Buttons[0].Label)
		}
	}
	if m.Stop != nil {
		// The final edit has no Stop: chat.update replaces the blocks, and
		// the button is gone.
		b, err := stopBlock(m.Stop)
		if err != nil {
			return content{}, err
		}
		blocks = append(blocks, b)
	}
	return content{text: text, blocks: blocks, as: platforms.PersonaOf(m)}, nil
}

// options are the options posting c, in thread when it is not "".
func (c content) options(thread string) []slackapi.MsgOption {
	opts := []slackapi.MsgOption{
		slackapi.MsgOptionText(c.text, false),
		slackapi.MsgOptionBlocks(c.blocks...),
		slackapi.MsgOptionDisableLinkUnfurl(),
		slackapi.MsgOptionDisableMediaUnfurl(),
	}
	if thread != "" {
		opts = append(opts, slackapi.MsgOptionTS(thread))
	}
	return append(opts, personaOptions(c.as)...)
}

// Send posts m with chat.postMessage (in to.Thread when set) and returns its
// reference. With to.Interaction set it answers the slash command or
// shortcut: privately through its response_url when to.Ephemeral, otherwise
// as a normal message in the channel, falling back to a public response_url
// answer when the bot is not in that channel. Errors: platforms.ErrTooLong
// above 3,900 characters, *platforms.RateLimitError on 429.
func (a *Adapter) Send(ctx context.Context, to platforms.Target, m platforms.Message) (platforms.MessageRef, error) {
	c, err := render(m)
	if err != nil {
		return platforms.MessageRef{}, fmt.Errorf("send slack message: %w", err)
	}
	if to.Interaction != "" {
		return a.answer(ctx, to, c)
	}
	return a.post(ctx, to, c)
}

func (a *Adapter) post(ctx context.Context, to platforms.Target, c content) (platforms.MessageRef, error) {
	if to.Channel == "" {
		return platforms.MessageRef{}, errors.New("send slack message: no channel")
	}
	api, err := a.apiFor(ctx, a.team(string(to.Workspace)))
	if err != nil {
		return platforms.MessageRef{}, fmt.Errorf("send slack message: %w", err)
	}
	ch, ts, err := api.PostMessageContext(ctx, string(to.Channel), c.options(string(to.Thread))...)
	if err != nil {
		return platforms.MessageRef{}, fmt.Errorf("send slack message: %w", apiError(err))
	}
	return platforms.MessageRef{Channel: platforms.ChannelID(ch), ID: platforms.MessageID(ts), Extra: refExtra{kind: refMessage, team: a.team(string(to.Workspace))}.String()}, nil
}

// notInChannel are postMessage errors after which a slash command is
// answered through its response_url instead.
var notInChannel = map[string]bool{"not_in_channel": true, "channel_not_found": true, "is_archived": true}

func (a *Adapter) answer(ctx context.Context, to platforms.Target, c content) (platforms.MessageRef, error) {
	in, err := a.sealer.open(to.Interaction, time.Now())
	if err != nil {
		return platforms.MessageRef{}, fmt.Errorf("answer slack interaction: %w", err)
	}
	if to.Channel == "" {
		to.Channel = platforms.ChannelID(in.Channel)
	}
	if to.Workspace == "" {
		to.Workspace = platforms.WorkspaceID(in.Team)
	}
	if !to.Ephemeral {
		ref, err := a.post(ctx, to, c)
		if err == nil || !notInChannel[slackErrorCode(err)] || in.ResponseURL == "" {
			return ref, err
		}
	}
	in.ResponseType = "ephemeral"
	if !to.Ephemeral {
		in.ResponseType = "in_channel"
	}
	if in.ResponseURL == "" { // not expected from Slack; answer privately in the channel
		if to.User == "" {
			to.User = platforms.UserID(in.User)
		}
		if err := a.postEphemeral(ctx, to, c); err != nil {
			return platforms.MessageRef{}, fmt.Errorf("answer slack interaction: %w", err)
		}
		return platforms.MessageRef{Channel: to.Channel, Extra: refExtra{kind: refEphemeral, team: a.team(string(to.Workspace))}.String()}, nil
	}
	err = a.client.postResponse(ctx, in.ResponseURL, responseMessage{Text: c.text, Blocks: c.blocks, ResponseType: in.ResponseType})
	if err != nil {
		return platforms.MessageRef{}, fmt.Errorf("answer slack interaction: %w", err)
	}
	h, err := a.sealer.seal(in)
	if err != nil {
		return platforms.MessageRef{}, fmt.Errorf("answer slack interaction: %w", err)
	}
	return platforms.MessageRef{Channel: platforms.ChannelID(in.Channel), Extra: refExtra{kind: refResponse, team: a.team(in.Team), handle: h}.String()}, nil
}

// Edit replaces the text of ref: chat.update for messages and finished
// streams, replace_original through the response_url for interaction
// answers (Slack allows five posts per response_url; see UpdateBudgets).
// It never retries a 429: it returns *platforms.RateLimitError.
func (a *Adapter) Edit(ctx context.Context, ref platforms.MessageRef, m platforms.Message) (platforms.MessageRef, error) {
	c, err := render(m)
	if err != nil {
		return ref, fmt.Errorf("edit slack message: %w", err)
	}
	r := parseRef(ref.Extra)
	switch r.kind {
	case refResponse:
		in, err := a.sealer.open(r.handle, time.Now())
		if err != nil {
			return ref, fmt.Errorf("edit slack message: %w", err)
		}
		msg := responseMessage{Text: c.text, Blocks: c.blocks, ResponseType: in.ResponseType, ReplaceOriginal: true}
		if err := a.client.postResponse(ctx, in.ResponseURL, msg); err != nil {
			return ref, fmt.Errorf("edit slack message: %w", err)
		}
		return ref, nil
	case refEphemeral:
		return ref, fmt.Errorf("edit slack message: %w", errNotEditable)
	}
	if ref.Channel == "" || ref.ID == "" {
		return ref, errors.New("edit slack message: incomplete message reference")
	}
	api, err := a.apiFor(ctx, a.team(r.team))
	if err != nil {
		return ref, fmt.Errorf("edit slack message: %w", err)
	}
	if _, _, _, err := api.UpdateMessageContext(ctx, string(ref.Channel), string(ref.ID),
		append([]slackapi.MsgOption{slackapi.MsgOptionText(c.text, false), slackapi.MsgOptionBlocks(c.blocks...)}, personaOptions(c.as)...)...); err != nil {
		return ref, fmt.Errorf("edit slack message: %w", apiError(err))
	}
	return ref, nil
}

// Delete deletes ref (chat.delete, or delete_original through the
// response_url).
func (a *Adapter) Delete(ctx context.Context, ref platforms.MessageRef) error {
	r := parseRef(ref.Extra)
	switch r.kind {
	case refResponse:
		in, err := a.sealer.open(r.handle, time.Now())
		if err != nil {
			return fmt.Errorf("delete slack message: %w", err)
		}
		if err := a.client.postResponse(ctx, in.ResponseURL, responseMessage{DeleteOriginal: true}); err != nil {
			return fmt.Errorf("delete slack message: %w", err)
		}
		return nil
	case refEphemeral:
		return fmt.Errorf("delete slack message: %w", errNotEditable)
	}
	api, err := a.apiFor(ctx, a.team(r.team))
	if err != nil {
		return fmt.Errorf("delete slack message: %w", err)
	}
	if _, _, err := api.DeleteMessageContext(ctx, string(ref.Channel), string(ref.ID)); err != nil {
		return fmt.Errorf("delete slack message: %w", apiError(err))
	}
	return nil
}

// SendEphemeral sends m so that only to.User sees it: through the
// interaction's response_url when to.Interaction is set, otherwise with
// chat.postEphemeral in to.Channel (and to.Thread).
func (a *Adapter) SendEphemeral(ctx context.Context, to platforms.Target, m platforms.Message) error {
	c, err := render(m)
	if err != nil {
		return fmt.Errorf("send slack ephemeral message: %w", err)
	}
	if to.Interaction != "" {
		to.Ephemeral = true
		if _, err := a.answer(ctx, to, c); err != nil {
			return fmt.Errorf("send slack ephemeral message: %w", err)
		}
		return nil
	}
	if err := a.postEphemeral(ctx, to, c); err != nil {
		return fmt.Errorf("send slack ephemeral message: %w", err)
	}
	return nil
}

func (a *Adapter) postEphemeral(ctx context.Context, to platforms.Target, c content) error {
	if to.Channel == "" || to.User == "" {
		return errors.New("chat.postEphemeral: channel and user required")
	}
	api, err := a.apiFor(ctx, a.team(string(to.Workspace)))
	if err != nil {
		return err
	}
	if _, err := api.PostEphemeralContext(ctx, string(to.Channel), string(to.User), c.options(string(to.Thread))...); err != nil {
		return apiError(err)
	}
	return nil
}

// team is the workspace of a target, defaulting to the bot's own.
func (a *Adapter) team(workspace string) string {
	if workspace != "" {
		return workspace
	}
	return a.identity().TeamID
}
