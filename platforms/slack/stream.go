package slack

import (
	"context"
	"fmt"

	slackapi "github.com/slack-go/slack"

	"github.com/secondme-bridge/secondme-bridge/platforms"
)

// maxStreamChunk is the most markdown_text one streaming call takes.
const maxStreamChunk = 12000

// streamOffCodes mean native streaming cannot work in this workspace: the
// adapter latches it off there.
var streamOffCodes = map[string]bool{
	"unknown_method": true, "feature_not_enabled": true, "channel_type_not_supported": true,
	"not_allowed_token_type": true, "missing_scope": true, "method_deprecated": true,
	"not_supported": true, "team_not_supported": true,
}

// recipientCodes mean this target cannot be streamed to (a bot or workflow
// recipient): the bridge falls back for this reply, the workspace is not
// latched.
var recipientCodes = map[string]bool{
	"invalid_recipient": true, "missing_recipient_user_id": true, "missing_recipient_team_id": true,
	"user_not_found": true, "not_human_user": true, "invalid_thread_ts": true,
}

// haltedCodes mean this stream message no longer streams: Slack halted it
// (the user pressed the native stop of the agent view) or it was stopped
// already. The bridge falls back to chat.update for the rest of the reply
// (the text so far and its notice); nothing is latched.
var haltedCodes = map[string]bool{"message_not_in_streaming_state": true}

// CanStream reports whether a native stream can answer to: native streaming
// enabled and not latched off for to.Workspace, a thread to stream into, and
// a human recipient (U… or W…). No I/O.
func (a *Adapter) CanStream(to platforms.Target) bool {
	if !a.cfg.NativeStreaming || to.Thread == "" || !isHumanUser(string(to.User)) || to.Channel == "" {
		return false
	}
	a.latchMu.Lock()
	defer a.latchMu.Unlock()
	return !a.streamOff[a.team(string(to.Workspace))]
}

// StartStream opens a native stream in to.Thread (chat.startStream, with the
// recipient ids outside DMs) with text as its first Markdown.
func (a *Adapter) StartStream(ctx context.Context, to platforms.Target, text string) (platforms.MessageRef, error) {
	return a.startStream(ctx, to, text, nil)
}

func (a *Adapter) startStream(ctx context.Context, to platforms.Target, text string, as *platforms.Persona) (platforms.MessageRef, error) {
	team := a.team(string(to.Workspace))
	if !a.CanStream(to) {
		return platforms.MessageRef{}, fmt.Errorf("start slack stream: %w", platforms.ErrStreamUnsupported)
	}
	chunks := splitRunes(neutralizeDelta(text), maxStreamChunk)
	opts := []slackapi.MsgOption{slackapi.MsgOptionTS(string(to.Thread))}
	if !to.DM && !isDMChannel(string(to.Channel)) {
		opts = append(opts, slackapi.MsgOptionRecipientUserID(string(to.User)), slackapi.MsgOptionRecipientTeamID(team))
	}
	if len(chunks) > 0 {
		opts = append(opts, slackapi.MsgOptionMarkdownText(chunks[0]))
	}
	opts = append(opts, personaOptions(platforms.PersonaOf(platforms.Message{As: as}))...)
	api, err := a.apiFor(ctx, team)
	if err != nil {
		return platforms.MessageRef{}, fmt.Errorf("start slack stream: %w", err)
	}
	ch, ts, err := api.StartStreamContext(ctx, string(to.Channel), opts...)
	if err != nil {
		return platforms.MessageRef{}, fmt.Errorf("start slack stream: %w", a.streamError(team, err))
	}
	ref := platforms.MessageRef{Channel: platforms.ChannelID(ch), ID: platforms.MessageID(ts), Extra: refExtra{kind: refStream, team: team}.String()}
	if len(chunks) > 1 {
		if err := a.appendChunks(ctx, ref, team, chunks[1:]); err != nil {
			return ref, fmt.Errorf("start slack stream: %w", err)
		}
	}
	return ref, nil
}

// AppendStream appends delta to the stream (chat.appendStream), in calls of
// at most 12,000 characters.
func (a *Adapter) AppendStream(ctx context.Context, ref platforms.MessageRef, delta string) error {
	if delta == "" {
		return nil
	}
	team := a.team(parseRef(ref.Extra).team)
	if err := a.appendChunks(ctx, ref, team, splitRunes(neutralizeDelta(delta), maxStreamChunk)); err != nil {
		return fmt.Errorf("append slack stream: %w", err)
	}
	return nil
}

func (a *Adapter) appendChunks(ctx context.Context, ref platforms.MessageRef, team string, chunks []string) error {
	api, err := a.apiFor(ctx, team)
	if err != nil {
		return err
	}
	for _, c := range chunks {
		if _, _, err := api.AppendStreamContext(ctx, string(ref.Channel), string(ref.ID), slackapi.MsgOptionMarkdownText(c)); err != nil {
			return a.streamError(team, err)
		}
	}
	return nil
}

// StopStream finalizes the stream (chat.stopStream).
func (a *Adapter) StopStream(ctx context.Context, ref platforms.MessageRef) error {
	team := a.team(parseRef(ref.Extra).team)
	api, err := a.apiFor(ctx, team)
	if err != nil {
		return fmt.Errorf("stop slack stream: %w", err)
	}
	if _, _, err := api.StopStreamContext(ctx, string(ref.Channel), string(ref.ID)); err != nil {
		return fmt.Errorf("stop slack stream: %w", a.streamError(team, err))
	}
	return nil
}

// streamError maps a streaming error; a permanent refusal latches native
// streaming off for team (logged once) and wraps
// platforms.ErrStreamUnsupported.
func (a *Adapter) streamError(team string, err error) error {
	code := slackErrorCode(err)
	switch {
	case streamOffCodes[code]:
		a.latchMu.Lock()
		first := !a.streamOff[team]
		a.streamOff[team] = true
		a.latchMu.Unlock()
		if first {
			a.log.Warn("slack native streaming refused; using post and update in this workspace", "team", team, "slack_error", code)
		}
		return fmt.Errorf("%w: %w", platforms.ErrStreamUnsupported, err)
	case recipientCodes[code], haltedCodes[code]:
		return fmt.Errorf("%w: %w", platforms.ErrStreamUnsupported, err)
	}
	return apiError(err)
}
