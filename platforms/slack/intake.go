package slack

import (
	"time"

	slackapi "github.com/slack-go/slack"
	"github.com/slack-go/slack/slackevents"

	"github.com/secondme-bridge/secondme-bridge/platforms"
	"github.com/secondme-bridge/secondme-bridge/platforms/attach"
)

// Intake is shared by both transports: translate, reserve a slot, ack, then
// hand the event to the handler asynchronously (after filling in the user's
// display name and locale), in order per user.

// ackFunc acknowledges the delivery to Slack.
type ackFunc func()

// acceptEventsAPI handles one Events API callback. It reports false when the
// delivery must not be acknowledged (not running, or the queue is full), so
// that Slack redelivers it later.
func (a *Adapter) acceptEventsAPI(ev slackevents.EventsAPIEvent, retry int, ack ackFunc) bool {
	ctx := a.eventCtx()
	switch ev.InnerEvent.Type {
	case "app_uninstalled", "tokens_revoked":
		// Acknowledged first: the delete's outcome changes nothing for
		// Slack, and a slow store must not make Slack retry (a late retry
		// could delete a reinstall).
		ack()
		if ev.InnerEvent.Type == "app_uninstalled" || revokesBot(ev) {
			a.uninstalled(ctx, ev.TeamID, ev.InnerEvent.Type)
		}
		return true
	}
	if known, acked := a.admitTeam(ctx, ev.TeamID, ack); !known {
		return acked
	}
	if home, ok := ev.InnerEvent.Data.(*slackevents.AppHomeOpenedEvent); ok {
		// The user opened the app (its Messages tab is the agent view's
		// conversation list): pin the suggested prompts there.
		ack()
		if home.Tab == "messages" {
			if runCtx, _, running := a.sink(); running {
				// On the user's queue, like their events: tracked and
				// bounded; a full queue just skips this visit.
				_ = a.queue.TrySubmit(ev.TeamID+":"+home.User, func() {
					a.offerPrompts(runCtx, ev.TeamID, home.User, home.Channel)
				})
			}
		}
		return true
	}
	out, ok := translateEventsAPI(a.identityFor(ctx, ev.TeamID), ev)
	if !ok {
		ack()
		return true
	}
	if retry > 0 {
		a.log.Debug("slack redelivered an event", "retry_attempt", retry, "dedupe", out.DedupeIDs)
	}
	out.Inputs.Quotes = eventQuotes(ev)
	return a.acceptWithFiles(out, eventFiles(ev), ack)
}

// acceptSlash handles a slash command.
func (a *Adapter) acceptSlash(c slackapi.SlashCommand, ack ackFunc) bool {
	ctx := a.eventCtx()
	if known, acked := a.admitTeam(ctx, c.TeamID, ack); !known {
		return acked
	}
	out, ok := a.cmds.translateSlash(a.identityFor(ctx, c.TeamID), c)
	return a.acceptCommand(out, ok, c.ResponseURL, ack)
}

// acceptInteraction handles an interactive payload: a Stop button click
// becomes an EventStop, message shortcuts become commands; everything else
// (link button clicks, …) is only acknowledged.
func (a *Adapter) acceptInteraction(cb slackapi.InteractionCallback, ack ackFunc) bool {
	ctx := a.eventCtx()
	if known, acked := a.admitTeam(ctx, cb.Team.ID, ack); !known {
		return acked
	}
	id := a.identityFor(ctx, cb.Team.ID)
	if out, ok := translateStopClick(id, cb); ok {
		return a.acceptCommand(out, ok, cb.ResponseURL, ack)
	}
	out, ok := a.cmds.translateShortcut(id, cb)
	return a.acceptCommand(out, ok, cb.ResponseURL, ack)
}

// acceptCommand accepts a translated slash command, shortcut or Stop click (ok false:
// nothing for the bridge) with the interaction sealed in, answerable through
// responseURL. What the bridge does not take, or cannot seal, is only
// acknowledged.
func (a *Adapter) acceptCommand(ev platforms.Event, ok bool, responseURL string, ack ackFunc) bool {
	if !ok || !a.sealInteraction(&ev, responseURL) {
		ack()
		return true
	}
	return a.accept(ev, ack)
}

func (a *Adapter) sealInteraction(ev *platforms.Event, responseURL string) bool {
	h, err := a.sealer.seal(interaction{
		ResponseURL: responseURL, Team: string(ev.Workspace), Channel: string(ev.Channel), User: string(ev.User.ID), Thread: string(ev.Thread),
		Expires: time.Now().Add(responseURLLifetime).Unix(),
	})
	if err != nil {
		a.log.Error("seal slack interaction failed", "err", err)
		return false
	}
	ev.Interaction = h
	return true
}

// maxPendingEvents bounds the events accepted but not yet handed to the
// handler, across users (see internal/keyq). Beyond it the adapter stops
// acknowledging, so Slack redelivers later instead of the adapter dropping
// acknowledged work.
const maxPendingEvents = 1024

// accept queues ev on its user's serial queue and acknowledges it, or
// reports false (not acknowledged) when the queue is full or closed.
func (a *Adapter) accept(ev platforms.Event, ack ackFunc) bool {
	return a.acceptWithFiles(ev, nil, ack)
}

// acceptWithFiles is accept for an event with attached files: they are
// downloaded after the ack (Slack's 3-second deadline does not wait for
// them), before the bridge sees the event.
func (a *Adapter) acceptWithFiles(ev platforms.Event, files []attach.File, ack ackFunc) bool {
	ctx, h, ok := a.sink()
	if !ok {
		return false
	}
	// The handler starts after the ack, as Slack sees it, but the slot is
	// taken before: an event refused here is not acknowledged, and Slack
	// retries it, so a full queue loses nothing.
	acked := make(chan struct{})
	err := a.queue.TrySubmit(string(ev.Workspace)+":"+string(ev.User.ID), func() {
		<-acked
		name, locale := a.users.get(withTeam(ctx, string(ev.Workspace)), string(ev.User.ID))
		if ev.User.DisplayName == "" {
			ev.User.DisplayName = name
		}
		ev.User.Locale = locale
		if len(files) > 0 {
			ev.Inputs.Attachments = a.readFiles(withTeam(ctx, string(ev.Workspace)), string(ev.Workspace), files)
		}
		h.HandleEvent(ctx, ev)
	})
	if err != nil {
		a.log.Warn("slack delivery not accepted; leaving it to a Slack retry", "error", err, "limit", maxPendingEvents)
		return false
	}
	ack()
	close(acked)
	a.log.Debug("slack event accepted", "kind", ev.Kind, "channel", ev.Channel, "user", ev.User.ID, "dedupe", ev.DedupeIDs)
	return true
}

// revokesBot reports whether a tokens_revoked event lists bot tokens.
func revokesBot(ev slackevents.EventsAPIEvent) bool {
	if t, ok := ev.InnerEvent.Data.(*slackevents.TokensRevokedEvent); ok {
		return len(t.Tokens.Bot) > 0
	}
	return true // undecodable: assume the worst and let a reinstall fix it
}
