package config

import (
	"encoding/base64"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestValidateProblems(t *testing.T) {
	t.Parallel()
	key16 := base64.StdEncoding.EncodeToString(make([]byte, 16))
	tests := []struct {
		name   string
		modify func(c *Config)
		want   []string
	}{
		{
			name: "bad URLs",
			modify: func(c *Config) {
				c.HTTP.PublicURL = "bridge.test"
				c.SecondMe.APIURL = "ftp://x"
				c.Discord.APIURL = "http://"
			},
			want: []string{
				`http.public_url: must be an absolute http or https URL, got "bridge.test"`,
				`secondme.api_url: must be an absolute http or https URL, got "ftp://x"`,
				`discord.api_url: must be an absolute http or https URL, got "http://"`,
			},
		},
		{
			name: "missing secrets",
			modify: func(c *Config) {
				c.SecondMe.OAuth.ClientSecret = ""
				c.Discord.Token = ""
				c.Slack.SigningSecret = ""
			},
			want: []string{
				"secondme.oauth.client_secret: is required (set it in the file or with SECONDME_BRIDGE_SECONDME_OAUTH_CLIENT_SECRET or SECONDME_BRIDGE_SECONDME_OAUTH_CLIENT_SECRET_FILE)",
				"discord.token: is required (set it in the file or with SECONDME_BRIDGE_DISCORD_TOKEN or SECONDME_BRIDGE_DISCORD_TOKEN_FILE)",
				"slack.signing_secret: is required (set it in the file or with SECONDME_BRIDGE_SLACK_SIGNING_SECRET or SECONDME_BRIDGE_SLACK_SIGNING_SECRET_FILE)",
			},
		},
		{
			name:   "wrong key length",
			modify: func(c *Config) { c.Store.EncryptionKey = Secret(key16) },
			want:   []string{"store.encryption_key: parse encryption key: decoded to 16 bytes, want 32 (generate one with: openssl rand -base64 32)"},
		},
		{
			name:   "key not base64",
			modify: func(c *Config) { c.Store.EncryptionKey = "not base64!" },
			want:   []string{"store.encryption_key: parse encryption key: not base64 (want base64 of 32 bytes): illegal base64 data at input byte 3 (generate one with: openssl rand -base64 32)"},
		},
		{
			name: "redis",
			modify: func(c *Config) {
				c.Store.Driver = DriverRedis
				c.Store.RedisURL = "http://user:hunter2@host:6379"
				c.Store.KeyPrefix = "bridge{:"
			},
			want: []string{
				"store.redis_url: must be a redis:// or rediss:// URL with a host; Sentinel and Cluster are chosen with query options (value not shown: it may hold a password)",
				`store.key_prefix: a '{' must open a non-empty Redis hash tag closed by '}', got "bridge{:"`,
			},
		},
		{
			name:   "redis missing",
			modify: func(c *Config) { c.Store.Driver = DriverRedis },
			want:   []string{"store.redis_url: is required (set it in the file or with SECONDME_BRIDGE_STORE_REDIS_URL or SECONDME_BRIDGE_STORE_REDIS_URL_FILE)"},
		},
		{
			name: "enums and numbers",
			modify: func(c *Config) {
				c.Store.Driver = "sqlite"
				c.Slack.Mode = "rtm"
				c.Log.Level = "verbose"
				c.Log.Format = "xml"
				c.Bridge.QueueSize = 0
				c.Bridge.EditInterval = -1
				c.HTTP.ShutdownTimeout = 0
				c.SecondMe.MaxTokens = -5
				c.HTTP.Listen = "8080"
				c.Bridge.ReplyAs = "user"
			},
			want: []string{
				`http.listen: must be host:port or :port (e.g. ":8080"), got "8080"`,
				"http.shutdown_timeout: must be a duration greater than 0, got 0s",
				`store.driver: must be one of bolt, redis, got "sqlite"`,
				"secondme.max_tokens: must be 0 (server default) or more, got -5",
				`slack.mode: must be one of socket, http, got "rtm"`,
				"bridge.edit_interval: must be a duration greater than 0, got -1ns",
				`bridge.reply_as: must be one of avatar, bot, got "user"`,
				"bridge.queue_size: must be greater than 0, got 0",
				`log.level: must be one of debug, info, warn, error, got "verbose"`,
				`log.format: must be one of text, json, got "xml"`,
			},
		},
		{
			name: "platform details",
			modify: func(c *Config) {
				c.Discord.Token = "Bot abc"
				c.Discord.ApplicationID = "my-app"
				c.Discord.AllowedChannels = []string{"1", "general"}
				c.Slack.Mode = SlackModeSocket
				c.Slack.BotToken = "xoxp-user"
				c.Slack.AppToken = "CHANGE-ME-please"
			},
			want: []string{
				`discord.token: must be the bare token, without the "Bot " prefix`,
				`discord.application_id: must be a Discord id (digits only), got "my-app"`,
				`discord.allowed_channels[1]: must be a Discord id (digits only), got "general"`,
				`slack.bot_token: must be a bot token starting with "xoxb-"`,
				"slack.app_token: still the placeholder from config.example.yaml",
			},
		},
		{
			name: "discord shards",
			modify: func(c *Config) {
				c.Discord.Shards = "many"
				c.Discord.ShardLeaseTTL = 500 * time.Millisecond
			},
			want: []string{
				`discord.shards: must be empty (one connection per replica), auto, or a shard count from 1 to 4096, got "many"`,
				"discord.shard_lease_ttl: must be at least 1s, got 500ms",
			},
		},
		{
			name:   "discord global rate zero",
			modify: func(c *Config) { c.Discord.GlobalRate = 0 },
			want:   []string{"discord.global_rate: must be from 1 to 100000 requests per second (Discord's default is 50), got 0"},
		},
		{
			name:   "discord global rate huge",
			modify: func(c *Config) { c.Discord.GlobalRate = 1 << 40 },
			want:   []string{"discord.global_rate: must be from 1 to 100000 requests per second (Discord's default is 50), got 1099511627776"},
		},
		{
			name:   "discord shards zero",
			modify: func(c *Config) { c.Discord.Shards = "0" },
			want:   []string{`discord.shards: must be empty (one connection per replica), auto, or a shard count from 1 to 4096, got "0"`},
		},
		{
			name: "slack install",
			modify: func(c *Config) {
				c.Slack.Install.ClientID = "1.2"
				c.Slack.Install.AuthorizeURL = "slack.com/authorize"
			},
			want: []string{
				"slack.install.client_secret: is required (set it in the file or with SECONDME_BRIDGE_SLACK_INSTALL_CLIENT_SECRET or SECONDME_BRIDGE_SLACK_INSTALL_CLIENT_SECRET_FILE)",
				`slack.install.authorize_url: must be an absolute http or https URL, got "slack.com/authorize"`,
			},
		},
		{
			name:   "slack install secret without id",
			modify: func(c *Config) { c.Slack.Install.ClientSecret = "s" },
			want:   []string{"slack.install.client_id: required when slack.install.client_secret is set"},
		},
		{
			name:   "no platform",
			modify: func(c *Config) { c.Discord.Enabled = false; c.Slack.Enabled = false; c.Discord.Token = "" },
			want:   []string{"no platform is enabled: set discord.enabled or slack.enabled (or both) to true"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			cfg := validConfig(t)
			tt.modify(&cfg)
			err := cfg.Validate()
			if err == nil {
				t.Fatal("Validate succeeded")
			}
			if diff := cmp.Diff(tt.want, problemsOf(t, err)); diff != "" {
				t.Errorf("problems (-want +got):\n%s", diff)
			}
			if strings.Contains(err.Error(), "hunter2") || strings.Contains(err.Error(), "Bot abc") {
				t.Errorf("error leaks a secret: %v", err)
			}
		})
	}
}

func TestValidateDisabledPlatformIgnored(t *testing.T) {
	t.Parallel()
	cfg := validConfig(t)
	cfg.Discord = Discord{Enabled: false, Token: "CHANGE-ME-discord-bot-token", ApplicationID: "nope"}
	if err := cfg.Validate(); err != nil {
		t.Fatalf("disabled discord section was validated: %v", err)
	}
}

// TestValidateShardsAndInstalls: the accepted discord.shards values, and a
// Slack config with installs and no bot token.
func TestValidateShardsAndInstalls(t *testing.T) {
	t.Parallel()
	for _, v := range []string{"", "auto", "1", "16", " 4 "} {
		cfg := validConfig(t)
		cfg.Discord.Shards = v
		if err := cfg.Validate(); err != nil {
			t.Errorf("discord.shards %q: %v", v, err)
		}
		sharded, n, ok := cfg.Discord.ShardCount()
		if !ok || sharded != (strings.TrimSpace(v) != "") || (v == "16" && n != 16) || (v == "auto" && n != 0) {
			t.Errorf("ShardCount(%q) = %v %d %v", v, sharded, n, ok)
		}
	}
	cfg := validConfig(t)
	cfg.Slack.BotToken = ""
	cfg.Slack.Install = SlackInstall{ClientID: "1.2", ClientSecret: "s", AuthorizeURL: "https://slack.com/oauth/v2/authorize"}
	if err := cfg.Validate(); err != nil {
		t.Errorf("installs without a bot token: %v", err)
	}
}

func TestValidateAdminListenAndAppName(t *testing.T) {
	t.Parallel()
	c := Default()
	c.HTTP.PublicURL = "https://bridge.test"
	c.Store.EncryptionKey = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="
	c.SecondMe.OAuth.ClientID, c.SecondMe.OAuth.ClientSecret = "id", "secret"
	c.Slack.Enabled, c.Slack.BotToken, c.Slack.AppToken = true, "xoxb-1", "xapp-1"
	if err := c.Validate(); err != nil {
		t.Fatalf("base config: %v", err)
	}
	for name, tc := range map[string]struct {
		mutate func(*Config)
		want   string
	}{
		"admin not host:port":  {func(c *Config) { c.HTTP.AdminListen = "9090" }, "http.admin_listen: must be host:port"},
		"admin same as listen": {func(c *Config) { c.HTTP.AdminListen = c.HTTP.Listen }, "http.admin_listen: must differ from http.listen"},
		"app name too long":    {func(c *Config) { c.Slack.AppName = strings.Repeat("x", 36) }, "slack.app_name: must be 1 to 35 characters"},
		"app name blank":       {func(c *Config) { c.Slack.AppName = "  " }, "slack.app_name: must be 1 to 35 characters"},
	} {
		cc := c
		tc.mutate(&cc)
		if err := cc.Validate(); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: Validate = %v, want %q", name, err, tc.want)
		}
	}
	c.HTTP.AdminListen = "127.0.0.1:9090"
	if err := c.Validate(); err != nil {
		t.Errorf("a valid admin listener: %v", err)
	}
}
