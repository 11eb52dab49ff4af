package config

import (
	"fmt"
	"net"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/secondme-bridge/secondme-bridge/store"
)

// Validate checks the whole configuration and returns an *Error listing
// every problem, in file order, or nil. It checks required keys, URL
// shapes, the encryption key, durations, numbers and enums, the settings of
// each enabled platform, that at least one platform is enabled, and that no
// required key still holds a placeholder of config.example.yaml. Settings
// of a disabled platform are not checked. Messages never contain secrets.
func (c Config) Validate() error {
	v := validator{ph: placeholders()}

	v.hostPort("http.listen", c.HTTP.Listen)
	if v.required("http.public_url", c.HTTP.PublicURL) {
		v.url("http.public_url", c.HTTP.PublicURL, "http", "https")
	}
	v.positive("http.shutdown_timeout", c.HTTP.ShutdownTimeout)
	if c.HTTP.AdminListen != "" {
		v.hostPort("http.admin_listen", c.HTTP.AdminListen)
		if c.HTTP.AdminListen == c.HTTP.Listen {
			v.add("http.admin_listen", "must differ from http.listen (%q): the admin listener is a second port", c.HTTP.Listen)
		}
	}

	switch c.Store.Driver {
	case DriverBolt:
		v.required("store.path", c.Store.Path)
	case DriverRedis:
		if v.required("store.redis_url", c.Store.RedisURL.Value()) {
			v.redisURL("store.redis_url", c.Store.RedisURL.Value())
		}
		if i := strings.IndexByte(c.Store.KeyPrefix, '{'); i >= 0 && strings.IndexByte(c.Store.KeyPrefix[i+1:], '}') <= 0 {
			v.add("store.key_prefix", "a '{' must open a non-empty Redis hash tag closed by '}', got %q", c.Store.KeyPrefix)
		}
	default:
		v.oneOf("store.driver", c.Store.Driver, DriverBolt, DriverRedis)
	}
	if v.required("store.encryption_key", c.Store.EncryptionKey.Value()) {
		v.encryptionKey("store.encryption_key", c.Store.EncryptionKey.Value())
	}
	for i, k := range c.Store.PreviousEncryptionKeys {
		v.encryptionKey(fmt.Sprintf("store.previous_encryption_keys[%d]", i), k.Value())
	}

	if v.required("secondme.api_url", c.SecondMe.APIURL) {
		v.url("secondme.api_url", c.SecondMe.APIURL, "http", "https")
	}
	if v.required("secondme.oauth.authorize_url", c.SecondMe.OAuth.AuthorizeURL) {
		v.url("secondme.oauth.authorize_url", c.SecondMe.OAuth.AuthorizeURL, "http", "https")
	}
	v.required("secondme.oauth.client_id", c.SecondMe.OAuth.ClientID)
	v.required("secondme.oauth.client_secret", c.SecondMe.OAuth.ClientSecret.Value())
	v.required("secondme.app_id", c.SecondMe.AppID)
	if c.SecondMe.MaxTokens < 0 {
		v.add("secondme.max_tokens", "must be 0 (server default) or more, got %d", c.SecondMe.MaxTokens)
	}
	v.positive("secondme.request_timeout", c.SecondMe.RequestTimeout)
	v.positive("secondme.stream_idle_timeout", c.SecondMe.StreamIdleTimeout)
	v.positive("secondme.stream_timeout", c.SecondMe.StreamTimeout)

	if c.Discord.Enabled {
		c.Discord.validate(&v)
	}
	v.oneOf("slack.mode", c.Slack.Mode, SlackModeSocket, SlackModeHTTP)
	if c.Slack.Enabled {
		c.Slack.validate(&v)
	}
	if !c.Discord.Enabled && !c.Slack.Enabled {
		v.add("", "no platform is enabled: set discord.enabled or slack.enabled (or both) to true")
	}

	v.positive("bridge.edit_interval", c.Bridge.EditInterval)
	v.positive("bridge.session_ttl", c.Bridge.SessionTTL)
	v.positiveInt("bridge.max_input_chars", c.Bridge.MaxInputChars)
	v.positiveInt("bridge.max_attachment_bytes", c.Bridge.MaxAttachmentBytes)
	v.oneOf("bridge.reply_as", c.Bridge.ReplyAs, ReplyAsAvatar, ReplyAsBot)
	v.positiveInt("bridge.queue_size", c.Bridge.QueueSize)
	v.positiveInt("bridge.user_rate_limit", c.Bridge.UserRateLimit)
	v.positive("bridge.link_ttl", c.Bridge.LinkTTL)

	v.oneOf("log.level", c.Log.Level, "debug", "info", "warn", "error")
	v.oneOf("log.format", c.Log.Format, "text", "json")
	return v.ps.err("invalid config")
}

func (d Discord) validate(v *validator) {
	if v.required("discord.token", d.Token.Value()) && strings.HasPrefix(d.Token.Value(), "Bot ") {
		v.add("discord.token", `must be the bare token, without the "Bot " prefix`)
	}
	if _, _, ok := d.ShardCount(); !ok {
		v.add("discord.shards", "must be empty (one connection per replica), auto, or a shard count from 1 to %d, got %q", maxShards, d.Shards)
	}
	if d.ShardLeaseTTL < time.Second {
		v.add("discord.shard_lease_ttl", "must be at least 1s, got %s", d.ShardLeaseTTL)
	}
	if d.GlobalRate < 1 || d.GlobalRate > maxDiscordGlobalRate {
		v.add("discord.global_rate", "must be from 1 to %d requests per second (Discord's default is %d), got %d",
			maxDiscordGlobalRate, DefaultDiscordGlobalRate, d.GlobalRate)
	}
	if v.required("discord.application_id", d.ApplicationID) {
		v.snowflake("discord.application_id", d.ApplicationID)
	}
	if v.required("discord.api_url", d.APIURL) {
		v.url("discord.api_url", d.APIURL, "http", "https")
	}
	for i, id := range d.AllowedGuilds {
		v.snowflake(fmt.Sprintf("discord.allowed_guilds[%d]", i), id)
	}
	for i, id := range d.AllowedChannels {
		v.snowflake(fmt.Sprintf("discord.allowed_channels[%d]", i), id)
	}
	if d.CommandGuild != "" {
		v.snowflake("discord.command_guild", d.CommandGuild)
	}
}

func (s Slack) validate(v *validator) {
	if s.Install.Enabled() {
		v.required("slack.install.client_secret", s.Install.ClientSecret.Value())
		if v.required("slack.install.authorize_url", s.Install.AuthorizeURL) {
			v.url("slack.install.authorize_url", s.Install.AuthorizeURL, "http", "https")
		}
		if b := s.BotToken.Value(); b != "" && b != v.ph["slack.bot_token"] {
			v.prefix("slack.bot_token", b, "xoxb-", "a bot token")
		}
	} else {
		if s.Install.ClientSecret.Value() != "" {
			v.add("slack.install.client_id", "required when slack.install.client_secret is set")
		}
		if v.required("slack.bot_token", s.BotToken.Value()) {
			v.prefix("slack.bot_token", s.BotToken.Value(), "xoxb-", "a bot token")
		}
	}
	switch s.Mode {
	case SlackModeSocket:
		if v.required("slack.app_token", s.AppToken.Value()) {
			v.prefix("slack.app_token", s.AppToken.Value(), "xapp-", "an app-level token")
		}
	case SlackModeHTTP:
		v.required("slack.signing_secret", s.SigningSecret.Value())
	}
	if v.required("slack.api_url", s.APIURL) {
		v.url("slack.api_url", s.APIURL, "http", "https")
	}
	if n := utf8.RuneCountInString(s.AppName); n == 0 || n > 35 || strings.TrimSpace(s.AppName) == "" {
		v.add("slack.app_name", "must be 1 to 35 characters (Slack's limit for an app name), got %q", s.AppName)
	}
}

// validator collects problems. Its checks never echo a secret: only keys
// whose values are not secret have their value quoted.
type validator struct {
	ps problems
	ph map[string]string
}

func (v *validator) add(key, format string, args ...any) { v.ps.add(key, format, args...) }

// required reports an empty value or a leftover placeholder, and returns
// true when the value is present and real, so that further checks run.
func (v *validator) required(key, val string) bool {
	if val == "" {
		how := envName(key)
		if isSecret(fieldTypeAt(key)) {
			how += " or " + envName(key) + "_FILE"
		}
		v.add(key, "is required (set it in the file or with %s)", how)
		return false
	}
	if p, ok := v.ph[key]; ok && (val == p || strings.Contains(val, "CHANGE-ME")) {
		v.add(key, "still the placeholder from config.example.yaml")
		return false
	}
	return true
}

func (v *validator) url(key, raw string, schemes ...string) {
	u, err := url.Parse(raw)
	if err != nil || !slices.Contains(schemes, u.Scheme) || u.Host == "" {
		v.add(key, "must be an absolute %s URL, got %q", strings.Join(schemes, " or "), raw)
		return
	}
	if u.RawQuery != "" || u.Fragment != "" {
		v.add(key, "must not have a query or fragment, got %q", raw)
	}
}

// redisURL checks the shape only; the value may hold a password, so it is
// never quoted.
func (v *validator) redisURL(key, raw string) {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "redis" && u.Scheme != "rediss") || u.Hostname() == "" {
		v.add(key, "must be a redis:// or rediss:// URL with a host; Sentinel and Cluster are chosen with query options (value not shown: it may hold a password)")
	}
}

// encryptionKey checks the key as the store will parse it (store.ParseKey,
// whose errors never contain the key).
func (v *validator) encryptionKey(key, val string) {
	if _, err := store.ParseKey(val); err != nil {
		v.add(key, "%v (generate one with: openssl rand -base64 32)", err)
	}
}

func (v *validator) hostPort(key, val string) {
	_, port, err := net.SplitHostPort(val)
	if err != nil {
		v.add(key, `must be host:port or :port (e.g. ":8080"), got %q`, val)
		return
	}
	if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 {
		v.add(key, "has an invalid port %q", port)
	}
}

func (v *validator) positive(key string, d time.Duration) {
	if d <= 0 {
		v.add(key, "must be a duration greater than 0, got %s", d)
	}
}

func (v *validator) positiveInt(key string, n int) {
	if n <= 0 {
		v.add(key, "must be greater than 0, got %d", n)
	}
}

func (v *validator) oneOf(key, val string, allowed ...string) {
	if !slices.Contains(allowed, val) {
		v.add(key, "must be one of %s, got %q", strings.Join(allowed, ", "), val)
	}
}

func (v *validator) snowflake(key, val string) {
	if _, err := strconv.ParseUint(val, 10, 64); err != nil {
		v.add(key, "must be a Discord id (digits only), got %q", val)
	}
}

func (v *validator) prefix(key, val, prefix, what string) {
	if !strings.HasPrefix(val, prefix) {
		v.add(key, "must be %s starting with %q", what, prefix)
	}
}
