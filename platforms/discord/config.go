package discord

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/bwmarrin/discordgo"
	"github.com/gorilla/websocket"

	"github.com/secondme-bridge/secondme-bridge/internal/reqdeadline"
	"github.com/secondme-bridge/secondme-bridge/platforms"
)

// DefaultAPIURL is Discord's REST API base, the default of Config.APIURL.
const DefaultAPIURL = "https://discord.com/api/v9"

const defaultHTTPTimeout = 20 * time.Second

// Config configures the Discord adapter (the discord section of the
// bridge's configuration file).
type Config struct {
	// Token is the bot token from the Developer Portal (with or without the
	// "Bot " prefix). Required.
	Token string
	// ApplicationID is the application (client) id. Required by New and
	// SyncCommands.
	ApplicationID string
	// APIURL is the REST base every call and the gateway lookup go to.
	// Default DefaultAPIURL.
	APIURL string
	// AllowedGuilds and AllowedChannels restrict the guilds and channels the
	// bot answers in (empty = all). A thread is allowed when the thread or
	// its parent channel is listed. Direct messages are not restricted.
	AllowedGuilds, AllowedChannels []string
	// NotHereText, if set, returns the private answer (in the user's
	// locale, e.g. "zh-CN") to a slash or message command used in a guild
	// or channel outside AllowedGuilds/AllowedChannels: the adapter answers
	// it at once and does not hand the command to the bridge. Nil leaves
	// such commands unanswered (Discord then shows "The application did
	// not respond"). It must not block.
	NotHereText func(locale string) string
	// AutoThread answers a channel mention in a thread opened on it: the
	// event asks for the thread (Event.WantsThread) and the bridge opens
	// it through OpenThread once the message is admitted and the user
	// linked, so an unlinked, rate-limited or duplicate mention opens none.
	AutoThread bool
	// CommandGuild registers the commands in one guild (instant, for
	// testing) instead of globally.
	CommandGuild string
	// SyncCommands bulk-overwrites the commands when Run starts.
	SyncCommands bool
	// Commands is the bridge's command set (bridge/commands.Specs, passed
	// by cmd/secondme-bridge): the application commands registered and the
	// interactions understood are derived from it. Empty: no commands.
	Commands []platforms.CommandSpec
	// GlobalRate is the bot's global REST limit in requests per second,
	// the rate and burst of the bot budget every channel message and edit
	// draws from (interaction answers have their own budget, as Discord
	// exempts them). 0: DefaultGlobalRate; negative is an error.
	GlobalRate int
	// MaxInputChars is the longest text the /ask and /note options accept
	// (the bridge's bridge.max_input_chars), so Discord stops a longer one
	// in the input box. 0 or more than Discord's 6000: 6000.
	MaxInputChars int
	// MaxAttachmentBytes bounds the bytes read of one attached text file
	// (bridge.max_attachment_bytes); 0: attach.DefaultMaxBytes.
	MaxAttachmentBytes int64
	// HTTPClient is an optional base client; its Transport is wrapped by the
	// APIURL rewriter. Default: a client with a 20 s timeout.
	HTTPClient *http.Client
	// Sharding, when set, divides the gateway into shards shared by the
	// replicas (see Sharding). Nil: one unsharded connection per replica.
	Sharding *Sharding
	// Dialer is an optional websocket dialer for the gateway (tests, TLS
	// settings, proxies). Default websocket.DefaultDialer.
	Dialer *websocket.Dialer
}

// validate reports every problem of c at once. needApp says whether the
// application id is required.
func (c Config) validate(needApp bool) error {
	var errs []error
	if strings.TrimSpace(strings.TrimPrefix(c.Token, "Bot ")) == "" {
		errs = append(errs, errors.New("token is required"))
	}
	if needApp && strings.TrimSpace(c.ApplicationID) == "" {
		errs = append(errs, errors.New("application_id is required"))
	}
	if c.MaxAttachmentBytes < 0 {
		errs = append(errs, errors.New("max_attachment_bytes must not be negative"))
	}
	if c.APIURL != "" {
		if _, err := parseAPIURL(c.APIURL); err != nil {
			errs = append(errs, err)
		}
	}
	if c.GlobalRate < 0 {
		errs = append(errs, fmt.Errorf("global_rate %d: want a positive number of requests per second (0: %d)", c.GlobalRate, DefaultGlobalRate))
	}
	if sh := c.Sharding; sh != nil {
		if sh.Count < 0 {
			errs = append(errs, fmt.Errorf("shards %d: want auto (0) or a positive number", sh.Count))
		}
		if sh.Claimer == nil || sh.Gate == nil {
			errs = append(errs, errors.New("sharding needs a shard claimer and an identify gate"))
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("invalid discord config: %w", errors.Join(errs...))
	}
	return nil
}

// parseAPIURL parses an api_url and returns it with a trailing slash.
func parseAPIURL(raw string) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("api_url: %w", err)
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("api_url %q: want an absolute http(s) URL", raw)
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return nil, fmt.Errorf("api_url %q: must not have a query or fragment", raw)
	}
	if !strings.HasSuffix(u.Path, "/") {
		u.Path += "/"
		u.RawPath = ""
	}
	return u, nil
}

// botToken returns the token with the "Bot " prefix discordgo needs.
func (c Config) botToken() string {
	t := strings.TrimSpace(c.Token)
	if strings.HasPrefix(t, "Bot ") {
		return t
	}
	return "Bot " + t
}

// httpClient builds the REST client: the base client with its transport
// wrapped by the APIURL rewriter and, under it, the wire gate that keeps
// the calls leaving the process within the global limit (wireGate).
func (c Config) httpClient() (*http.Client, *wireGate, error) {
	apiURL := c.APIURL
	if apiURL == "" {
		apiURL = DefaultAPIURL
	}
	base, err := parseAPIURL(apiURL)
	if err != nil {
		return nil, nil, err
	}
	client := &http.Client{Timeout: defaultHTTPTimeout}
	if c.HTTPClient != nil {
		cp := *c.HTTPClient
		client = &cp
		if client.Timeout == 0 {
			client.Timeout = defaultHTTPTimeout
		}
	}
	next := client.Transport
	if next == nil {
		next = http.DefaultTransport
	}
	gate := newWireGate(next, base.Path, c.globalRate())
	client.Transport = &baseRewriter{from: discordgo.EndpointAPI, to: base, next: gate}
	// The timeout through each request's context: Client.Timeout over the
	// rewriter would cost two goroutines per call in flight.
	return reqdeadline.Client(client), gate, nil
}

// newSession builds a discordgo session that talks to c.APIURL, never
// retries a 429 and never reconnects by itself (the adapter does). It
// returns the wire gate of the session's REST client too.
func newSession(c Config) (*discordgo.Session, *wireGate, error) {
	client, gate, err := c.httpClient()
	if err != nil {
		return nil, nil, err
	}
	s, err := discordgo.New(c.botToken())
	if err != nil {
		return nil, nil, fmt.Errorf("create discord session: %w", err)
	}
	s.Client = client
	s.ShouldRetryOnRateLimit = false
	s.ShouldReconnectOnError = false
	s.ShouldReconnectVoiceOnSessionError = false
	s.SyncEvents = true
	s.LogLevel = discordgo.LogWarning
	if c.Dialer != nil {
		s.Dialer = c.Dialer
	}
	if st := s.State; st != nil {
		st.TrackMembers = false
		st.TrackPresences = false
		st.TrackVoice = false
		st.TrackEmojis = false
		// discordgo v0.28.1 has no TrackStickers: its state never
		// tracks GUILD_STICKERS_UPDATE (stickers only come within a
		// guild's GUILD_CREATE, which v0.29.0 kept too).
		st.TrackRoles = false
		st.TrackThreadMembers = false
		st.MaxMessageCount = 0
	}
	return s, gate, nil
}
