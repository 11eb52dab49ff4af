package slack

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strconv"

	slackapi "github.com/slack-go/slack"
	"github.com/slack-go/slack/slackevents"
)

// maxBodyBytes bounds a Slack request body (events are a few KB).
const maxBodyBytes = 1 << 20

// HTTP-mode paths, mounted by Routes.
const (
	PathEvents        = "/slack/events"
	PathCommands      = "/slack/commands"
	PathInteractivity = "/slack/interactivity"
)

// Routes mounts the HTTP-mode endpoints on mux: POST /slack/events (Events
// API), /slack/commands (slash commands) and /slack/interactivity
// (shortcuts). In socket mode it mounts nothing. Every request is checked
// against the signing secret (HMAC, timestamp within 5 minutes) before
// anything else: a bad or missing signature or a stale timestamp is answered
// 401 and nothing is processed. Accepted deliveries are answered 200 at once
// and handled asynchronously; while Run is not serving they get 503, so
// Slack retries them.
func (a *Adapter) Routes(mux *http.ServeMux) {
	if a.cfg.mode() != ModeHTTP {
		return
	}
	mux.HandleFunc("POST "+PathEvents, a.serveEvents)
	mux.HandleFunc("POST "+PathCommands, a.serveCommands)
	mux.HandleFunc("POST "+PathInteractivity, a.serveInteractivity)
}

// verified reads and authenticates the body of a Slack request. On failure it
// has answered the request.
func (a *Adapter) verified(w http.ResponseWriter, r *http.Request) ([]byte, bool) {
	sv, err := slackapi.NewSecretsVerifier(r.Header, a.cfg.SigningSecret)
	if err != nil {
		a.reject(w, r, http.StatusUnauthorized, verifyReason(err))
		return nil, false
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBodyBytes))
	if err != nil {
		if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
			a.reject(w, r, http.StatusRequestEntityTooLarge, "body too large")
			return nil, false
		}
		a.reject(w, r, http.StatusBadRequest, "unreadable body")
		return nil, false
	}
	if _, err := sv.Write(body); err != nil || sv.Ensure() != nil {
		a.reject(w, r, http.StatusUnauthorized, "invalid signature")
		return nil, false
	}
	return body, true
}

func verifyReason(err error) string {
	switch {
	case errors.Is(err, slackapi.ErrMissingHeaders):
		return "missing signature headers"
	case errors.Is(err, slackapi.ErrExpiredTimestamp):
		return "stale timestamp"
	default:
		return "invalid signature"
	}
}

func (a *Adapter) reject(w http.ResponseWriter, r *http.Request, status int, reason string) {
	a.rejects.add(r.URL.Path, reason)
	http.Error(w, http.StatusText(status), status)
}

// ackOrRetry answers 200 through ack, or 503 when the delivery was not
// accepted (Slack retries it).
func ackOrRetry(w http.ResponseWriter, accepted bool) {
	if !accepted {
		w.Header().Set("Retry-After", "10")
		http.Error(w, "not ready", http.StatusServiceUnavailable)
	}
}

func ack200(w http.ResponseWriter) ackFunc {
	return func() { w.WriteHeader(http.StatusOK) }
}

func (a *Adapter) serveEvents(w http.ResponseWriter, r *http.Request) {
	body, ok := a.verified(w, r)
	if !ok {
		return
	}
	var outer struct {
		Type      string `json:"type"`
		Challenge string `json:"challenge"`
	}
	if err := json.Unmarshal(body, &outer); err != nil {
		http.Error(w, "bad event", http.StatusBadRequest)
		return
	}
	switch outer.Type {
	case slackevents.URLVerification:
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]string{"challenge": outer.Challenge})
		return
	case slackevents.CallbackEvent:
	default: // app_rate_limited and future types: nothing to do
		w.WriteHeader(http.StatusOK)
		return
	}
	ev, err := slackevents.ParseEvent(json.RawMessage(body), slackevents.OptionNoVerifyToken())
	if err != nil { // an inner event type slack-go does not know: not for us
		w.WriteHeader(http.StatusOK)
		return
	}
	retry, _ := strconv.Atoi(r.Header.Get("X-Slack-Retry-Num"))
	ackOrRetry(w, a.acceptEventsAPI(ev, retry, ack200(w)))
}

func (a *Adapter) serveCommands(w http.ResponseWriter, r *http.Request) {
	body, ok := a.verified(w, r)
	if !ok {
		return
	}
	form, err := url.ParseQuery(string(body))
	if err != nil {
		http.Error(w, "bad form", http.StatusBadRequest)
		return
	}
	c := slackapi.SlashCommand{
		TeamID: form.Get("team_id"), TeamDomain: form.Get("team_domain"), EnterpriseID: form.Get("enterprise_id"),
		ChannelID: form.Get("channel_id"), ChannelName: form.Get("channel_name"),
		UserID: form.Get("user_id"), UserName: form.Get("user_name"),
		Command: form.Get("command"), Text: form.Get("text"),
		ResponseURL: form.Get("response_url"), TriggerID: form.Get("trigger_id"), APIAppID: form.Get("api_app_id"),
	}
	ackOrRetry(w, a.acceptSlash(c, ack200(w)))
}

func (a *Adapter) serveInteractivity(w http.ResponseWriter, r *http.Request) {
	body, ok := a.verified(w, r)
	if !ok {
		return
	}
	form, err := url.ParseQuery(string(body))
	if err != nil || form.Get("payload") == "" {
		http.Error(w, "bad payload", http.StatusBadRequest)
		return
	}
	var cb slackapi.InteractionCallback
	if err := json.Unmarshal([]byte(form.Get("payload")), &cb); err != nil {
		http.Error(w, "bad payload", http.StatusBadRequest)
		return
	}
	ackOrRetry(w, a.acceptInteraction(cb, ack200(w)))
}
