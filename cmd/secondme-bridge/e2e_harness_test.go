package main

import (
	"cmp"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/secondme-bridge/secondme-bridge/bridge/linking/linkingtest"
	"github.com/secondme-bridge/secondme-bridge/platforms/discord/discordtest"
	"github.com/secondme-bridge/secondme-bridge/platforms/slack/slacktest"
	"github.com/secondme-bridge/secondme-bridge/secondme/secondmetest"
)

// e2eOptions choose what an end-to-end bridge talks to.
type e2eOptions struct {
	discord bool
	slack   bool
	// slackMode is "socket" (default) or "http".
	slackMode string
	// redisURL selects the Redis store (with a unique prefix) instead of
	// bolt.
	redisURL string
	// keyPrefix, when set, is the Redis key prefix (replicas of one
	// deployment share it); default a unique one.
	keyPrefix string
	// extra is appended to the bridge: section (indented two spaces), e.g.
	// "  edit_interval: 200ms\n".
	extra string
	// discordExtra is appended to the discord: section, slackExtra to
	// the slack: one.
	discordExtra string
	slackExtra   string
	// replyAs is bridge.reply_as. The harness defaults to "bot" (today's
	// behaviour, which the tests written before reply_as check: a reply
	// referencing its trigger); the persona tests ask for "avatar", the
	// program's default.
	replyAs string
	// discordOptions configure the fake Discord (e.g.
	// discordtest.WithoutMessageContentIntent()).
	discordOptions []discordtest.Option
}

// e2e is the real program (the serve command, config → store → bridge →
// adapters) running in-process against the fake Discord, Slack and
// SecondMe.
type e2e struct {
	sm   *secondmetest.Server
	dc   *discordtest.Server
	sl   *slacktest.Server
	base string // the bridge's own http://127.0.0.1:port (also http.public_url)
	logs *syncBuffer
}

// slackSigningSecret is the signing secret of HTTP-mode end-to-end tests.
const slackSigningSecret = "e2e-signing-secret"

// startE2E writes a config pointing at fresh fakes, runs serve until the test
// ends, and waits until /readyz says every platform is connected.
func startE2E(t *testing.T, o e2eOptions) *e2e {
	t.Helper()
	e := &e2e{sm: secondmetest.New(t)}
	if o.discord {
		e.dc = discordtest.New(t, o.discordOptions...)
	}
	if o.slack {
		e.sl = slacktest.NewServer(t, slacktest.Options{})
	}
	// The OAuth redirect must come back to this process, so http.listen and
	// http.public_url name one port chosen up front. Another listener may
	// take that port before serve binds it: serve then starts again on a
	// new port.
	for attempt := 1; !e.serve(t, o, attempt < 3); attempt++ {
	}
	if code, rb := waitReady(t, e.base); code != http.StatusOK {
		t.Fatalf("/readyz = %d %+v; logs:\n%s", code, rb, e.logs)
	}
	if o.slack && o.slackMode == "http" {
		e.sl.DeliverOverHTTP(e.base, slackSigningSecret)
	}
	return e
}

// serve writes the config on a fresh port and runs serve until the test
// ends. It reports false, instead of failing, when the port was taken
// before serve could bind it and retry allows another attempt.
func (e *e2e) serve(t *testing.T, o e2eOptions, retry bool) bool {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	_ = ln.Close()
	e.base = "http://" + addr
	path := writeConfig(t, e.configYAML(t, o, addr))

	c, _, stderr := testCLI(nil)
	e.logs = stderr
	started := make(chan struct{})
	c.onStart = func(*app) { close(started) }
	ctx, cancel := context.WithCancel(context.WithoutCancel(t.Context()))
	exit := make(chan int, 1)
	go func() { exit <- c.run(ctx, []string{"serve", "--config", path}) }()
	select {
	case <-started:
	case code := <-exit:
		cancel()
		if retry && strings.Contains(stderr.String(), "address already in use") {
			t.Logf("port %s was taken before serve bound it; trying another", addr)
			return false
		}
		t.Fatalf("serve exited with %d before starting; logs:\n%s", code, stderr)
	case <-time.After(15 * time.Second):
		cancel()
		t.Fatalf("serve did not start; logs:\n%s", stderr)
	}
	t.Cleanup(func() {
		cancel()
		select {
		case code := <-exit:
			if code != exitOK {
				t.Errorf("serve exited with %d; logs:\n%s", code, stderr)
			}
		case <-time.After(15 * time.Second):
			t.Errorf("serve did not stop within 15s; logs:\n%s", stderr)
		}
	})
	return true
}

// followLink opens a /link URL as a user does: a link previewer (Slackbot,
// Discordbot) fetches it first, which must not burn it; then a browser
// opens it, checks that the confirmation page names the chat account
// (confirmWants), clicks Continue and follows every redirect (bridge → fake
// authorize page → bridge callback). It returns the final page.
func (e *e2e) followLink(t *testing.T, linkURL string, confirmWants ...string) (int, string) {
	t.Helper()
	if !strings.HasPrefix(linkURL, e.base+"/link/") {
		t.Fatalf("link URL %q is not under %s/link/", linkURL, e.base)
	}
	ctx := waitCtx(t)
	for _, agent := range []string{"Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)", "Mozilla/5.0 (compatible; Discordbot/2.0; +https://discordapp.com)"} {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, linkURL, nil)
		req.Header.Set("User-Agent", agent)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatalf("preview link: %v", err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		_ = resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("a link previewer got %d", resp.StatusCode)
		}
	}
	b := linkingtest.NewBrowser()
	confirm, end, err := b.Link(ctx, linkURL)
	if err != nil {
		t.Fatalf("follow link: %v", err)
	}
	for _, want := range append([]string{"Continue to SecondMe"}, confirmWants...) {
		if !strings.Contains(confirm.Body, want) {
			t.Errorf("confirmation page lacks %q:\n%s", want, confirm.Body)
		}
	}
	return end.Status, end.Body
}

// assertNoSecrets fails if the logs contain any credential of the fakes or
// a SecondMe token.
func (e *e2e) assertNoSecrets(t *testing.T) {
	t.Helper()
	logs := e.logs.String()
	secrets := []string{e.sm.ClientSecret(), testKey, "lba_at_", "lba_rt_", "lba_ac_"}
	if e.dc != nil {
		secrets = append(secrets, e.dc.Token())
	}
	if e.sl != nil {
		secrets = append(secrets, e.sl.BotToken(), e.sl.AppToken(), slackSigningSecret)
	}
	for _, s := range secrets {
		if strings.Contains(logs, s) {
			t.Errorf("logs contain secret %q", s)
		}
	}
}

// configYAML is the config of a bridge listening on addr (its public URL
// e.base) and talking to the fakes of e.
func (e *e2e) configYAML(t *testing.T, o e2eOptions, addr string) string {
	t.Helper()

	var b strings.Builder
	fmt.Fprintf(&b, "http:\n  listen: %q\n  public_url: %q\n  shutdown_timeout: 5s\n", addr, e.base)
	fmt.Fprintf(&b, "store:\n  path: DIR/bridge.db\n  encryption_key: %q\n", testKey)
	if o.redisURL != "" {
		prefix := o.keyPrefix
		if prefix == "" {
			prefix = uniquePrefix(t)
		}
		fmt.Fprintf(&b, "  driver: redis\n  redis_url: %q\n  key_prefix: %q\n", o.redisURL, prefix)
	}
	fmt.Fprintf(&b, "secondme:\n  api_url: %q\n  oauth:\n    authorize_url: %q\n    client_id: %q\n    client_secret: %q\n",
		e.sm.BaseURL(), e.sm.AuthorizeURL(), e.sm.ClientID(), e.sm.ClientSecret())
	if o.discord {
		fmt.Fprintf(&b, "discord:\n  enabled: true\n  token: %q\n  application_id: %q\n  api_url: %q\n%s",
			e.dc.Token(), e.dc.AppID(), e.dc.APIURL(), o.discordExtra)
	}
	if o.slack {
		fmt.Fprintf(&b, "slack:\n  enabled: true\n  bot_token: %q\n  api_url: %q\n", e.sl.BotToken(), e.sl.APIURL())
		if o.slackMode == "http" {
			fmt.Fprintf(&b, "  mode: http\n  signing_secret: %q\n", slackSigningSecret)
		} else {
			fmt.Fprintf(&b, "  app_token: %q\n", e.sl.AppToken())
		}
		b.WriteString(o.slackExtra)
	}
	fmt.Fprintf(&b, "bridge:\n  edit_interval: 100ms\n  reply_as: %s\n%s", cmp.Or(o.replyAs, "bot"), o.extra)
	fmt.Fprintf(&b, "log:\n  level: debug\n")
	return b.String()
}
