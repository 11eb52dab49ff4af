package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/secondme-bridge/secondme-bridge/platforms"
	"github.com/secondme-bridge/secondme-bridge/platforms/slack"
	"github.com/secondme-bridge/secondme-bridge/store"
)

// wireSlackInstalls turns on the Slack install flow when
// slack.install.client_id is set: installs are kept in the store (tokens
// sealed), states are single-use through store.Dedupe, and the routes
// /slack/install and /slack/oauth/callback are mounted. p is any adapter;
// only Slack's is touched.
func (a *app) wireSlackInstalls(p platforms.Platform) error {
	s, ok := p.(*slack.Adapter)
	if !ok || !a.cfg.Slack.Install.Enabled() {
		return nil
	}
	ic := a.cfg.Slack.Install
	err := s.EnableInstalls(slack.InstallConfig{
		ClientID: ic.ClientID, ClientSecret: ic.ClientSecret.Value(), AuthorizeURL: ic.AuthorizeURL,
		PublicURL: a.cfg.HTTP.PublicURL, Store: newSlackInstalls(a.store.Installs(), a.logger), Once: a.store.Dedupe(),
	})
	if err != nil {
		return err
	}
	s.InstallRoutes(a.mux)
	return nil
}

// slackInstalls is slack.InstallStore on store.Installs.
type slackInstalls struct {
	st  store.Installs
	log *slog.Logger
	// warned holds the teams whose unreadable install was logged.
	warned *sync.Map
}

func newSlackInstalls(st store.Installs, log *slog.Logger) slackInstalls {
	return slackInstalls{st: st, log: log, warned: &sync.Map{}}
}

// GetInstall returns the install of team. An install no configured key
// opens (store.encryption_key changed without the old key in
// store.previous_encryption_keys, or tampering) counts as not installed,
// with one warning per team: the workspace installs the app again through
// /slack/install, and its deliveries are dropped meanwhile instead of
// being left to Slack's retries.
func (s slackInstalls) GetInstall(ctx context.Context, team string) (slack.Install, error) {
	in, err := s.st.GetInstall(ctx, slack.Name, team)
	if errors.Is(err, store.ErrUnseal) {
		if _, seen := s.warned.LoadOrStore(team, true); !seen {
			s.log.WarnContext(ctx, "slack install unreadable under the configured encryption keys; the workspace must install the app again (/slack/install)", "team", team)
		}
		return slack.Install{}, fmt.Errorf("get slack install: unreadable: %w", slack.ErrNoInstall)
	}
	if errors.Is(err, store.ErrNotFound) {
		return slack.Install{}, fmt.Errorf("get slack install: %w", slack.ErrNoInstall)
	}
	if err != nil {
		return slack.Install{}, err
	}
	return slack.Install{
		Team: team, BotUserID: in.BotUserID, BotToken: in.Token.AccessToken, RefreshToken: in.Token.RefreshToken,
		Expiry: in.Token.Expiry, Scopes: in.Token.Scopes, InstalledBy: in.InstalledBy,
	}, nil
}

func (s slackInstalls) PutInstall(ctx context.Context, in slack.Install) error {
	now := time.Now()
	created := now
	if old, err := s.st.GetInstall(ctx, slack.Name, in.Team); err == nil {
		created = old.CreatedAt
	}
	return s.st.PutInstall(ctx, store.Install{
		Platform: slack.Name, Workspace: in.Team, BotUserID: in.BotUserID, InstalledBy: in.InstalledBy,
		Token: store.Token{
			AccessToken: in.BotToken, RefreshToken: in.RefreshToken, TokenType: "bot",
			Expiry: in.Expiry, Scopes: in.Scopes,
		},
		CreatedAt: created, UpdatedAt: now,
	})
}

func (s slackInstalls) DeleteInstall(ctx context.Context, team string) error {
	if err := s.st.DeleteInstall(ctx, slack.Name, team); err != nil && !errors.Is(err, store.ErrNotFound) {
		return err
	}
	return nil
}
