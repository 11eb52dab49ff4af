package storetest

import (
	"errors"
	"testing"
	"time"

	"github.com/secondme-bridge/secondme-bridge/store"
)

// testInstalls: put, get (tokens back in the clear), replace, per-workspace
// and per-platform keys, delete, ErrNotFound, a missing workspace refused.
func testInstalls(t *testing.T, s store.Store) {
	ctx := t.Context()
	in := s.Installs()
	if _, err := in.GetInstall(ctx, "slack", "T1"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("GetInstall of nothing = %v, want ErrNotFound", err)
	}
	now := time.Now().UTC().Truncate(time.Second)
	a := store.Install{
		Platform: "slack", Workspace: "T1", BotUserID: "UBOT1", InstalledBy: "U1",
		Token:     store.Token{AccessToken: "xoxb-1", RefreshToken: "xoxe-1", TokenType: "bot", Expiry: now.Add(12 * time.Hour), Scopes: []string{"chat:write"}},
		CreatedAt: now, UpdatedAt: now,
	}
	b := a
	b.Workspace, b.BotUserID, b.Token.AccessToken, b.Token.RefreshToken = "T2", "UBOT2", "xoxb-2", ""
	for _, x := range []store.Install{a, b} {
		if err := in.PutInstall(ctx, x); err != nil {
			t.Fatalf("PutInstall: %v", err)
		}
	}
	got, err := in.GetInstall(ctx, "slack", "T1")
	if err != nil || got.Token.AccessToken != "xoxb-1" || got.Token.RefreshToken != "xoxe-1" || got.BotUserID != "UBOT1" ||
		!got.Token.Expiry.Equal(a.Token.Expiry) || got.InstalledBy != "U1" || len(got.Token.Scopes) != 1 {
		t.Errorf("GetInstall T1 = %+v, %v", got, err)
	}
	if got, err := in.GetInstall(ctx, "slack", "T2"); err != nil || got.Token.AccessToken != "xoxb-2" || got.Token.RefreshToken != "" {
		t.Errorf("GetInstall T2 = %+v, %v", got, err)
	}
	if _, err := in.GetInstall(ctx, "discord", "T1"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("install of another platform = %v, want ErrNotFound", err)
	}
	a.Token.AccessToken = "xoxb-1-rotated"
	if err := in.PutInstall(ctx, a); err != nil {
		t.Fatal(err)
	}
	if got, _ := in.GetInstall(ctx, "slack", "T1"); got.Token.AccessToken != "xoxb-1-rotated" {
		t.Errorf("after replace: %q", got.Token.AccessToken)
	}
	if err := in.DeleteInstall(ctx, "slack", "T1"); err != nil {
		t.Fatal(err)
	}
	if err := in.DeleteInstall(ctx, "slack", "T1"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("second DeleteInstall = %v, want ErrNotFound", err)
	}
	if _, err := in.GetInstall(ctx, "slack", "T1"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("GetInstall after delete = %v", err)
	}
	if _, err := in.GetInstall(ctx, "slack", "T2"); err != nil {
		t.Errorf("T2 gone with T1: %v", err)
	}
	if err := in.PutInstall(ctx, store.Install{Platform: "slack"}); err == nil {
		t.Error("PutInstall without a workspace succeeded")
	}
}
