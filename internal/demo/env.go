package demo

import (
	"context"
	"fmt"
	"net/http"
	"strings"

	"github.com/secondme-bridge/secondme-bridge/bridge/linking/linkingtest"
	"github.com/secondme-bridge/secondme-bridge/platforms/discord/discordtest"
	"github.com/secondme-bridge/secondme-bridge/secondme/secondmetest"
)

// EncryptionKey is the demo store's encryption key (base64 of 32 bytes).
// The demo's store is a throw-away file in a temporary directory.
const EncryptionKey = "ZGVtby1vbmx5LWtleTogbm90IGEgc2VjcmV0ISEhISE="

// Where the demo conversation happens.
const (
	GuildID   = discordtest.DefaultGuildID
	ChannelID = discordtest.DefaultChannelID
)

// User is the demo's Discord user, who types on the page.
var User = discordtest.DefaultUser

// Env is the demo's world: a fake SecondMe whose avatar answers every
// message (AvatarReply) and a fake Discord with one guild and channel.
type Env struct {
	SM *secondmetest.Server
	DC *discordtest.Server
}

// Start starts the fakes on 127.0.0.1. The caller must Close the Env.
func Start() (*Env, error) {
	sm, err := secondmetest.Start(secondmetest.Options{})
	if err != nil {
		return nil, fmt.Errorf("start demo: %w", err)
	}
	dc, err := discordtest.Start()
	if err != nil {
		sm.Close()
		return nil, fmt.Errorf("start demo: %w", err)
	}
	sm.AddUser(secondmetest.User{ID: AvatarUserID, Name: AvatarName})
	sm.SetAuthorizeDecision(secondmetest.AuthorizeDecision{UserID: AvatarUserID})
	sm.SetStreamHandler(avatarScript)
	return &Env{SM: sm, DC: dc}, nil
}

// Close stops both fakes. Stop the bridge first, or its Discord adapter
// tries to reconnect.
func (e *Env) Close() {
	e.DC.Close()
	e.SM.Close()
}

// ConfigYAML is the bridge config of the demo: the HTTP server on listen
// (host:port) with public URL http://listen, a bolt store at dbPath, and
// SecondMe and Discord pointed at the fakes. Logs are at warn level unless
// verbose.
func (e *Env) ConfigYAML(listen, dbPath string, verbose bool) string {
	level := "warn"
	if verbose {
		level = "debug"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "http:\n  listen: %q\n  public_url: %q\n  shutdown_timeout: 10s\n", listen, "http://"+listen)
	fmt.Fprintf(&b, "store:\n  driver: bolt\n  path: %q\n  encryption_key: %q\n", dbPath, EncryptionKey)
	fmt.Fprintf(&b, "secondme:\n  api_url: %q\n  oauth:\n    authorize_url: %q\n    client_id: %q\n    client_secret: %q\n",
		e.SM.BaseURL(), e.SM.AuthorizeURL(), e.SM.ClientID(), e.SM.ClientSecret())
	fmt.Fprintf(&b, "discord:\n  enabled: true\n  token: %q\n  application_id: %q\n  api_url: %q\n",
		e.DC.Token(), e.DC.AppID(), e.DC.APIURL())
	// The demo page draws the bot's replies threaded to the question;
	// answers under the avatar's identity (webhook messages) are not drawn
	// yet, so the demo keeps the bot's identity.
	fmt.Fprintf(&b, "bridge:\n  edit_interval: 250ms\n  reply_as: bot\n")
	fmt.Fprintf(&b, "log:\n  level: %s\n", level)
	return b.String()
}

// WaitConnected waits until the bridge's Discord adapter has identified on
// the fake gateway.
func (e *Env) WaitConnected(ctx context.Context) error {
	if err := e.DC.WaitReady(ctx); err != nil {
		return fmt.Errorf("wait for the bridge to connect to discord: %w", err)
	}
	return nil
}

// LinkUser links the demo user the way a person would: /link in the
// channel, then the link button's URL opened in a browser (a cookie jar)
// that clicks Continue on the confirmation page and follows the redirects
// (bridge → fake SecondMe authorize page → bridge callback), until the
// bridge confirms "Linked as" on Discord.
func (e *Env) LinkUser(ctx context.Context, locale string) error {
	in, err := e.SlashCommand(User, ChannelID, "link", locale)
	if err != nil {
		return fmt.Errorf("link demo user: %w", err)
	}
	orig, err := e.DC.WaitMessage(ctx, func(m discordtest.Message) bool {
		return m.InteractionID == in.ID && len(m.Buttons) > 0 && m.Buttons[0].URL != ""
	})
	if err != nil {
		return fmt.Errorf("link demo user: no link button: %w", err)
	}
	page, err := linkingtest.Follow(ctx, orig.Buttons[0].URL)
	if err != nil {
		return fmt.Errorf("link demo user: %w", err)
	}
	if page.Status != http.StatusOK || !strings.Contains(page.Body, AvatarName) {
		return fmt.Errorf("link demo user: unexpected link page (%d): %.200q", page.Status, page.Body)
	}
	if _, err := e.DC.WaitMessage(ctx, func(m discordtest.Message) bool {
		return m.InteractionID == in.ID && strings.Contains(m.Content, AvatarName)
	}); err != nil {
		return fmt.Errorf("link demo user: no confirmation on discord: %w", err)
	}
	return nil
}

// SlashCommand runs /name (no options) as u in channel, with the user's
// client locale (e.g. "en-US", "zh-CN").
func (e *Env) SlashCommand(u discordtest.User, channel, name, locale string) (discordtest.Interaction, error) {
	in, err := e.DC.SendInteraction(discordtest.Interaction{
		GuildID: GuildID, ChannelID: channel, User: u, Locale: locale,
		Data: map[string]any{"id": "demo-command-" + name, "name": name, "type": 1, "options": []any{}},
	})
	if err != nil {
		return in, fmt.Errorf("run /%s: %w", name, err)
	}
	return in, nil
}

// LinkURL runs /link as u with locale and returns the link button's URL
// (not opened), for tests of the link pages. The bridge allows a user a
// few links per ten minutes: use a new user for each.
func (e *Env) LinkURL(ctx context.Context, u discordtest.User, locale string) (string, error) {
	in, err := e.SlashCommand(u, ChannelID, "link", locale)
	if err != nil {
		return "", err
	}
	orig, err := e.DC.WaitMessage(ctx, func(m discordtest.Message) bool {
		return m.InteractionID == in.ID && len(m.Buttons) > 0 && m.Buttons[0].URL != ""
	})
	if err != nil {
		return "", fmt.Errorf("get link url: no link button: %w", err)
	}
	return orig.Buttons[0].URL, nil
}
