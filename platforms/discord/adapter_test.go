package discord

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/bwmarrin/discordgo"

	"github.com/secondme-bridge/secondme-bridge/platforms"
	"github.com/secondme-bridge/secondme-bridge/platforms/discord/discordtest"
)

func TestConnectReadyAndIntents(t *testing.T) {
	t.Parallel()
	srv := discordtest.New(t)
	a, _ := startAdapter(t, srv, nil)

	if a.Name() != "discord" {
		t.Errorf("Name() = %q", a.Name())
	}
	if got := a.Limits(); got != (platforms.Limits{MaxMessageChars: 2000, Dialect: platforms.DialectMarkdown, TypingInterval: 8 * time.Second, CommandNamesZH: &a.cmds.namesZH}) {
		t.Errorf("Limits() = %+v", got)
	}
	if zh := *a.Limits().CommandNamesZH; zh["link"] != "绑定" || zh["unlink"] != "解绑" || zh["help"] != "帮助" {
		t.Errorf("zh-CN command names = %v", zh)
	}
	ids := srv.Identifies()
	if len(ids) != 1 {
		t.Fatalf("identifies = %d, want 1", len(ids))
	}
	want := discordgo.IntentGuilds | discordgo.IntentGuildMessages | discordgo.IntentDirectMessages | discordgo.IntentMessageContent
	if ids[0].Intents != want {
		t.Errorf("intents = %d, want %d", ids[0].Intents, want)
	}
	if a.selfID() != srv.BotID() {
		t.Errorf("self id = %q, want %q", a.selfID(), srv.BotID())
	}
	waitFor(t, "a heartbeat", func() bool { return srv.Heartbeats() > 0 })
}

func TestRunStopsAndIsNotReadyAfter(t *testing.T) {
	t.Parallel()
	srv := discordtest.New(t)
	a, err := New(testConfig(srv), testLogger(t))
	mustNoErr(t, err, "New")
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx, newRecorder()) }()
	waitFor(t, "ready", a.Ready)
	if err := a.Run(ctx, newRecorder()); err == nil || !strings.Contains(err.Error(), "already started") {
		t.Errorf("second Run = %v, want already started", err)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Run = %v, want nil after cancel", err)
		}
	case <-time.After(waitTimeout):
		t.Fatal("Run did not return")
	}
	if a.Ready() {
		t.Error("Ready() after Run returned")
	}
}

func TestMessageContentIntentNotEnabled(t *testing.T) {
	t.Parallel()
	srv := discordtest.New(t, discordtest.WithoutMessageContentIntent())
	_, rec := startAdapter(t, srv, nil)

	ids := srv.Identifies()
	if len(ids) != 2 {
		t.Fatalf("identifies = %d, want 2 (refused with the intent, accepted without)", len(ids))
	}
	if ids[0].Intents&discordgo.IntentMessageContent == 0 || ids[1].Intents&discordgo.IntentMessageContent != 0 {
		t.Errorf("intents = %d then %d, want with then without MessageContent", ids[0].Intents, ids[1].Intents)
	}
	// Mentions still carry their content.
	m, err := srv.Mention(discordtest.DefaultGuildID, discordtest.DefaultChannelID, discordtest.DefaultUser, "still works")
	mustNoErr(t, err, "mention")
	if ev := rec.event(t, "msg:"+m.ID); ev.Text != "still works" {
		t.Errorf("text = %q", ev.Text)
	}
}

func TestRunFailsForGoodOnBadToken(t *testing.T) {
	t.Parallel()
	srv := discordtest.New(t)
	cfg := testConfig(srv)
	cfg.Token = "wrong-token"
	a, err := New(cfg, testLogger(t))
	mustNoErr(t, err, "New")
	ctx, cancel := context.WithTimeout(t.Context(), waitTimeout)
	defer cancel()
	err = a.Run(ctx, newRecorder())
	if err == nil || closeCode(err) != closeAuthenticationFailed {
		t.Fatalf("Run = %v, want close 4004", err)
	}
	if strings.Contains(err.Error(), "wrong-token") {
		t.Errorf("error leaks the token: %v", err)
	}
}

func TestResumeAfterDroppedConnection(t *testing.T) {
	t.Parallel()
	srv := discordtest.New(t)
	a, rec := startAdapter(t, srv, nil)

	srv.DropConnections()
	waitFor(t, "resumed", func() bool { return srv.Resumes() == 1 })
	waitFor(t, "ready again", a.Ready)
	ctx := waitCtx(t)
	mustNoErr(t, srv.WaitReady(ctx), "wait ready")
	m, err := srv.Mention(discordtest.DefaultGuildID, discordtest.DefaultChannelID, discordtest.DefaultUser, "after resume")
	mustNoErr(t, err, "mention")
	rec.event(t, "msg:"+m.ID)
	if n := len(srv.Identifies()); n != 1 {
		t.Errorf("identifies = %d, want 1 (resumed, not re-identified)", n)
	}
}

func TestNewValidatesConfig(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		cfg  Config
		want []string
	}{
		{"empty", Config{}, []string{"token is required", "application_id is required"}},
		{"bot prefix only", Config{Token: "Bot ", ApplicationID: "1"}, []string{"token is required"}},
		{"bad url", Config{Token: "t", ApplicationID: "1", APIURL: "ftp://x"}, []string{"api_url"}},
		{"relative url", Config{Token: "t", ApplicationID: "1", APIURL: "/api"}, []string{"api_url"}},
	} {
		_, err := New(tc.cfg, nil)
		if err == nil {
			t.Errorf("%s: New succeeded", tc.name)
			continue
		}
		for _, w := range tc.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s: error %q lacks %q", tc.name, err, w)
			}
		}
	}
	if _, err := New(Config{Token: "t", ApplicationID: "1"}, nil); err != nil {
		t.Errorf("minimal config: %v", err)
	}
}
