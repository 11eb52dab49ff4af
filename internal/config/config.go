package config

import (
	"strconv"
	"strings"
	"time"
)

// Config is the whole configuration file. Its YAML keys are fixed: operators,
// docs and tests rely on them (see config.example.yaml, which documents every
// key with its default).
type Config struct {
	HTTP     HTTP     `yaml:"http"`
	Store    Store    `yaml:"store"`
	SecondMe SecondMe `yaml:"secondme"`
	Discord  Discord  `yaml:"discord"`
	Slack    Slack    `yaml:"slack"`
	Bridge   Bridge   `yaml:"bridge"`
	Log      Log      `yaml:"log"`
}

// HTTP configures the one HTTP server (health, metrics, OAuth callback,
// Slack HTTP events).
type HTTP struct {
	// Listen is the listen address, host:port (default ":8080").
	Listen string `yaml:"listen"`
	// PublicURL is the externally reachable base URL of the server
	// (required). Load strips a trailing slash.
	PublicURL string `yaml:"public_url"`
	// ShutdownTimeout bounds the graceful shutdown (default 15s).
	ShutdownTimeout time.Duration `yaml:"shutdown_timeout"`
	// AdminListen, when set (host:port), moves /metrics, the detailed
	// /readyz and /debug/pprof to a second listener; the public one then
	// serves only the link routes, /healthz and a /readyz without error
	// text. Default "" (one listener).
	AdminListen string `yaml:"admin_listen"`
}

// Store drivers.
const (
	DriverBolt  = "bolt"
	DriverRedis = "redis"
)

// Store configures the state store.
type Store struct {
	// Driver is DriverBolt (default) or DriverRedis.
	Driver string `yaml:"driver"`
	// Path is the bbolt file (bolt only; default ./secondme-bridge.db).
	Path string `yaml:"path"`
	// RedisURL is the Redis URL (redis only). It is a Secret because it may
	// carry a password.
	RedisURL Secret `yaml:"redis_url"`
	// KeyPrefix prefixes every Redis key (redis only; default
	// "secondme-bridge:").
	KeyPrefix string `yaml:"key_prefix"`
	// EncryptionKey is base64 of 32 random bytes (required): the AES-256-GCM
	// key that encrypts OAuth tokens at rest.
	EncryptionKey Secret `yaml:"encryption_key"`
	// PreviousEncryptionKeys are keys that may still open records sealed
	// before store.encryption_key changed (base64 of 32 bytes each).
	// Records opened with one are sealed under EncryptionKey when next
	// written, or all at once by `secondme-bridge rekey`.
	PreviousEncryptionKeys SecretList `yaml:"previous_encryption_keys"`
}

// SecondMe configures the SecondMe API client.
type SecondMe struct {
	APIURL            string        `yaml:"api_url"`
	OAuth             OAuth         `yaml:"oauth"`
	AppID             string        `yaml:"app_id"`
	Model             string        `yaml:"model"`      // "" = server default
	MaxTokens         int           `yaml:"max_tokens"` // 0 = server default
	RequestTimeout    time.Duration `yaml:"request_timeout"`
	StreamIdleTimeout time.Duration `yaml:"stream_idle_timeout"`
	StreamTimeout     time.Duration `yaml:"stream_timeout"` // overall cap on one reply
}

// OAuth is the SecondMe OAuth application.
type OAuth struct {
	AuthorizeURL string `yaml:"authorize_url"`
	ClientID     string `yaml:"client_id"`
	ClientSecret Secret `yaml:"client_secret"`
}

// Discord configures the Discord adapter.
type Discord struct {
	Enabled         bool     `yaml:"enabled"`
	Token           Secret   `yaml:"token"`
	ApplicationID   string   `yaml:"application_id"`
	APIURL          string   `yaml:"api_url"`
	AllowedGuilds   []string `yaml:"allowed_guilds"`   // empty = every guild
	AllowedChannels []string `yaml:"allowed_channels"` // empty = every channel
	AutoThread      bool     `yaml:"auto_thread"`
	CommandGuild    string   `yaml:"command_guild"` // "" = global commands
	SyncCommands    bool     `yaml:"sync_commands"`
	// Shards is "" (one unsharded connection per replica), "auto" or a
	// shard count; see ShardCount.
	Shards string `yaml:"shards"`
	// ShardLeaseTTL is the TTL of the shard leases (sharded only).
	ShardLeaseTTL time.Duration `yaml:"shard_lease_ttl"`
	// GlobalRate is the bot's global REST limit, requests per second
	// (Discord's default 50; more for a bot Discord raised).
	GlobalRate int `yaml:"global_rate"`
}

// DefaultDiscordGlobalRate is discord.global_rate's default: Discord's
// global limit of 50 requests per second per bot.
const DefaultDiscordGlobalRate = 50

// maxDiscordGlobalRate bounds discord.global_rate, far beyond any limit
// Discord grants, so a typo cannot switch the bot's budget off.
const maxDiscordGlobalRate = 100000

// ShardsAuto is the discord.shards value that takes Discord's count.
const ShardsAuto = "auto"

// ShardCount reads discord.shards: sharded is false when it is empty;
// n is 0 for "auto" (Discord's recommendation), otherwise the count. ok is
// false for any other value.
func (d Discord) ShardCount() (sharded bool, n int, ok bool) {
	switch v := strings.TrimSpace(d.Shards); v {
	case "":
		return false, 0, true
	case ShardsAuto:
		return true, 0, true
	default:
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > maxShards {
			return false, 0, false
		}
		return true, n, true
	}
}

// maxShards bounds discord.shards: far beyond any bot (Discord asks for
// one shard per 1,000 guilds at most).
const maxShards = 4096

// Slack connection modes.
const (
	SlackModeSocket = "socket"
	SlackModeHTTP   = "http"
)

// Slack configures the Slack adapter.
type Slack struct {
	Enabled         bool   `yaml:"enabled"`
	Mode            string `yaml:"mode"` // SlackModeSocket (default) or SlackModeHTTP
	BotToken        Secret `yaml:"bot_token"`
	AppToken        Secret `yaml:"app_token"`
	SigningSecret   Secret `yaml:"signing_secret"`
	APIURL          string `yaml:"api_url"` // Load makes it end with "/"
	NativeStreaming bool   `yaml:"native_streaming"`
	// Install lets any workspace install the app (OAuth v2); off while
	// Install.ClientID is empty.
	Install SlackInstall `yaml:"install"`
	AppName string       `yaml:"app_name"` // the app's name in the manifest (default "SecondMe")
}

// SlackInstall configures the Slack install flow (/slack/install).
type SlackInstall struct {
	ClientID     string `yaml:"client_id"`
	ClientSecret Secret `yaml:"client_secret"`
	AuthorizeURL string `yaml:"authorize_url"`
}

// Enabled reports whether the install flow is configured.
func (i SlackInstall) Enabled() bool { return i.ClientID != "" }

// Bridge configures the bridge's behaviour.
type Bridge struct {
	EditInterval  time.Duration `yaml:"edit_interval"`
	SessionTTL    time.Duration `yaml:"session_ttl"`
	SystemPrompt  string        `yaml:"system_prompt"`
	MaxInputChars int           `yaml:"max_input_chars"`
	// MaxAttachmentBytes bounds the bytes read of one attached text file;
	// a longer file is cut there, with a note.
	MaxAttachmentBytes int `yaml:"max_attachment_bytes"`
	// ReplyAs is who a reply is posted as: ReplyAsAvatar (the user's
	// SecondMe name and picture, where the platform allows) or ReplyAsBot.
	ReplyAs       string        `yaml:"reply_as"`
	QueueSize     int           `yaml:"queue_size"`      // per conversation
	UserRateLimit int           `yaml:"user_rate_limit"` // messages per minute per user
	LinkTTL       time.Duration `yaml:"link_ttl"`
	InstanceID    string        `yaml:"instance_id"` // "" = hostname + random suffix, chosen at start
	// TextsDir is a directory of <language>.yaml files replacing built-in
	// chat and link-page texts ("" = none; see internal/i18n).
	TextsDir string `yaml:"texts_dir"`
}

// Values of bridge.reply_as.
const (
	ReplyAsAvatar = "avatar"
	ReplyAsBot    = "bot"
)

// Log configures logging.
type Log struct {
	Level  string `yaml:"level"`  // debug|info|warn|error
	Format string `yaml:"format"` // text|json
}

// Default returns the configuration with every default filled in and every
// required key empty.
func Default() Config {
	return Config{
		HTTP: HTTP{Listen: ":8080", ShutdownTimeout: 15 * time.Second},
		Store: Store{
			Driver:    DriverBolt,
			Path:      "./secondme-bridge.db",
			KeyPrefix: "secondme-bridge:",
		},
		SecondMe: SecondMe{
			APIURL:            "https://api.mindverse.com/gate/lab",
			OAuth:             OAuth{AuthorizeURL: "https://go.second.me/oauth/"},
			AppID:             "secondme-bridge",
			RequestTimeout:    30 * time.Second,
			StreamIdleTimeout: 60 * time.Second,
			StreamTimeout:     10 * time.Minute,
		},
		Discord: Discord{APIURL: "https://discord.com/api/v9", ShardLeaseTTL: 15 * time.Second, GlobalRate: DefaultDiscordGlobalRate},
		Slack: Slack{
			Mode:            SlackModeSocket,
			APIURL:          "https://slack.com/api/",
			NativeStreaming: true,
			Install:         SlackInstall{AuthorizeURL: "https://slack.com/oauth/v2/authorize"},
			AppName:         "SecondMe",
		},
		Bridge: Bridge{
			EditInterval:       time.Second,
			SessionTTL:         168 * time.Hour,
			MaxInputChars:      4000,
			MaxAttachmentBytes: 100 * 1024,
			ReplyAs:            ReplyAsAvatar,
			QueueSize:          8,
			UserRateLimit:      20,
			LinkTTL:            10 * time.Minute,
		},
		Log: Log{Level: "info", Format: "text"},
	}
}

// placeholders are the values config.example.yaml ships for required keys.
// Validate reports a key still holding one (or any value containing
// "CHANGE-ME"). A test keeps this table and the example file in step.
func placeholders() map[string]string {
	return map[string]string{
		"http.public_url":              "https://bridge.example.com",
		"store.encryption_key":         "CHANGE-ME-base64-of-32-random-bytes",
		"secondme.oauth.client_id":     "CHANGE-ME-secondme-client-id",
		"secondme.oauth.client_secret": "CHANGE-ME-secondme-client-secret",
		"discord.token":                "CHANGE-ME-discord-bot-token",
		"discord.application_id":       "CHANGE-ME-discord-application-id",
		"slack.bot_token":              "xoxb-CHANGE-ME",
		"slack.app_token":              "xapp-CHANGE-ME",
		"slack.signing_secret":         "CHANGE-ME-slack-signing-secret",
	}
}

// normalize applies the harmless rewrites Load promises: no trailing slash on
// base URLs that get paths appended, a trailing slash on slack.api_url (which
// slack-go requires).
func (c *Config) normalize() {
	c.HTTP.PublicURL = strings.TrimRight(c.HTTP.PublicURL, "/")
	c.SecondMe.APIURL = strings.TrimRight(c.SecondMe.APIURL, "/")
	c.Discord.APIURL = strings.TrimRight(c.Discord.APIURL, "/")
	if c.Slack.APIURL != "" && !strings.HasSuffix(c.Slack.APIURL, "/") {
		c.Slack.APIURL += "/"
	}
}
