package slack

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/secondme-bridge/secondme-bridge/internal/reqdeadline"
	"github.com/secondme-bridge/secondme-bridge/platforms"
)

// Transport modes.
const (
	ModeSocket = "socket"
	ModeHTTP   = "http"
)

// DefaultAPIURL is Slack's Web API base.
const DefaultAPIURL = "https://slack.com/api/"

// defaultHTTPTimeout bounds every Web API call (slack-go's default client
// has no timeout).
const defaultHTTPTimeout = 15 * time.Second

// Config configures the adapter. Secrets (BotToken, AppToken, SigningSecret)
// never appear in logs or errors.
type Config struct {
	// Mode is "socket" (the default) or "http".
	Mode string
	// BotToken is the bot token (xoxb-…), always required.
	BotToken string
	// AppToken is the app-level token (xapp-…) with connections:write,
	// required in socket mode.
	AppToken string
	// SigningSecret verifies Slack's requests, required in http mode.
	SigningSecret string
	// APIURL is the Web API base, default "https://slack.com/api/"; a
	// trailing slash is added when missing.
	APIURL string
	// NativeStreaming enables chat.startStream/appendStream/stopStream
	// (the config layer defaults it to true).
	NativeStreaming bool
	// MaxAttachmentBytes bounds the bytes read of one attached text file
	// (bridge.max_attachment_bytes); 0: attach.DefaultMaxBytes.
	MaxAttachmentBytes int64
	// HTTPClient is used for every Web API and response_url call; default a
	// client with a 15s timeout.
	HTTPClient *http.Client
	// Install, when set, lets any workspace install the app through OAuth
	// v2 (see InstallConfig); BotToken is then optional and serves its own
	// workspace only.
	Install *InstallConfig
	// SuggestedPrompts returns the prompts (at most four are used) pinned
	// at the top of a user's Messages tab when they open it, in the
	// user's locale ("" when unknown); nil offers none.
	SuggestedPrompts func(locale string) []SuggestedPrompt
	// PingInterval is how long Socket Mode waits for Slack's pings before
	// reconnecting (default 30s; tests lower it).
	PingInterval time.Duration
	// Commands is the bridge's command set (bridge/commands.Specs, passed
	// by cmd/secondme-bridge): the /secondme subcommands and the message
	// shortcuts understood are derived from it. Empty: every subcommand
	// reads as "help" and no shortcut is understood.
	Commands []platforms.CommandSpec
}

func (c Config) mode() string {
	if c.Mode == "" {
		return ModeSocket
	}
	return c.Mode
}

func (c Config) apiURL() string {
	u := c.APIURL
	if u == "" {
		u = DefaultAPIURL
	}
	if !strings.HasSuffix(u, "/") {
		u += "/"
	}
	return u
}

// httpClient is the Web API client: c.HTTPClient or one with
// defaultHTTPTimeout, its timeout enforced through each request's context
// (reqdeadline: Client.Timeout over a wrapped transport would cost two
// goroutines per call in flight).
func (c Config) httpClient() *http.Client {
	if c.HTTPClient != nil {
		return reqdeadline.Client(c.HTTPClient)
	}
	return reqdeadline.Client(&http.Client{Timeout: defaultHTTPTimeout})
}

// Validate reports every problem with c in one error.
func (c Config) Validate() error {
	var errs []error
	mode := c.mode()
	if mode != ModeSocket && mode != ModeHTTP {
		errs = append(errs, fmt.Errorf("slack.mode %q: must be %q or %q", c.Mode, ModeSocket, ModeHTTP))
	}
	if c.Install != nil {
		errs = append(errs, c.Install.validate()...)
	}
	switch {
	case c.BotToken == "" && c.Install != nil:
		// Installs only: every workspace's token comes from the flow.
	case c.BotToken == "":
		errs = append(errs, errors.New("slack.bot_token: required"))
	case !strings.HasPrefix(c.BotToken, "xoxb-"):
		errs = append(errs, errors.New("slack.bot_token: must be a bot token (xoxb-…)"))
	}
	if mode == ModeSocket {
		switch {
		case c.AppToken == "":
			errs = append(errs, errors.New("slack.app_token: required in socket mode"))
		case !strings.HasPrefix(c.AppToken, "xapp-"):
			errs = append(errs, errors.New("slack.app_token: must be an app-level token (xapp-…)"))
		}
	}
	if mode == ModeHTTP && c.SigningSecret == "" {
		errs = append(errs, errors.New("slack.signing_secret: required in http mode"))
	}
	if u, err := url.Parse(c.apiURL()); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		errs = append(errs, fmt.Errorf("slack.api_url %q: must be an absolute http(s) URL", c.APIURL))
	}
	if c.PingInterval < 0 {
		errs = append(errs, errors.New("slack.ping_interval: must not be negative"))
	}
	return errors.Join(errs...)
}
