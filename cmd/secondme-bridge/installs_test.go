package main

import (
	"errors"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/secondme-bridge/secondme-bridge/internal/config"
	"github.com/secondme-bridge/secondme-bridge/internal/testutil"
	"github.com/secondme-bridge/secondme-bridge/platforms/slack"
	"github.com/secondme-bridge/secondme-bridge/store"
)

// TestUnreadableSlackInstallIsNotInstalled: an install sealed under a key
// the bridge no longer has reads as "not installed" (the workspace installs
// again; its deliveries are dropped, not left to Slack's retries), with one
// warning per team however often it is read.
func TestUnreadableSlackInstallIsNotInstalled(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "bridge.db")
	cfg := config.Store{Driver: config.DriverBolt, Path: path, EncryptionKey: testKey}
	old, err := openStore(t.Context(), cfg, testLogger(t))
	if err != nil {
		t.Fatal(err)
	}
	in := store.Install{Platform: slack.Name, Workspace: "T1", BotUserID: "U1",
		Token: store.Token{AccessToken: "xoxb-old", TokenType: "bot"}, CreatedAt: time.Now(), UpdatedAt: time.Now()}
	if err := old.Installs().PutInstall(t.Context(), in); err != nil {
		t.Fatal(err)
	}
	_ = old.Close()

	cfg.EncryptionKey = "ICEiIyQlJicoKSorLC0uLzAxMjM0NTY3ODk6Ozw9Pj8=" // another key, the old one forgotten
	st, err := openStore(t.Context(), cfg, testLogger(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	logs := &testutil.SyncBuffer{}
	s := newSlackInstalls(st.Installs(), testutil.Logger(t, slog.LevelInfo, logs))
	for range 3 {
		if _, err := s.GetInstall(t.Context(), "T1"); !errors.Is(err, slack.ErrNoInstall) {
			t.Fatalf("GetInstall of an unreadable install = %v, want ErrNoInstall", err)
		}
	}
	if n := strings.Count(logs.String(), "slack install unreadable"); n != 1 {
		t.Errorf("%d warnings for one unreadable install read 3 times, want 1:\n%s", n, logs)
	}
	if _, err := s.GetInstall(t.Context(), "T2"); !errors.Is(err, slack.ErrNoInstall) {
		t.Errorf("GetInstall of a team never installed = %v, want ErrNoInstall", err)
	}
	if strings.Contains(logs.String(), "xoxb-old") {
		t.Errorf("the logs hold the install's token:\n%s", logs)
	}
}
