package demo

import (
	"context"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"
)

//go:embed static
var staticFiles embed.FS

// maxContent is Discord's limit on a message's content.
const maxContent = 2000

// slashCommands are the commands the page's input runs when the text
// starts with "/" (commands with options are typed as plain mentions).
var slashCommands = map[string]bool{"link": true, "unlink": true, "help": true, "new": true, "whoami": true, "sessions": true}

// Page serves the demo's web page: the channel, live (server-sent events
// of the View on every change of the fake Discord), and an input that
// sends what the user types as a mention of the bot (or a slash command).
type Page struct {
	env *Env
	tl  *timeline
	log *slog.Logger
	// heartbeat re-sends the view this often even without a change (the
	// typing indicator expires on its own).
	heartbeat time.Duration
}

// NewPage returns the page of env.
func NewPage(env *Env, logger *slog.Logger) *Page {
	return &Page{env: env, tl: &timeline{env: env}, log: logger, heartbeat: time.Second}
}

// Handler returns the page's routes: GET / (the page and its assets),
// GET /state (the View as JSON), GET /events (the View as server-sent
// events), POST /send ({"text": "…"}).
func (p *Page) Handler() http.Handler {
	mux := http.NewServeMux()
	sub, _ := fs.Sub(staticFiles, "static") // the embedded directory exists
	files := http.FileServerFS(sub)
	mux.Handle("GET /", files)
	mux.HandleFunc("GET /state", p.handleState)
	mux.HandleFunc("GET /events", p.handleEvents)
	mux.HandleFunc("POST /send", p.handleSend)
	return headers(mux)
}

// headers adds the security headers of every response.
func headers(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("Cache-Control", "no-store")
		next.ServeHTTP(w, r)
	})
}

func (p *Page) handleState(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(p.tl.view(time.Now()))
}

// handleEvents streams the View on every change, until the client goes.
func (p *Page) handleEvents(w http.ResponseWriter, r *http.Request) {
	rc := http.NewResponseController(w)
	w.Header().Set("Content-Type", "text/event-stream")
	w.WriteHeader(http.StatusOK)
	tick := time.NewTicker(p.heartbeat)
	defer tick.Stop()
	var last []byte
	for {
		changed := p.env.DC.Changed()
		b, err := json.Marshal(p.tl.view(time.Now()))
		if err != nil {
			return
		}
		if string(b) != string(last) {
			if _, err := fmt.Fprintf(w, "data: %s\n\n", b); err != nil {
				return
			}
			if err := rc.Flush(); err != nil {
				return
			}
			last = b
		}
		select {
		case <-r.Context().Done():
			return
		case <-changed:
		case <-tick.C:
		}
	}
}

type sendRequest struct {
	Text string `json:"text"`
}

// handleSend dispatches what the user typed to the fake Discord gateway,
// where the bridge's Discord adapter receives it like any message.
func (p *Page) handleSend(w http.ResponseWriter, r *http.Request) {
	var req sendRequest
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 16<<10)).Decode(&req); err != nil {
		http.Error(w, "send: the body must be JSON {\"text\": \"…\"}", http.StatusBadRequest)
		return
	}
	text := strings.TrimSpace(req.Text)
	if err := p.Send(r.Context(), text); err != nil {
		var ie *inputError
		if errors.As(err, &ie) {
			http.Error(w, ie.msg, http.StatusBadRequest)
			return
		}
		p.log.Warn("demo send failed", "error", err)
		http.Error(w, "send: "+err.Error(), http.StatusBadGateway)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// inputError is text the page refuses, with the reason to show.
type inputError struct{ msg string }

func (e *inputError) Error() string { return e.msg }

// Send posts text in the channel as the demo user: "/name" runs that slash
// command, anything else is a message that mentions the bot. It returns an
// *inputError for empty, too long or unknown-command text.
func (p *Page) Send(_ context.Context, text string) error {
	// The message's content is "<@bot> text": Discord's limit counts both.
	maxInput := maxContent - utf8.RuneCountInString("<@"+p.env.DC.BotID()+"> ")
	switch n := utf8.RuneCountInString(text); {
	case n == 0:
		return &inputError{"send: type a message first"}
	case n > maxInput:
		return &inputError{fmt.Sprintf("send: a message has at most %d characters, this one has %d", maxInput, n)}
	}
	if name, ok := strings.CutPrefix(text, "/"); ok {
		name = strings.ToLower(strings.TrimSpace(name))
		if !slashCommands[name] {
			return &inputError{fmt.Sprintf("send: unknown command /%s (try /help, /link, /whoami, /new, /unlink)", name)}
		}
		_, err := p.env.SlashCommand(User, ChannelID, name, "en-US")
		return err
	}
	m, err := p.env.DC.Mention(GuildID, ChannelID, User, text)
	if err != nil {
		return fmt.Errorf("send mention: %w", err)
	}
	p.tl.add(m)
	return nil
}
