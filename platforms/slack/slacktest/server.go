package slacktest

import (
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// Options configures a Server. Zero fields take the defaults shown.
type Options struct {
	TeamID    string // "T1"
	TeamName  string // "Acme"
	BotUserID string // "UBOT"
	BotID     string // "BBOT"
	BotName   string // "secondme"
	AppID     string // "A1"
	BotToken  string // "xoxb-test"
	AppToken  string // "xapp-test"
	// ClientID and ClientSecret are the app's OAuth credentials
	// (DefaultClientID, DefaultClientSecret).
	ClientID, ClientSecret string
	// TokenRotation makes oauth.v2.access return refresh tokens, and bot
	// tokens that expire after TokenLifetime (default 12h).
	TokenRotation bool
	TokenLifetime time.Duration
	// PingInterval is how often the Socket Mode websocket sends ping frames
	// (default 500ms; keep it below the client's ping interval).
	PingInterval time.Duration
}

func (o *Options) defaults() {
	def := func(p *string, v string) {
		if *p == "" {
			*p = v
		}
	}
	def(&o.TeamID, "T1")
	def(&o.TeamName, "Acme")
	def(&o.BotUserID, "UBOT")
	def(&o.BotID, "BBOT")
	def(&o.BotName, "secondme")
	def(&o.AppID, "A1")
	def(&o.BotToken, "xoxb-test")
	def(&o.AppToken, "xapp-test")
	def(&o.ClientID, DefaultClientID)
	def(&o.ClientSecret, DefaultClientSecret)
	if o.TokenLifetime <= 0 {
		o.TokenLifetime = 12 * time.Hour
	}
	if o.PingInterval <= 0 {
		o.PingInterval = 500 * time.Millisecond
	}
}

// Call is one recorded request to the fake.
type Call struct {
	Method string     // Web API method, "response_url" or "apps.connections.open"
	Form   url.Values // form fields (token included); nil for JSON posts
	JSON   json.RawMessage
	Status int    // HTTP status answered
	Error  string // Slack error answered ("" when ok)
	At     time.Time
	// Token is the token the call carried (form field or bearer).
	Token string
}

// User is a workspace member known to users.info.
type User struct {
	ID          string
	Name        string
	DisplayName string
	RealName    string
	Locale      string
	IsBot       bool
}

// Message is the state of one message in the fake workspace.
type Message struct {
	Channel  string
	TS       string
	ThreadTS string
	User     string // author: the bot user id for the bot's messages
	Bot      bool
	// Text is the text field; Markdown the text of the markdown blocks (the
	// bridge posts both). For a native stream Markdown is every markdown_text
	// appended so far.
	Text     string
	Markdown string
	Blocks   json.RawMessage
	Edits    []string // the display text of each chat.update
	Stream   bool
	Appends  []string // markdown_text of each chat.appendStream
	Stopped  bool
	Deleted  bool
	// Ephemeral messages (chat.postEphemeral) are visible to EphemeralUser only.
	Ephemeral     bool
	EphemeralUser string
	// Native stream recipient, as given to chat.startStream.
	RecipientUserID string
	RecipientTeamID string
	// Username and IconURL are the identity the message was posted under
	// (chat.postMessage or chat.startStream username and icon_url; "" for
	// the bot's own). UpdateUsernames and UpdateIconURLs hold those of
	// each chat.update, in order.
	Username, IconURL               string
	UpdateUsernames, UpdateIconURLs []string
}

// Display is what Slack would show: the markdown block text if any, else the
// text field.
func (m Message) Display() string {
	if m.Markdown != "" {
		return m.Markdown
	}
	return m.Text
}

// ResponsePost is one POST to a response_url handed out by the fake.
type ResponsePost struct {
	URL             string
	ResponseType    string // "ephemeral" or "in_channel"
	Text            string
	Markdown        string
	ReplaceOriginal bool
	DeleteOriginal  bool
	Blocks          json.RawMessage
	At              time.Time
}

// Display is the markdown block text if any, else the text.
func (p ResponsePost) Display() string {
	if p.Markdown != "" {
		return p.Markdown
	}
	return p.Text
}

type failure struct {
	err string
	n   int // remaining; <0 forever
}

type rateLimit struct {
	n          int
	retryAfter time.Duration
}

// Server is a fake Slack. Create it with NewServer.
type Server struct {
	t    testing.TB
	opts Options
	srv  *httptest.Server

	mu           sync.Mutex
	files        map[string]storedFile // by "<id>/<name>" (files.go)
	fileHits     int
	calls        []Call
	failures     map[string]*failure
	rateLimits   map[string]*rateLimit
	streamingOff map[string]bool
	agent        agentState // agent.go
	users        map[string]User
	messages     []*Message
	byKey        map[string]*Message
	responses    map[string][]ResponsePost
	tsCounter    int64
	sent         []string // every text and markdown the bot sent, for Pings
	seq          int

	// Socket Mode.
	conns      []*wsConn
	connects   int
	opens      int
	pending    map[string]chan Ack
	upgrader   websocket.Upgrader
	httpTarget *httpTarget
	closed     bool
	closeOnce  sync.Once
	// unexpected lists requests no route matches, when there is no t to
	// fail (Start).
	unexpected []string

	// OAuth installs (install.go).
	teams      map[string]*installState
	codes      map[string]oauthCode
	nextTeam   string
	authorizes []Authorize
	refreshes  int
}

// NewServer starts a fake Slack on 127.0.0.1 and stops it in t.Cleanup. A
// request to a route the fake does not serve fails t.
func NewServer(t testing.TB, opts Options) *Server {
	t.Helper()
	s, err := start(t, opts)
	if err != nil {
		t.Fatalf("slacktest: %v", err)
	}
	t.Cleanup(s.Close)
	return s
}

// Start starts a fake Slack on 127.0.0.1 outside a test. The caller must
// Close it. A request to a route the fake does not serve gets a 404 and is
// listed by Unexpected. It fails only when no port can be bound.
func Start(opts Options) (*Server, error) { return start(nil, opts) }

func start(t testing.TB, opts Options) (*Server, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("start fake slack: %w", err)
	}
	opts.defaults()
	s := &Server{
		t:            t,
		opts:         opts,
		failures:     map[string]*failure{},
		rateLimits:   map[string]*rateLimit{},
		streamingOff: map[string]bool{},
		agent:        agentState{sessions: map[string]*AgentSession{}, prompts: map[string][]Prompt{}, off: map[string]bool{}},
		users:        map[string]User{},
		byKey:        map[string]*Message{},
		responses:    map[string][]ResponsePost{},
		pending:      map[string]chan Ack{},
		upgrader:     websocket.Upgrader{CheckOrigin: func(*http.Request) bool { return true }},
		teams:        map[string]*installState{},
		codes:        map[string]oauthCode{},
	}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /api/{method}", s.handleAPI)
	mux.HandleFunc("POST /response/{id}", s.handleResponseURL)
	mux.HandleFunc("GET /link/", s.handleLink)
	mux.HandleFunc("GET /files-pri/", s.handleFilePri)
	mux.HandleFunc("GET /files-dl/", s.handleFileDL)
	mux.HandleFunc("GET /oauth/v2/authorize", s.handleAuthorize)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		if s.t != nil {
			s.t.Errorf("slacktest: unexpected request %s %s", r.Method, r.URL.Path)
		} else {
			s.mu.Lock()
			s.unexpected = append(s.unexpected, r.Method+" "+r.URL.Path)
			s.mu.Unlock()
		}
		http.NotFound(w, r)
	})
	s.srv = &httptest.Server{Listener: ln, Config: &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}}
	s.srv.Start()
	return s, nil
}

// Close closes every Socket Mode connection and the HTTP server. It is
// idempotent.
func (s *Server) Close() {
	s.closeOnce.Do(func() {
		s.mu.Lock()
		s.closed = true
		conns := append([]*wsConn(nil), s.conns...)
		s.mu.Unlock()
		for _, c := range conns {
			c.close()
		}
		s.srv.CloseClientConnections()
		s.srv.Close()
	})
}

// Unexpected lists the requests ("METHOD /path") no route of the fake
// matched, for a Server made by Start (NewServer fails its test instead).
func (s *Server) Unexpected() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.unexpected...)
}

// URL is the fake's base URL, http://127.0.0.1:PORT.
func (s *Server) URL() string { return s.srv.URL }

// APIURL is the Web API base for slack.OptionAPIURL (with the trailing slash).
func (s *Server) APIURL() string { return s.srv.URL + "/api/" }

// Options returns the effective options (ids and tokens).
func (s *Server) Options() Options { return s.opts }

// TeamID is the fake workspace's id.
func (s *Server) TeamID() string { return s.opts.TeamID }

// BotUserID is the bot's user id.
func (s *Server) BotUserID() string { return s.opts.BotUserID }

// BotToken is the bot token the fake accepts.
func (s *Server) BotToken() string { return s.opts.BotToken }

// AppToken is the app-level token the fake accepts for Socket Mode.
func (s *Server) AppToken() string { return s.opts.AppToken }

// AddUser makes u known to users.info. Unknown U… ids get a synthesized
// user with locale "en-US".
func (s *Server) AddUser(u User) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.users[u.ID] = u
}

// RateLimit answers the next n calls to method with 429 and Retry-After
// (whole seconds, rounded up).
func (s *Server) RateLimit(method string, n int, retryAfter time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.rateLimits[method] = &rateLimit{n: n, retryAfter: retryAfter}
}

// FailMethod answers every later call to method with {"ok":false,"error":slackErr}
// until ClearFailures.
func (s *Server) FailMethod(method, slackErr string) { s.FailMethodN(method, slackErr, -1) }

// FailMethodN answers the next n calls to method with slackErr.
func (s *Server) FailMethodN(method, slackErr string, n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failures[method] = &failure{err: slackErr, n: n}
}

// ClearFailures removes every injected error and rate limit.
func (s *Server) ClearFailures() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failures = map[string]*failure{}
	s.rateLimits = map[string]*rateLimit{}
}

// SetNativeStreaming turns native streaming on or off for team (on by
// default). When off, chat.startStream answers "feature_not_enabled".
func (s *Server) SetNativeStreaming(team string, enabled bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.streamingOff[team] = !enabled
}

// Calls returns the recorded calls to method, or every call for "".
func (s *Server) Calls(method string) []Call {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Call
	for _, c := range s.calls {
		if method == "" || c.Method == method {
			out = append(out, c)
		}
	}
	return out
}

// Messages returns a copy of every message, in creation order.
func (s *Server) Messages() []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Message, 0, len(s.messages))
	for _, m := range s.messages {
		out = append(out, m.clone())
	}
	return out
}

// Message returns the message channel/ts.
func (s *Server) Message(channel, ts string) (Message, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	m, ok := s.byKey[channel+"/"+ts]
	if !ok {
		return Message{}, false
	}
	return m.clone(), true
}

// ResponsePosts returns the posts made to a response_url from NewResponseURL.
func (s *Server) ResponsePosts(responseURL string) []ResponsePost {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]ResponsePost(nil), s.responses[responseURL]...)
}

// NewResponseURL hands out a response_url pointing at the fake (five uses).
func (s *Server) NewResponseURL() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.seq++
	u := fmt.Sprintf("%s/response/r%d", s.srv.URL, s.seq)
	s.responses[u] = nil
	return u
}

// DMChannel is the id of the DM channel between user and the bot.
func (s *Server) DMChannel(user string) string {
	if len(user) > 1 {
		return "D" + user[1:]
	}
	return "D" + user
}

func (m *Message) clone() Message {
	c := *m
	c.Edits = append([]string(nil), m.Edits...)
	c.Appends = append([]string(nil), m.Appends...)
	return c
}

// nextTS returns a fresh, increasing message ts. Callers hold s.mu.
func (s *Server) nextTS() string {
	s.tsCounter++
	return fmt.Sprintf("%d.%06d", 1700000000+s.tsCounter/1000000, s.tsCounter%1000000)
}

// NewTS returns a fresh message ts (for building events by hand).
func (s *Server) NewTS() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.nextTS()
}

func (s *Server) nextID(prefix string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.seq++
	return fmt.Sprintf("%s%d", prefix, s.seq)
}

// addMessage records m. Callers hold s.mu.
func (s *Server) addMessage(m *Message) {
	s.messages = append(s.messages, m)
	s.byKey[m.Channel+"/"+m.TS] = m
}
