package slack

import (
	"context"
	"fmt"

	slackapi "github.com/slack-go/slack"

	"github.com/secondme-bridge/secondme-bridge/platforms"
)

// typingStatus is the assistant thread status Slack shows under the bot's
// name, like Discord's "is typing…".
const typingStatus = "is thinking…"

// Typing sets the assistant thread status (assistant.threads.setStatus) in
// to.Thread; Slack clears it when the reply is posted or after two minutes.
// Outside a thread it does nothing. Where Slack refuses it for good (not an
// assistant thread, missing scope, …) the channel is remembered and skipped
// from then on, and Typing returns nil: the status is a nicety that never
// fails a reply. Transient failures and 429s are returned.
func (a *Adapter) Typing(ctx context.Context, to platforms.Target) error {
	if to.Thread == "" || to.Channel == "" {
		return nil
	}
	a.latchMu.Lock()
	off := a.typingOff[string(to.Channel)]
	a.latchMu.Unlock()
	if off {
		return nil
	}
	api, err := a.apiFor(ctx, a.team(string(to.Workspace)))
	if err != nil {
		return err
	}
	err = api.SetAssistantThreadsStatusContext(ctx, slackapi.AssistantThreadsSetStatusParameters{
		ChannelID: string(to.Channel), ThreadTS: string(to.Thread), Status: typingStatus,
	})
	if err == nil {
		return nil
	}
	if code := slackErrorCode(err); code != "" && !transientCodes[code] {
		a.latchMu.Lock()
		a.typingOff[string(to.Channel)] = true
		a.latchMu.Unlock()
		a.log.Debug("slack assistant status unavailable in channel; not trying again", "channel", to.Channel, "slack_error", code)
		return nil
	}
	return fmt.Errorf("set slack assistant status: %w", apiError(err))
}
