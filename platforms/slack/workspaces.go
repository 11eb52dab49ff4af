package slack

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	slackapi "github.com/slack-go/slack"
)

// Many workspaces: with Config.Install, any workspace can install the app
// through OAuth v2 (install.go); its bot token is kept in an InstallStore
// and every Web API call for that workspace uses it. Events, slash commands
// and interactions carry their team id, over Socket Mode (one app-level
// token serves every workspace) and HTTP alike. The single-workspace
// Config.BotToken keeps serving its own team as before.

// ErrNoInstall is returned by an InstallStore for a workspace that has no
// install.
var ErrNoInstall = errors.New("slack: workspace not installed")

// Install is a workspace's installation of the app.
type Install struct {
	Team      string
	BotUserID string
	BotToken  string
	// RefreshToken and Expiry are set when the app rotates its tokens.
	RefreshToken string
	Expiry       time.Time
	Scopes       []string
	InstalledBy  string
}

// InstallStore keeps installs, shared by the replicas (cmd backs it with
// store.Installs, tokens sealed at rest). Methods do I/O and are safe for
// concurrent use.
type InstallStore interface {
	// GetInstall returns the install of team, or an error wrapping
	// ErrNoInstall.
	GetInstall(ctx context.Context, team string) (Install, error)
	// PutInstall creates or replaces the install of in.Team.
	PutInstall(ctx context.Context, in Install) error
	// DeleteInstall removes the install of team; absent is not an error.
	DeleteInstall(ctx context.Context, team string) error
}

// OnceClaimer claims an id once across replicas (store.Dedupe): the first
// caller gets true. The install flow's states are single-use through it.
type OnceClaimer interface {
	Claim(ctx context.Context, id string, ttl time.Duration) (bool, error)
}

// installCacheTTL bounds how long a replica uses a workspace's token
// without reading the store again (an uninstall seen by another replica
// reaches it within this; Slack refuses the revoked token meanwhile).
const installCacheTTL = 30 * time.Second

// refreshBefore is how long before its expiry a rotating token is
// refreshed.
const refreshBefore = 5 * time.Minute

type wsEntry struct {
	api     *slackapi.Client
	token   string // the bot token behind api (file downloads); a secret
	id      identity
	fetched time.Time
	expiry  time.Time // of a rotating token (zero otherwise)
}

// fresh reports whether e may be used without reading the store again.
func (e wsEntry) fresh() bool {
	return time.Since(e.fetched) < installCacheTTL && (e.expiry.IsZero() || time.Until(e.expiry) >= refreshBefore)
}

// workspaces caches the clients of installed workspaces.
type workspaces struct {
	mu      sync.Mutex
	entries map[string]wsEntry
	refresh sync.Mutex // one token refresh at a time in this process
}

// ownTeam reports whether team is served by Config.BotToken.
func (a *Adapter) ownTeam(team string) bool {
	return a.cfg.BotToken != "" && (team == "" || team == a.identity().TeamID)
}

// apiFor returns the Web API client for team: the configured bot token's
// for its own team (and when installs are off), otherwise the installed
// workspace's.
func (a *Adapter) apiFor(ctx context.Context, team string) (*slackapi.Client, error) {
	if a.cfg.Install == nil || a.ownTeam(team) {
		return a.api, nil
	}
	e, err := a.workspace(ctx, team)
	if err != nil {
		return nil, err
	}
	return e.api, nil
}

// identityFor is the bot's identity in team.
func (a *Adapter) identityFor(ctx context.Context, team string) identity {
	if a.cfg.Install == nil || a.ownTeam(team) {
		return a.identity()
	}
	e, err := a.workspace(ctx, team)
	if err != nil {
		a.log.Warn("slack workspace not usable", "team", team, "err", err)
		return identity{TeamID: team}
	}
	return e.id
}

// workspace returns the cached entry of team, reading the store (and
// refreshing a rotating token about to expire) when it is stale.
func (a *Adapter) workspace(ctx context.Context, team string) (wsEntry, error) {
	if team == "" {
		return wsEntry{}, fmt.Errorf("slack workspace: no team: %w", ErrNoInstall)
	}
	a.ws.mu.Lock()
	e, ok := a.ws.entries[team]
	a.ws.mu.Unlock()
	if ok && e.fresh() {
		return e, nil
	}
	in, err := a.cfg.Install.Store.GetInstall(ctx, team)
	if err != nil {
		return wsEntry{}, fmt.Errorf("slack workspace %s: %w", team, err)
	}
	if in.RefreshToken != "" && !in.Expiry.IsZero() && time.Until(in.Expiry) < refreshBefore {
		if in, err = a.refreshInstall(ctx, team); err != nil {
			return wsEntry{}, err
		}
	}
	e = wsEntry{
		api:     newClient(Config{APIURL: a.cfg.APIURL, BotToken: in.BotToken}, a.cfg.httpClient(), a.log),
		token:   in.BotToken,
		id:      identity{UserID: in.BotUserID, TeamID: team},
		fetched: time.Now(),
		expiry:  in.Expiry,
	}
	a.ws.mu.Lock()
	a.ws.entries[team] = e
	a.ws.mu.Unlock()
	return e, nil
}

// refreshTimeout bounds a token refresh (the exchange and the store write).
const refreshTimeout = 30 * time.Second

// refreshInstall exchanges team's refresh token for a new token pair
// (oauth.v2.access, grant_type=refresh_token) and stores it. It reads the
// install again first (another replica may have refreshed it already), and
// again when the exchange fails (another replica may have spent the same
// refresh token a moment before): the replicas need no lock between them.
//
// Slack spends a rotating refresh token when it answers the exchange, so
// once begun the exchange and the store write run to the end (within
// refreshTimeout) even when the caller gives up: a pair lost then would
// leave only a spent refresh token, and the workspace locked out.
func (a *Adapter) refreshInstall(ctx context.Context, team string) (Install, error) {
	a.ws.refresh.Lock()
	defer a.ws.refresh.Unlock()
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), refreshTimeout)
	defer cancel()
	in, err := a.cfg.Install.Store.GetInstall(ctx, team)
	if err != nil {
		return Install{}, fmt.Errorf("refresh slack token of %s: %w", team, err)
	}
	if time.Until(in.Expiry) >= refreshBefore {
		return in, nil
	}
	res, err := a.oauthAccess(ctx, map[string]string{"grant_type": "refresh_token", "refresh_token": in.RefreshToken})
	if err != nil {
		// Another replica may have refreshed it at the same moment, with
		// the same refresh token: use what it stored.
		if now, gerr := a.cfg.Install.Store.GetInstall(ctx, team); gerr == nil && now.BotToken != in.BotToken && time.Until(now.Expiry) > 0 {
			return now, nil
		}
		return Install{}, fmt.Errorf("refresh slack token of %s: %w", team, err)
	}
	in.BotToken, in.RefreshToken, in.Expiry = res.AccessToken, res.RefreshToken, res.expiry()
	if err := a.cfg.Install.Store.PutInstall(ctx, in); err != nil {
		return Install{}, fmt.Errorf("refresh slack token of %s: %w", team, err)
	}
	a.log.Info("slack workspace token refreshed", "team", team)
	return in, nil
}

// forget drops team's cached client.
func (a *Adapter) forget(team string) {
	a.ws.mu.Lock()
	delete(a.ws.entries, team)
	a.ws.mu.Unlock()
}

// uninstalled handles app_uninstalled and tokens_revoked (bot tokens) for
// team: its install is deleted and its client forgotten. The configured
// bot token's own team has no install to delete.
func (a *Adapter) uninstalled(ctx context.Context, team, why string) {
	if a.cfg.Install == nil || team == "" || a.ownTeam(team) {
		a.log.Warn("slack app removed from the configured workspace; its bot token no longer works", "team", team, "event", why)
		return
	}
	a.forget(team)
	if err := a.cfg.Install.Store.DeleteInstall(ctx, team); err != nil {
		a.log.Error("delete slack install", "team", team, "err", err)
		return
	}
	a.log.Info("slack workspace uninstalled; its token is deleted", "team", team, "event", why)
}

// eventCtx is the context for work done while accepting a delivery: Run's,
// or a background one when Run is not serving.
func (a *Adapter) eventCtx() context.Context {
	if ctx, _, ok := a.sink(); ok {
		return ctx
	}
	return context.Background()
}

type teamKey struct{}

// withTeam records the workspace a user lookup is for.
func withTeam(ctx context.Context, team string) context.Context {
	return context.WithValue(ctx, teamKey{}, team)
}

func teamOf(ctx context.Context) string {
	t, _ := ctx.Value(teamKey{}).(string)
	return t
}

// admitTeam reports whether a delivery from team is for the bridge: its own
// team, or an installed workspace. A workspace without an install (it
// uninstalled the app) is acknowledged and dropped (acked true); when the
// store cannot tell, the delivery is left unacknowledged (acked false) for
// Slack to retry.
func (a *Adapter) admitTeam(ctx context.Context, team string, ack ackFunc) (known, acked bool) {
	if a.cfg.Install == nil || a.ownTeam(team) {
		return true, false
	}
	_, err := a.workspace(ctx, team)
	switch {
	case err == nil:
		return true, false
	case errors.Is(err, ErrNoInstall):
		a.log.Debug("slack delivery from a workspace without an install; dropped", "team", team)
		ack()
		return false, true
	default:
		a.log.Warn("slack workspace lookup failed; leaving the delivery to a Slack retry", "team", team, "err", err)
		return false, false
	}
}
