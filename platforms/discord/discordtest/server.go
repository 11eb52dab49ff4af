package discordtest

import (
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bwmarrin/discordgo"
)

// Defaults of a new Server.
const (
	DefaultToken     = "fake-discord-bot-token"
	DefaultBotID     = "100000000000000001"
	DefaultBotName   = "SecondMe"
	DefaultAppID     = "100000000000000002"
	DefaultGuildID   = "200000000000000001"
	DefaultChannelID = "200000000000000002"
	// DefaultLocale is the default guild's preferred locale.
	DefaultLocale = "en-US"
)

// DefaultUser is a human user for tests.
var DefaultUser = User{ID: "300000000000000001", Username: "alice", GlobalName: "Alice"}

// discordEpoch is the Discord snowflake epoch in Unix milliseconds.
const discordEpoch = 1420070400000

// User is a Discord user as the fake sees it.
type User struct {
	ID, Username, GlobalName string
	Bot                      bool
}

// DiscordUser returns u as a discordgo user.
func (u User) DiscordUser() *discordgo.User {
	return &discordgo.User{ID: u.ID, Username: u.Username, GlobalName: u.GlobalName, Bot: u.Bot}
}

// Channel is a channel known to the fake (returned by GET /channels/{id},
// sent in GUILD_CREATE when it belongs to a configured guild).
type Channel struct {
	ID, GuildID, ParentID, Name string
	Type                        discordgo.ChannelType
}

// Guild is a guild sent in GUILD_CREATE after READY.
type Guild struct {
	ID, Name, PreferredLocale string
	// Channels of the guild, threads included (Type 11/12 with ParentID).
	Channels []Channel
}

// Option configures a Server.
type Option func(*Server)

// WithApplicationID sets the application id.
func WithApplicationID(id string) Option { return func(s *Server) { s.appID = id } }

// WithGuild adds a guild (and its channels). Without any WithGuild the
// server has one guild, DefaultGuildID, with one text channel,
// DefaultChannelID.
func WithGuild(g Guild) Option { return func(s *Server) { s.guilds = append(s.guilds, g) } }

// WithoutMessageContentIntent simulates a Developer Portal where the
// privileged Message Content intent is off: an IDENTIFY asking for it is
// closed with 4014, and guild messages are dispatched without content unless
// they mention the bot.
func WithoutMessageContentIntent() Option { return func(s *Server) { s.noContent = true } }

// WithRateLimitWindow sets the window of RateLimit (default 1 s).
func WithRateLimitWindow(d time.Duration) Option { return func(s *Server) { s.window = d } }

// WithoutEcho stops the fake from dispatching the bot's own messages back:
// MESSAGE_CREATE for what the bot and its webhooks post in channels,
// MESSAGE_UPDATE for their edits (Discord does; the adapter must ignore
// them). Interaction responses are not echoed either way.
func WithoutEcho() Option { return func(s *Server) { s.noEcho = true } }

// Server is a fake Discord. Create it with New.
type Server struct {
	srv                          *httptest.Server
	token, botID, botName, appID string
	heartbeat, window            time.Duration
	noContent, noEcho            bool

	mu             sync.Mutex
	changed        chan struct{}
	closed         bool
	seq            int64
	guilds         []Guild
	channels       map[string]*Channel
	dms            map[string]string // user id → DM channel id
	messages       map[string]*Message
	order          []string
	userMsgs       map[string]*discordgo.Message
	calls          []Call
	lastCall       time.Time // when the last REST call arrived or ended
	inflight       int       // REST calls being received or answered
	callbacks      []Callback
	interactions   map[string]*interaction // by id
	byToken        map[string]*interaction
	commands       map[string][]*Command
	faults         []*fault
	limits         []*limit
	global         *globalLimit // WithGlobalLimit; nil: none
	edgeHeader     string       // WithEdgeHeader; "": none
	violations     []string
	hooks          map[string]*Webhook // channel webhooks by id (webhooks.go)
	hookOrder      []string
	noHooks        map[string]bool   // channels where webhooks answer 403
	noGuildHooks   map[string]bool   // guilds whose webhook listing answers 403
	files          map[string][]byte // CDN files by path (cdn.go)
	cdnHits        int
	identifies     []Identify
	resumes        int
	heartbeats     int
	sessions       map[string]int64 // session id → last sequence number
	sessionIntents map[string]discordgo.Intent
	sessionShards  map[string][2]int
	conns          map[*gwConn]bool
	// Sharding (shards.go).
	shards, maxConcurrency int
	identifyWindow         time.Duration
	identifyViolations     []string
}

// New starts a fake Discord on 127.0.0.1 and registers t.Cleanup(Close).
// It fails t if no port can be bound.
func New(t testing.TB, opts ...Option) *Server {
	t.Helper()
	s, err := Start(opts...)
	if err != nil {
		t.Fatalf("discordtest: %v", err)
	}
	t.Cleanup(s.Close)
	return s
}

// Start starts a fake Discord on 127.0.0.1 outside a test (the demo
// command uses it). The caller must Close it. It fails only when no port
// can be bound.
func Start(opts ...Option) (*Server, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("start fake discord: %w", err)
	}
	s := &Server{
		token: DefaultToken, botID: DefaultBotID, botName: DefaultBotName, appID: DefaultAppID,
		heartbeat: 41250 * time.Millisecond, window: time.Second,
		changed:  make(chan struct{}),
		channels: make(map[string]*Channel), dms: make(map[string]string),
		messages: make(map[string]*Message), userMsgs: make(map[string]*discordgo.Message),
		interactions: make(map[string]*interaction), byToken: make(map[string]*interaction),
		commands: make(map[string][]*Command),
		sessions: make(map[string]int64), sessionIntents: make(map[string]discordgo.Intent),
		sessionShards: make(map[string][2]int), shards: 1, maxConcurrency: 1, identifyWindow: 5 * time.Second,
		conns: make(map[*gwConn]bool),
	}
	for _, o := range opts {
		o(s)
	}
	if len(s.guilds) == 0 {
		s.guilds = []Guild{{ID: DefaultGuildID, Name: "Test Guild", PreferredLocale: DefaultLocale, Channels: []Channel{
			{ID: DefaultChannelID, GuildID: DefaultGuildID, Name: "general", Type: discordgo.ChannelTypeGuildText},
		}}}
	}
	for gi := range s.guilds {
		for ci := range s.guilds[gi].Channels {
			c := s.guilds[gi].Channels[ci]
			if c.GuildID == "" {
				c.GuildID = s.guilds[gi].ID
				s.guilds[gi].Channels[ci].GuildID = c.GuildID
			}
			s.channels[c.ID] = &c
		}
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/gw/", s.serveGateway)
	mux.HandleFunc("/attachments/", s.serveFile)
	mux.Handle("/api/v9/", http.HandlerFunc(s.serveAPI))
	s.srv = &httptest.Server{Listener: ln, Config: &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}}
	s.srv.Start()
	return s, nil
}

// URL is the server's base URL (http://127.0.0.1:PORT).
func (s *Server) URL() string { return s.srv.URL }

// APIURL is the REST base to put in the adapter's Config.APIURL.
func (s *Server) APIURL() string { return s.srv.URL + "/api/v9" }

// GatewayURL is the websocket URL GET /gateway returns.
func (s *Server) GatewayURL() string { return "ws" + strings.TrimPrefix(s.srv.URL, "http") + "/gw" }

// Token is the bot token the fake accepts.
func (s *Server) Token() string { return s.token }

// BotID is the bot user's id.
func (s *Server) BotID() string { return s.botID }

// AppID is the application id.
func (s *Server) AppID() string { return s.appID }

// Close closes every gateway connection and the HTTP server. It is
// idempotent.
func (s *Server) Close() {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return
	}
	s.closed = true
	conns := make([]*gwConn, 0, len(s.conns))
	for c := range s.conns {
		conns = append(conns, c)
	}
	s.notifyLocked()
	s.mu.Unlock()
	for _, c := range conns {
		c.kill()
	}
	s.srv.Close()
}

// Changed returns a channel that is closed at the next change the server
// records (a message created, edited or deleted, a REST call, a gateway
// event): a watcher re-reads the state and calls Changed again.
func (s *Server) Changed() <-chan struct{} {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.changed
}

// AddChannel registers a channel for GET /channels/{id} (and thread parent
// lookups) without announcing it on the gateway.
func (s *Server) AddChannel(c Channel) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.channels[c.ID] = &c
	s.notifyLocked()
}

// newIDLocked returns a new snowflake.
func (s *Server) newIDLocked() string {
	s.seq++
	ms := time.Now().UnixMilli() - discordEpoch
	return strconv.FormatInt(ms<<22|(s.seq&0x3fffff), 10)
}

// notifyLocked wakes every waiter.
func (s *Server) notifyLocked() {
	close(s.changed)
	s.changed = make(chan struct{})
}

func (s *Server) botUser() User { return User{ID: s.botID, Username: s.botName, Bot: true} }

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// writeError writes a Discord JSON error.
func writeError(w http.ResponseWriter, status, code int, msg string) {
	writeJSON(w, status, map[string]any{"message": msg, "code": code})
}
