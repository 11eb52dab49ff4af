package slack

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"

	slackapi "github.com/slack-go/slack"
	"github.com/slack-go/slack/slackevents"
	"github.com/slack-go/slack/socketmode"
)

// runSocket runs Socket Mode until ctx ends (nil) or Slack refuses the app
// token (an error). slack-go reconnects by itself, with backoff, after
// transient failures and on Slack's "disconnect".
func (a *Adapter) runSocket(ctx context.Context) error {
	opts := []socketmode.Option{socketmode.OptionLog(slog.NewLogLogger(a.log.Handler(), slog.LevelDebug))}
	if a.cfg.PingInterval > 0 {
		opts = append(opts, socketmode.OptionPingInterval(a.cfg.PingInterval))
	}
	sm := socketmode.New(a.api, opts...)
	errc := make(chan error, 1)
	go func() { errc <- sm.RunContext(ctx) }()
	for {
		select {
		case evt := <-sm.Events:
			a.onSocketEvent(ctx, sm, evt)
		case err := <-errc:
			a.ready.Store(false)
			if ctx.Err() != nil {
				return nil
			}
			return fmt.Errorf("run slack socket mode: %w", apiError(err))
		}
	}
}

func (a *Adapter) onSocketEvent(ctx context.Context, sm *socketmode.Client, evt socketmode.Event) {
	ack := func(req *socketmode.Request) ackFunc {
		return func() {
			if err := sm.AckCtx(ctx, req.EnvelopeID, nil); err != nil {
				a.log.Warn("slack socket mode ack failed", "err", err)
			}
		}
	}
	switch evt.Type {
	case socketmode.EventTypeConnecting:
		a.ready.Store(false)
		a.log.Debug("slack socket mode connecting")
	case socketmode.EventTypeConnectionError:
		a.ready.Store(false)
		if e, ok := evt.Data.(*slackapi.ConnectionErrorEvent); ok {
			a.log.Warn("slack socket mode connection failed", "attempt", e.Attempt, "retry_in", e.Backoff, "err", redactErr(e.ErrorObj))
		}
	case socketmode.EventTypeInvalidAuth:
		a.ready.Store(false)
		a.log.Error("slack refused the app-level token")
	case socketmode.EventTypeConnected:
		a.log.Info("slack socket mode connected")
	case socketmode.EventTypeHello:
		a.ready.Store(true)
	case socketmode.EventTypeIncomingError:
		a.log.Debug("slack socket mode read error")
	case socketmode.EventTypeErrorBadMessage:
		a.ackBadMessage(ctx, sm, evt)
	case socketmode.EventTypeEventsAPI:
		ev, ok := evt.Data.(slackevents.EventsAPIEvent)
		if !ok || evt.Request == nil {
			return
		}
		a.acceptEventsAPI(ev, evt.Request.RetryAttempt, ack(evt.Request))
	case socketmode.EventTypeSlashCommand:
		c, ok := evt.Data.(slackapi.SlashCommand)
		if !ok || evt.Request == nil {
			return
		}
		a.acceptSlash(c, ack(evt.Request))
	case socketmode.EventTypeInteractive:
		cb, ok := evt.Data.(slackapi.InteractionCallback)
		if !ok || evt.Request == nil {
			return
		}
		a.acceptInteraction(cb, ack(evt.Request))
	}
}

// ackBadMessage acknowledges an envelope slack-go could not parse (an event
// type it does not know), so that Slack does not redeliver it.
func (a *Adapter) ackBadMessage(ctx context.Context, sm *socketmode.Client, evt socketmode.Event) {
	bad, ok := evt.Data.(*socketmode.ErrorBadMessage)
	if !ok {
		return
	}
	var env struct {
		EnvelopeID string `json:"envelope_id"`
		Type       string `json:"type"`
	}
	if json.Unmarshal(bad.Message, &env) != nil || env.EnvelopeID == "" {
		return
	}
	a.log.Debug("slack socket mode envelope ignored", "type", env.Type)
	if err := sm.AckCtx(ctx, env.EnvelopeID, nil); err != nil {
		a.log.Warn("slack socket mode ack failed", "err", err)
	}
}
