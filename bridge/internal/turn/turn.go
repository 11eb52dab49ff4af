package turn

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"time"

	"github.com/secondme-bridge/secondme-bridge/bridge/internal/metrics"
	"github.com/secondme-bridge/secondme-bridge/bridge/internal/stops"
	"github.com/secondme-bridge/secondme-bridge/bridge/render"
	"github.com/secondme-bridge/secondme-bridge/bridge/text"
	"github.com/secondme-bridge/secondme-bridge/platforms"
	"github.com/secondme-bridge/secondme-bridge/secondme"
	"github.com/secondme-bridge/secondme-bridge/store"
)

// Chatter starts the avatar's streamed reply (bridge.SecondMe has it).
type Chatter interface {
	ChatStream(ctx context.Context, token string, req secondme.ChatRequest) (*secondme.Stream, error)
}

// Deps is what a turn needs from the engine.
type Deps struct {
	SecondMe Chatter
	// Refresh refreshes user's token after SecondMe refused token
	// (linking.Linker.RefreshAfterFailure).
	Refresh func(ctx context.Context, user store.UserKey, token string) (store.Link, error)
	// Persona is who a reply for link is posted as now (nil: the bot).
	Persona func(link store.Link) *platforms.Persona
	// SystemPrompt is the prompt that starts a new session ("" for none).
	SystemPrompt func() string
	AppID, Model string
	MaxTokens    int
	// StreamTimeout caps the upstream stream; RetryDelay is the wait
	// before the one retry of a transient failure.
	StreamTimeout, RetryDelay time.Duration
	Stops                     *stops.Registry
	Metrics                   *metrics.Set
}

// Turn is one question to the avatar and its reply, with its retries.
// The engine fills it and calls Converse once; Session is then the
// conversation's session to save.
type Turn struct {
	Deps    *Deps
	User    store.UserKey // who asks (for a token refresh)
	Text    string        // the message to the avatar
	R       *render.Renderer
	Log     *slog.Logger
	Link    store.Link
	Session string // the SecondMe session ("" starts one); updated by Converse
	StopID  string // the reply's Stop button id ("" when it has none)
	ConvID  string // the conversation's stop id (a native stop names it)

	newSession, refreshed, retried bool
}

// Converse streams the reply, retrying before any text: once with a new
// session when the stored one is gone, once with a refreshed token when the
// token was refused, once for a transient failure.
//
// A Stop by the person who asked (bridge/internal/stops) cancels the stream with
// stops.ErrStopped: the reply ends with the text so far and the stopped notice,
// and the session is kept.
func (t *Turn) Converse(ctx context.Context) {
	tctx, cancel := context.WithTimeout(ctx, t.Deps.StreamTimeout)
	defer cancel()
	sctx, stop := context.WithCancelCause(tctx)
	defer stop(nil)
	defer t.Deps.Stops.Add(&stops.Running{StopID: t.StopID, ConvID: t.ConvID, Cancel: stop})()
	stopped := func() bool { return errors.Is(context.Cause(sctx), stops.ErrStopped) }
	for {
		req := secondme.ChatRequest{
			Message:   t.Text,
			SessionID: t.Session,
			AppID:     t.Deps.AppID,
			Model:     t.Deps.Model,
			MaxTokens: t.Deps.MaxTokens,
		}
		if t.Session == "" {
			req.SystemPrompt = t.Deps.SystemPrompt()
		}
		stream, err := t.Deps.SecondMe.ChatStream(sctx, t.Link.Token.AccessToken, req)
		started := err == nil
		if started {
			t.R.Begin()
			err = t.consume(sctx, stream)
			t.R.End()
			if err == nil {
				t.R.Finish("")
				return
			}
			if stopped() {
				break
			}
			if t.R.HasText() {
				t.interrupted(ctx, sctx, err)
				return
			}
			t.R.Reset()
		}
		if stopped() {
			break
		}
		if !t.again(ctx, sctx, err, started) {
			return
		}
	}
	// Stopped: what was shown stays (or the notice alone), with the notice.
	t.Log.Info("reply stopped by the person who asked")
	t.R.Finish(text.MsgStopped)
}

// consume reads the stream into the renderer and returns its error (nil
// when it completed). Between deltas it pauses as the renderer allows
// (render.Renderer.ReadPause) when nothing read waits in the stream's
// buffer, so that a burst of deltas is read with one wake-up; ctx (the
// stream's) ends a pause at once.
func (t *Turn) consume(ctx context.Context, stream *secondme.Stream) error {
	defer stream.Close()
	var pause *time.Timer
	defer func() {
		if pause != nil {
			pause.Stop()
		}
	}()
	for stream.Next() {
		ev := stream.Current()
		switch ev.Type {
		case secondme.EventSession:
			if ev.SessionID != "" {
				t.Session = ev.SessionID
				t.R.SetSession(ev.SessionID)
			}
		case secondme.EventDelta:
			t.R.Add(ev.Text)
			if d := t.R.ReadPause(); d > 0 && !stream.Buffered() {
				pause = sleep(ctx, pause, d)
			}
		}
	}
	return stream.Err()
}

// sleep waits d or until ctx is done, on timer (made when nil), and
// returns the timer for the next sleep.
func sleep(ctx context.Context, timer *time.Timer, d time.Duration) *time.Timer {
	if timer == nil {
		timer = time.NewTimer(d)
	} else {
		timer.Reset(d)
	}
	select {
	case <-timer.C:
	case <-ctx.Done():
		timer.Stop()
	}
	return timer
}

// interrupted finishes a reply whose stream failed after text was shown:
// the text stays, with a notice.
func (t *Turn) interrupted(ctx, sctx context.Context, err error) {
	notice := text.MsgInterrupted
	switch {
	case ctx.Err() != nil:
		notice = text.MsgRestarted
	case sctx.Err() != nil:
		t.Log.Warn("reply hit the stream timeout", "timeout", t.Deps.StreamTimeout)
	default:
		t.Log.Warn("reply interrupted upstream", "error", err)
	}
	t.Deps.Metrics.Errors.WithLabelValues(text.KindInterrupted).Inc()
	t.R.Finish(notice)
}

// again decides, after a failure before any text, whether to try once more
// (and prepares the retry), or tells the user and reports false. started
// tells that the stream had started (SecondMe took the message): then only
// the session and token refusals, which SecondMe answers before taking
// anything, are retried.
func (t *Turn) again(ctx, sctx context.Context, err error, started bool) bool {
	switch {
	case ctx.Err() != nil:
		t.R.Fail(text.NewUserError(text.KindInterrupted, text.MsgRestarted, err))
		return false
	case secondme.IsSessionInvalid(err) && !t.newSession:
		t.newSession = true
		t.Log.Info("stored session is gone; starting a new one", "error", err)
		t.Session = ""
		return true
	case secondme.IsTokenInvalid(err) && !t.refreshed:
		t.refreshed = true
		link, rerr := t.Deps.Refresh(ctx, t.User, t.Link.Token.AccessToken)
		if rerr != nil {
			t.report(rerr)
			return false
		}
		t.Link = link
		as := t.Deps.Persona(link) // the refresh also refreshed the profile
		t.R.SetPersona(as)
		return true
	}
	if !started && notTaken(err) && !t.retried && sctx.Err() == nil {
		t.retried = true
		t.Log.Info("retrying the avatar after a transient failure", "error", err)
		select {
		case <-time.After(t.Deps.RetryDelay):
			return true
		case <-ctx.Done():
			t.R.Fail(text.NewUserError(text.KindInterrupted, text.MsgRestarted, ctx.Err()))
			return false
		}
	}
	t.report(err)
	return false
}

// report logs err at the right level and tells the user.
func (t *Turn) report(err error) {
	ue := text.Classify(err)
	switch ue.Kind {
	case text.KindOperator, text.KindInternal:
		t.Log.Error("avatar request failed", "kind", ue.Kind, "error", err)
	case text.KindMissingScope:
		t.Log.Warn("user's link lacks a scope", "error", err)
	default:
		t.Log.Warn("avatar request failed", "kind", ue.Kind, "error", err)
	}
	t.R.Fail(ue)
}

// notTaken reports whether a failure to start a chat stream proves that
// SecondMe did not take the message, so that sending it again cannot make
// the avatar answer it twice: the request never got through (connection
// refused, or broken before it was written), or the server turned it away
// with 503 before starting. A 429 is not retried here (the user is told
// how long to wait), nor anything the server may have acted on (other
// 5xx, a timeout, a stream that broke).
func notTaken(err error) bool {
	if secondme.NotSent(err) {
		return true
	}
	var ae *secondme.APIError
	return errors.As(err, &ae) && ae.HTTPStatus == http.StatusServiceUnavailable
}
